/**
 * The dashboard's only way to talk to the Paddock API. Cookie-authenticated: every change
 * (non-GET) carries the session's CSRF token in `x-csrf-token`; errors arrive as
 * `{"error":{"code","message"}}` and are thrown as ApiError.
 */

import type { z } from 'zod';
import type * as S from '../../src/server/schemas.ts';

// The API's shapes come from the server's own schemas (types only; nothing of the server is bundled).
export const ROLES = ['owner', 'admin', 'member', 'auditor'] as const;
export type Role = z.output<typeof S.RoleSchema>;
export type OrgSettings = z.output<typeof S.OrgSettingsSchema>;
export type Org = z.output<typeof S.OrgSchema>;
export type OrgWithRole = Org & { role: Role };
export type Session = z.output<typeof S.SessionSchema>;
export type Person = z.output<typeof S.PersonSchema>;
export type Token = z.output<typeof S.TokenSchema>;
export type Team = z.output<typeof S.TeamSchema>;
export type Invitation = z.output<typeof S.InvitationSchema>;
export type SsoSettings = z.output<typeof S.SsoSchema>;
export type AuditEvent = z.output<typeof S.AuditEventSchema>;
export type InvitationPeek = z.output<typeof S.InvitationPeekSchema>;
export type RemovalPreview = z.output<typeof S.RemovalPreviewSchema>;
export type RemovalChoice = z.input<typeof S.RemovalBodySchema>;
export type EgressRule = OrgSettings['egressAllowlist'][number];

// The Cell and Secret schemas live inside their route files (not exported): matching shapes by hand.
export const CELL_STATES = ['starting', 'ready', 'unhealthy', 'backoff', 'stopped'] as const;
export type CellState = (typeof CELL_STATES)[number];

/** An org's cell (src/server/routes/cells.ts `Cell`). */
export interface Cell {
  state: CellState;
  pid: number | null;
  startedAt: string | null;
  readyAt: string | null;
  restarts: number;
  lastHeartbeatAt: string | null;
  rssBytes: number | null;
  sandbox: string;
}

/** `GET /orgs/{org}/cell`: no cell until it first starts; no sandbox (and a `problem`) when cells are off. */
export interface CellStatus {
  cell: Cell | null;
  sandbox: string | null;
  /** What the sandbox enforces on this host, in words. */
  guarantees: string[];
  problem: string | null;
}

/** One health-history entry of `GET /orgs/{org}/cell/history`, newest first. */
export interface CellEvent {
  time: string;
  state: string;
  detail: Record<string, unknown>;
}

export const SECRET_KINDS = ['model_key', 'connector_credential', 'other'] as const;
export type SecretKind = (typeof SECRET_KINDS)[number];

/** A secret's metadata (src/server/routes/secrets.ts `Secret`); the value is write-only. */
export interface Secret {
  id: string;
  name: string;
  kind: SecretKind;
  provider: string | null;
  /** null: every agent of the org. */
  agentIds: string[] | null;
  version: number;
  /** The value's last four characters (`…cdef`). */
  hint: string;
  createdAt: string;
  createdBy: string;
  rotatedAt: string | null;
  rotatedBy: string | null;
}

export const AGENT_SCOPES = ['private', 'team', 'organization'] as const;
export type AgentScope = (typeof AGENT_SCOPES)[number];
export type AgentState = 'active' | 'stopped';

/** An agent's model settings (src/server/routes/agents.ts `Model`). */
export interface AgentModel {
  provider: string;
  model: string;
  /** The vault secret holding the key (bring your own key). */
  secretId?: string | null;
  temperature?: number;
  maxOutputTokens?: number;
}

/** An agent (src/server/routes/agents.ts `AgentSchema`). */
export interface Agent {
  id: string;
  name: string;
  description: string;
  scope: AgentScope;
  ownerId: string;
  teamId: string | null;
  instructions: string;
  model: AgentModel;
  outputSchema: Record<string, unknown> | null;
  /** `stopped`: the kill switch is on, no tool call of the agent runs. */
  state: AgentState;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** The body of `POST /agents`; `PATCH` takes any part of it. */
export interface AgentInput {
  name: string;
  description?: string;
  scope: AgentScope;
  teamId?: string | null;
  instructions: string;
  model: AgentModel;
  outputSchema?: Record<string, unknown> | null;
}

/** One entry of an agent's history: what the agent was at that version (no times or version). */
export interface AgentVersion {
  version: number;
  changedBy: string;
  changedAt: string;
  snapshot: Record<string, unknown>;
}

/** An agent token's metadata (its value is in the create response only). */
export interface AgentToken {
  id: string;
  agentId: string;
  name: string;
  createdBy: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

export type ConnectionTransport = 'stdio' | 'http';

/** An app connection, an MCP server (src/server/routes/connections.ts `Connection`). */
export interface Connection {
  id: string;
  name: string;
  /** `stdio`: a command run inside the org's sandbox; `http`: a remote Streamable HTTP server. */
  transport: ConnectionTransport;
  /** Set for stdio, null for http. */
  command: string | null;
  args: string[];
  /** The Streamable HTTP endpoint of an http connection, null for stdio. */
  url: string | null;
  /** Set for a private connection: only this person (and owners, admins, auditors) see it. */
  ownerId: string | null;
  /** Environment variable → vault secret id (never a value); stdio only. */
  env: Record<string, string>;
  /** Request header → vault secret id (never a value); http only. */
  headers: Record<string, string>;
  createdBy: string;
  createdAt: string;
}

/** The body of `POST /connections` for an MCP server run over stdio inside the org's sandbox. */
export interface StdioConnectionInput {
  name: string;
  transport: 'stdio';
  command: string;
  args: string[];
  /** Environment variable name → vault secret id. */
  env: Record<string, string>;
  private?: boolean;
}

/**
 * The body of `POST /connections` for a remote MCP server over Streamable HTTP, reached through
 * the org's egress proxy: the URL's host:port must be on the org's egress allowlist.
 */
export interface HttpConnectionInput {
  name: string;
  transport: 'http';
  url: string;
  /** Request header name → vault secret id (e.g. Authorization → a secret "Bearer …"). */
  headers: Record<string, string>;
  private?: boolean;
}

export type ConnectionInput = StdioConnectionInput | HttpConnectionInput;

/** A tool as a connection last presented it (src/server/routes/connections.ts `Tool`). */
export interface Tool {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
  /** SHA-256 of the canonical definition; grants pin it. */
  digest: string;
  seenAt: string;
}

/**
 * `POST /connections/{id}/tools/refresh`: the tools now, the ones whose definition changed, the
 * grants that suspended or were re-pinned, the tools refused because their name holds a secret.
 */
export interface ToolRefresh {
  tools: Tool[];
  changed: string[];
  suspended: string[];
  repinned: string[];
  refused: string[];
}

export type Constraint =
  | { arg: string; prefix: string }
  | { arg: string; oneOf: string[] }
  | { arg: string; max: number }
  | { arg: string; min: number };

export type GrantStatus = 'active' | 'suspended' | 'revoked';

/** One grant of an agent (src/server/routes/grants.ts `Grant`); times in the window are Unix seconds. */
export interface Grant {
  id: string;
  agentId: string;
  connectionId: string;
  /** A tool name, or `*` for every tool of the connection. */
  tool: string;
  effect: 'allow' | 'deny';
  constraints: Record<string, unknown>[];
  notBefore?: number;
  notAfter?: number;
  requiresApproval: boolean;
  toolDigest: string | null;
  status: GrantStatus;
  createdBy: string;
  createdAt: string;
  revokedBy: string | null;
  revokedAt: string | null;
}

/** The body of `POST /agents/{id}/grants`. */
export interface GrantInput {
  connectionId: string;
  tool: string;
  effect: 'allow' | 'deny';
  constraints: Constraint[];
  notBefore?: number;
  notAfter?: number;
  requiresApproval: boolean;
}

export type Access = 'allowed' | 'conditional' | 'denied';

/** One tool of `GET /agents/{id}/permissions`: what the agent's grants add up to for it. */
export interface ToolPermission {
  connectionId: string;
  connectionName: string;
  /** The connection's prefix for its tools on the MCP endpoint (`<namespace>__<tool>`). */
  namespace: string;
  tool: { name: string; description: string; inputSchema: Record<string, unknown> };
  access: Access;
  needsApproval: boolean;
  /** What the allowing grants require, in words. */
  conditions: string[];
  grants: string[];
  /** Grants suspended because the tool's definition changed. */
  suspended: string[];
}

export const APPROVAL_STATUSES = ['pending', 'approved', 'denied', 'used', 'expired'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

/** A call waiting for (or decided by) a person (src/server/routes/approvals.ts `Approval`). */
export interface Approval {
  id: string;
  agentId: string;
  connectionId: string;
  tool: string;
  /** The exact arguments (secrets redacted). */
  args: Record<string, unknown>;
  argsDigest: string;
  policyVersion: string;
  status: ApprovalStatus;
  requestedBy: string | null;
  requestedAt: string;
  expiresAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  reason: string | null;
  usedAt: string | null;
}

/** Filters of `GET /orgs/{org}/audit`; empty values are left out of the request. */
export interface AuditQuery {
  actor?: string;
  agent?: string;
  /** Exact, or a prefix ending in `*` (`team.*`). */
  action?: string;
  outcome?: '' | 'success' | 'failure' | 'denied';
  /** ISO times; `to` is exclusive. */
  from?: string;
  to?: string;
  q?: string;
  order?: 'desc' | 'asc';
}

/** An entry's inclusion proof against the newest signed checkpoint that covers it. */
export interface InclusionProof {
  treeSize: number;
  hashes: string[];
  /** The signed checkpoint (C2SP signed note text). */
  checkpoint: string;
  /** The same proof as C2SP tlog-proof text. */
  tlogProof: string;
}

export type ExportFormat = 'jsonl' | 'csv' | 'ocsf' | 'proof';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** Codes that mean "your session is gone": the signed-in layout sends the browser to sign-in. */
const SESSION_ENDED = new Set(['unauthenticated', 'session_invalid', 'session_expired']);

export function isSessionEnded(err: unknown): boolean {
  return err instanceof ApiError && err.status === 401 && SESSION_ENDED.has(err.code);
}

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof TypeError) return 'Could not reach the Paddock server. Check your connection.';
  return err instanceof Error ? err.message : String(err);
}

let csrfToken: string | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

async function send<T>(method: Method, path: string, body?: unknown, retried = false): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const init: RequestInit = { method, credentials: 'same-origin', headers };
  if (method !== 'GET') {
    headers['content-type'] = 'application/json';
    if (csrfToken) headers['x-csrf-token'] = csrfToken;
    if (body !== undefined) init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const text = await res.text();
  let data: unknown;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  if (!res.ok) {
    const e = (data as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    const err = new ApiError(
      res.status,
      typeof e?.code === 'string' ? e.code : 'http_error',
      typeof e?.message === 'string' ? e.message : `The server answered ${res.status} ${res.statusText}.`,
    );
    // A cookie from another tab or an earlier sign-in: fetch the current CSRF token once and retry.
    if (err.code === 'csrf_failed' && !retried && method !== 'GET') {
      const s = await send<Session>('GET', '/api/v1/session');
      setCsrfToken(s.csrfToken);
      return send<T>(method, path, body, true);
    }
    throw err;
  }
  return data as T;
}

const enc = encodeURIComponent;
const org = (slug: string) => `/api/v1/orgs/${enc(slug)}`;

/** Remembers the CSRF token that a sign-in style response hands back. */
async function signingIn(p: Promise<{ csrfToken: string }>): Promise<{ csrfToken: string }> {
  const r = await p;
  setCsrfToken(r.csrfToken);
  return r;
}

export const api = {
  session: async (): Promise<Session> => {
    const s = await send<Session>('GET', '/api/v1/session');
    setCsrfToken(s.csrfToken);
    return s;
  },
  signIn: (email: string, password: string) =>
    signingIn(send('POST', '/api/v1/session', { email, password })),
  signOut: async (): Promise<void> => {
    await send<void>('DELETE', '/api/v1/session');
    setCsrfToken(null);
  },
  signInWithLink: (secret: string) => signingIn(send('POST', '/api/v1/session/link', { secret })),
  setPassword: (newPassword: string, currentPassword?: string) =>
    send<{ ok: true }>('PUT', '/api/v1/me/password', {
      newPassword,
      ...(currentPassword ? { currentPassword } : {}),
    }),

  setupNeeded: () => send<{ needed: boolean }>('GET', '/api/v1/setup'),
  setup: async (input: {
    secret: string;
    org: { slug: string; name: string };
    owner: { email: string; name: string; password: string };
  }) => {
    const r = await send<{ csrfToken: string; org: Org }>('POST', '/api/v1/setup', input);
    setCsrfToken(r.csrfToken);
    return r;
  },

  peekInvitation: (secret: string) => send<InvitationPeek>('POST', '/api/v1/invitations/peek', { secret }),
  acceptInvitation: (input: { secret: string; name?: string; password: string }) =>
    signingIn(send('POST', '/api/v1/invitations/accept', input)),

  orgs: async () => (await send<{ orgs: OrgWithRole[] }>('GET', '/api/v1/orgs')).orgs,
  org: (slug: string) => send<OrgWithRole>('GET', org(slug)),
  /** The org-wide kill switch (`stop`: no tool call of any agent runs) and its undo. */
  setOrgAgentsStopped: (slug: string, action: 'stop' | 'resume') =>
    send<Org>('POST', `${org(slug)}/${action}`),
  updateOrg: (slug: string, patch: { name?: string; settings?: Partial<OrgSettings> }) =>
    send<Org>('PATCH', org(slug), patch),

  people: async (slug: string) => (await send<{ people: Person[] }>('GET', `${org(slug)}/people`)).people,
  changeRole: (slug: string, id: string, role: Role) =>
    send<Person>('PATCH', `${org(slug)}/people/${enc(id)}`, { role }),
  /** What removing a person would end, hand over and leave for review. */
  removalPreview: (slug: string, id: string) =>
    send<RemovalPreview>('GET', `${org(slug)}/people/${enc(id)}/removal`),
  removePerson: (slug: string, id: string, choice: RemovalChoice) =>
    send<void>('DELETE', `${org(slug)}/people/${enc(id)}`, choice),

  invitations: async (slug: string) =>
    (await send<{ invitations: Invitation[] }>('GET', `${org(slug)}/invitations`)).invitations,
  invite: (slug: string, email: string, role: Role) =>
    send<{ url: string; invitation: Invitation }>('POST', `${org(slug)}/invitations`, { email, role }),
  withdrawInvitation: (slug: string, id: string) =>
    send<void>('DELETE', `${org(slug)}/invitations/${enc(id)}`),

  teams: async (slug: string) => (await send<{ teams: Team[] }>('GET', `${org(slug)}/teams`)).teams,
  createTeam: (slug: string, name: string) => send<Team>('POST', `${org(slug)}/teams`, { name }),
  renameTeam: (slug: string, id: string, name: string) =>
    send<Team>('PATCH', `${org(slug)}/teams/${enc(id)}`, { name }),
  deleteTeam: (slug: string, id: string) => send<void>('DELETE', `${org(slug)}/teams/${enc(id)}`),
  addTeamMember: (slug: string, team: string, person: string) =>
    send<Team>('PUT', `${org(slug)}/teams/${enc(team)}/members/${enc(person)}`),
  removeTeamMember: (slug: string, team: string, person: string) =>
    send<Team>('DELETE', `${org(slug)}/teams/${enc(team)}/members/${enc(person)}`),

  tokens: async (slug: string) => (await send<{ tokens: Token[] }>('GET', `${org(slug)}/tokens`)).tokens,
  createToken: (
    slug: string,
    input: { name: string; role: Role; expiresInDays: number | null; service: boolean },
  ) => send<{ token: string; info: Token }>('POST', `${org(slug)}/tokens`, input),
  revokeToken: (slug: string, id: string) => send<Token>('DELETE', `${org(slug)}/tokens/${enc(id)}`),

  sso: (slug: string) => send<{ sso: SsoSettings | null; redirectUri: string }>('GET', `${org(slug)}/sso`),
  setSso: (
    slug: string,
    input: { issuer: string; clientId: string; clientSecret?: string; autoProvisionRole: Role | null },
  ) => send<SsoSettings>('PUT', `${org(slug)}/sso`, input),
  removeSso: (slug: string) => send<void>('DELETE', `${org(slug)}/sso`),

  cell: (slug: string) => send<CellStatus>('GET', `${org(slug)}/cell`),
  cellHistory: async (slug: string, limit = 50) =>
    (await send<{ events: CellEvent[] }>('GET', `${org(slug)}/cell/history?limit=${limit}`)).events,
  cellAction: (slug: string, action: 'start' | 'stop' | 'restart') =>
    send<Cell>('POST', `${org(slug)}/cell/${action}`),

  secrets: async (slug: string) => (await send<{ secrets: Secret[] }>('GET', `${org(slug)}/secrets`)).secrets,
  createSecret: (
    slug: string,
    input: {
      name: string;
      kind: SecretKind;
      provider: string | null;
      agentIds: string[] | null;
      value: string;
    },
  ) => send<Secret>('POST', `${org(slug)}/secrets`, input),
  rotateSecret: (slug: string, id: string, value: string) =>
    send<Secret>('PUT', `${org(slug)}/secrets/${enc(id)}/value`, { value }),
  scopeSecret: (slug: string, id: string, agentIds: string[] | null) =>
    send<Secret>('PATCH', `${org(slug)}/secrets/${enc(id)}`, { agentIds }),
  deleteSecret: (slug: string, id: string) => send<void>('DELETE', `${org(slug)}/secrets/${enc(id)}`),

  agents: async (slug: string) => (await send<{ agents: Agent[] }>('GET', `${org(slug)}/agents`)).agents,
  agent: (slug: string, id: string) => send<Agent>('GET', `${org(slug)}/agents/${enc(id)}`),
  createAgent: (slug: string, input: AgentInput) => send<Agent>('POST', `${org(slug)}/agents`, input),
  updateAgent: (slug: string, id: string, patch: Partial<AgentInput>) =>
    send<Agent>('PATCH', `${org(slug)}/agents/${enc(id)}`, patch),
  deleteAgent: (slug: string, id: string) => send<void>('DELETE', `${org(slug)}/agents/${enc(id)}`),
  /** The kill switch (`stop`) and its undo (`resume`). */
  setAgentState: (slug: string, id: string, action: 'stop' | 'resume') =>
    send<Agent>('POST', `${org(slug)}/agents/${enc(id)}/${action}`),
  agentVersions: async (slug: string, id: string) =>
    (await send<{ versions: AgentVersion[] }>('GET', `${org(slug)}/agents/${enc(id)}/versions`)).versions,
  agentTokens: async (slug: string, id: string) =>
    (await send<{ tokens: AgentToken[] }>('GET', `${org(slug)}/agents/${enc(id)}/tokens`)).tokens,
  createAgentToken: (slug: string, id: string, input: { name: string; expiresInDays: number | null }) =>
    send<{ token: string; info: AgentToken }>('POST', `${org(slug)}/agents/${enc(id)}/tokens`, input),
  revokeAgentToken: (slug: string, id: string, tokenId: string) =>
    send<AgentToken>('DELETE', `${org(slug)}/agents/${enc(id)}/tokens/${enc(tokenId)}`),

  connections: async (slug: string) =>
    (await send<{ connections: Connection[] }>('GET', `${org(slug)}/connections`)).connections,
  createConnection: (slug: string, input: ConnectionInput) =>
    send<Connection>('POST', `${org(slug)}/connections`, input),
  deleteConnection: (slug: string, id: string) => send<void>('DELETE', `${org(slug)}/connections/${enc(id)}`),
  connectionTools: async (slug: string, id: string) =>
    (await send<{ tools: Tool[] }>('GET', `${org(slug)}/connections/${enc(id)}/tools`)).tools,
  /** Asks the server for its tools now (started in the sandbox, or reached through the egress proxy). */
  refreshTools: (slug: string, id: string, asAgent?: string) =>
    send<ToolRefresh>(
      'POST',
      `${org(slug)}/connections/${enc(id)}/tools/refresh${asAgent ? `?agent=${enc(asAgent)}` : ''}`,
    ),

  grants: async (slug: string, agent: string) =>
    (await send<{ grants: Grant[] }>('GET', `${org(slug)}/agents/${enc(agent)}/grants`)).grants,
  createGrant: (slug: string, agent: string, input: GrantInput) =>
    send<Grant>('POST', `${org(slug)}/agents/${enc(agent)}/grants`, input),
  revokeGrant: (slug: string, agent: string, grant: string) =>
    send<Grant>('DELETE', `${org(slug)}/agents/${enc(agent)}/grants/${enc(grant)}`),
  permissions: async (slug: string, agent: string) =>
    (await send<{ tools: ToolPermission[] }>('GET', `${org(slug)}/agents/${enc(agent)}/permissions`)).tools,

  /** Newest first; no status: every request. */
  approvals: async (slug: string, status: ApprovalStatus | null) =>
    (
      await send<{ approvals: Approval[] }>(
        'GET',
        `${org(slug)}/approvals${status ? `?status=${enc(status)}` : ''}`,
      )
    ).approvals,
  decideApproval: (slug: string, id: string, decision: 'approve' | 'deny', reason?: string) =>
    send<Approval>('POST', `${org(slug)}/approvals/${enc(id)}/${decision}`, reason ? { reason } : {}),

  audit: (slug: string, query: AuditQuery, cursor: number | null = null, limit = 100) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v) q.set(k, v);
    if (cursor !== null) q.set('cursor', String(cursor));
    q.set('limit', String(limit));
    return send<{ events: AuditEvent[]; nextCursor: number | null }>('GET', `${org(slug)}/audit?${q}`);
  },
  auditEntry: (slug: string, index: number) =>
    send<{ event: AuditEvent; proof: InclusionProof }>('GET', `${org(slug)}/audit/entries/${index}`),
  /** A plain link (the session cookie authenticates GETs): the server answers with an attachment. */
  auditCheckpoint: (slug: string) =>
    send<{ treeSize: number; checkpoint: string; origin: string; verifierKey: string }>(
      'GET',
      `${org(slug)}/audit/checkpoint`,
    ),
  /** Pinned to one signed tree size, so an export and its proof downloaded apart always match. */
  auditExportUrl: (
    slug: string,
    format: ExportFormat,
    window: { from?: string; to?: string },
    treeSize?: number,
  ) => {
    const q = new URLSearchParams({ format });
    if (treeSize !== undefined) q.set('treeSize', String(treeSize));
    if (window.from) q.set('from', window.from);
    if (window.to) q.set('to', window.to);
    return `${org(slug)}/audit/export?${q}`;
  },
};

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
