/**
 * Roles and what they may do. A route names one permission; a role either has it or the
 * request is refused. Finer rules (only an owner makes owners, members manage only their own
 * tokens) live in the services.
 */
import type { Role } from '../store/index.ts';

export type { Role };

export const ROLES = ['owner', 'admin', 'member', 'auditor'] as const satisfies readonly Role[];

export const PERMISSIONS = {
  'org.read': ['owner', 'admin', 'member', 'auditor'],
  'org.update': ['owner', 'admin'],
  'people.read': ['owner', 'admin', 'member', 'auditor'],
  'people.manage': ['owner', 'admin'],
  'teams.read': ['owner', 'admin', 'member', 'auditor'],
  'teams.manage': ['owner', 'admin'],
  // Members list, create and revoke their own tokens; admins all of them; auditors only read.
  'tokens.read': ['owner', 'admin', 'member', 'auditor'],
  'tokens.write': ['owner', 'admin', 'member'],
  'invitations.read': ['owner', 'admin', 'auditor'],
  'invitations.manage': ['owner', 'admin'],
  'sso.read': ['owner', 'admin', 'auditor'],
  'sso.manage': ['owner', 'admin'],
  'audit.read': ['owner', 'admin', 'auditor'],
  // Secrets' metadata only; no role can read a value back.
  'secrets.read': ['owner', 'admin', 'auditor'],
  'secrets.manage': ['owner', 'admin'],
  'cells.read': ['owner', 'admin', 'auditor'],
  'cells.manage': ['owner', 'admin'],
  // Everyone sees the agents their scope lets them see; members create and change their own.
  'agents.read': ['owner', 'admin', 'member', 'auditor'],
  'agents.write': ['owner', 'admin', 'member'],
  'connections.read': ['owner', 'admin', 'member', 'auditor'],
  'connections.manage': ['owner', 'admin'],
  'grants.read': ['owner', 'admin', 'member', 'auditor'],
  'grants.manage': ['owner', 'admin'],
  'approvals.read': ['owner', 'admin', 'auditor'],
  'approvals.decide': ['owner', 'admin'],
  // The org-wide kill switch (one agent's stop is agents.write on that agent).
  'agents.stop_all': ['owner', 'admin'],
  // Talking to an agent (its scope decides which agents): not auditors, who change nothing.
  'runs.start': ['owner', 'admin', 'member'],
  // Runs of the agents one may see.
  'runs.read': ['owner', 'admin', 'member', 'auditor'],
  // Closing a person's flag on an agent's answer, with a note.
  'feedback.resolve': ['owner', 'admin'],
  // The compliance center: controls, evidence, reviews, registers, documents.
  'compliance.read': ['owner', 'admin', 'auditor'],
  'compliance.manage': ['owner', 'admin'],
  // The auditor's one write: a comment on an access review (auditor independence: nothing else).
  'compliance.comment': ['owner', 'admin', 'auditor'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function can(role: Role, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly Role[]).includes(role);
}

// Auditors sit outside the ladder: they read everything an admin reads and change nothing.
const RANK: Record<Role, number> = { owner: 3, admin: 2, member: 1, auditor: 1 };

/** Whether `actor` may hand out `target` (to a person or a token): never above their own role. */
export function mayAssign(actor: Role, target: Role): boolean {
  if (actor === 'owner') return true;
  if (actor === 'admin') return target !== 'owner';
  return actor === target && actor === 'member';
}

/** The weaker of two roles: a person's token never outranks the person. */
export function weaker(a: Role, b: Role): Role {
  if (a === b) return a;
  // Auditor and member are not comparable; read-only is the safe side.
  if (a === 'auditor' || b === 'auditor') return 'auditor';
  return RANK[a] <= RANK[b] ? a : b;
}
