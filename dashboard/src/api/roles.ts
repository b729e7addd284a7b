/** The role rules the dashboard mirrors from the server, to offer only what the server allows. */
import { ROLES } from './choices.ts';
import type { Role } from './wire.ts';

/** Same rule as the server: nobody hands out a role above their own (auditors hand out none). */
export function assignableRoles(actor: Role): Role[] {
  if (actor === 'owner') return [...ROLES];
  if (actor === 'admin') return ['admin', 'member', 'auditor'];
  if (actor === 'member') return ['member'];
  return [];
}

export function canManage(role: Role): boolean {
  return role === 'owner' || role === 'admin';
}

/** Same rule as the server's `runs.start`: owners, admins and members talk to agents; auditors read. */
export function canStartRuns(role: Role): boolean {
  return role !== 'auditor';
}
