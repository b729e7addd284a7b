/** A role in words: its label, the choices of a role select, its badge. */
import type { Role } from '../api/index.ts';

export const ROLE_LABELS: Record<Role, string> = {
  owner: 'Owner',
  admin: 'Admin',
  member: 'Member',
  auditor: 'Auditor',
};

export function roleOptions(roles: readonly Role[]): { value: Role; label: string }[] {
  return roles.map((r) => ({ value: r, label: ROLE_LABELS[r] }));
}

export function RoleBadge({ role }: { role: Role }) {
  return <span className={`badge badge-${role}`}>{ROLE_LABELS[role]}</span>;
}
