/**
 * The typed shape of every table, shared by the SQLite and PostgreSQL stores.
 * Timestamps are ISO-8601 UTC strings (sortable, identical on both engines); JSON is text.
 */
import type { Generated } from 'kysely';

export type Role = 'owner' | 'admin' | 'member' | 'auditor';

export interface OrgTable {
  id: string;
  slug: string;
  name: string;
  settings: string;
  created_at: string;
}

export interface UserTable {
  id: string;
  email: string;
  name: string;
  password_hash: string | null;
  created_at: string;
}

export interface MembershipTable {
  org_id: string;
  user_id: string;
  role: Role;
  created_at: string;
}

export interface TeamTable {
  id: string;
  org_id: string;
  name: string;
  created_at: string;
}

export interface TeamMemberTable {
  org_id: string;
  team_id: string;
  user_id: string;
  created_at: string;
}

export interface ApiTokenTable {
  id: string;
  org_id: string;
  /** The person the token acts for; null for a service token made by an operator. */
  user_id: string | null;
  name: string;
  role: Role;
  token_hash: string;
  created_by: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

export interface SessionTable {
  id: string;
  user_id: string;
  token_hash: string;
  csrf_token: string;
  method: 'password' | 'link' | 'sso' | 'invitation' | 'setup';
  created_at: string;
  expires_at: string;
}

/** One-time links: invitations and sign-in links. Only the hash of the secret is stored. */
export interface LinkTable {
  id: string;
  org_id: string;
  kind: 'invitation' | 'signin';
  email: string;
  role: Role | null;
  token_hash: string;
  created_by: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export interface SsoConfigTable {
  org_id: string;
  issuer: string;
  client_id: string;
  /** Sealed by the vault; never returned. */
  client_secret: string | null;
  /** Role given to a person who signs in by SSO without a membership; null means refuse them. */
  auto_provision_role: Role | null;
  updated_at: string;
}

export interface SsoStateTable {
  state_hash: string;
  org_id: string;
  code_verifier: string;
  nonce: string;
  created_at: string;
  expires_at: string;
}

export interface AuditEventTable {
  seq: Generated<number>;
  id: string;
  org_id: string | null;
  time: string;
  actor_type: 'person' | 'token' | 'agent' | 'system';
  actor_id: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: 'success' | 'failure' | 'denied';
  request_id: string | null;
  details: string;
}

export interface VaultKeyTable {
  org_id: string;
  /** The org's data key wrapped by the key-encryption key. */
  wrapped_key: string;
  kek_id: string;
  created_at: string;
}

export interface PlatformSettingTable {
  key: string;
  value: string;
}

export interface Database {
  orgs: OrgTable;
  users: UserTable;
  memberships: MembershipTable;
  teams: TeamTable;
  team_members: TeamMemberTable;
  api_tokens: ApiTokenTable;
  sessions: SessionTable;
  links: LinkTable;
  sso_configs: SsoConfigTable;
  sso_states: SsoStateTable;
  audit_events: AuditEventTable;
  vault_keys: VaultKeyTable;
  platform_settings: PlatformSettingTable;
}
