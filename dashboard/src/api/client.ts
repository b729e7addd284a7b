/**
 * The Paddock API as the dashboard calls it: one method per endpoint, its body and answer typed
 * with the shapes of wire.ts.
 */
import { send, setCsrfToken, upload } from './http.ts';
import type {
  Activity,
  ActivityQuery,
  Agent,
  AgentInput,
  AgentList,
  AgentMemoryDeleted,
  AgentToken,
  AgentTokenCreated,
  AgentTokenInput,
  AgentTokenList,
  AgentVersions,
  Approval,
  ApprovalList,
  ApprovalStatus,
  AuditEntry,
  AuditExportQuery,
  AuditPage,
  AuditQuery,
  CatalogAdd,
  CatalogAdded,
  CatalogList,
  Cell,
  CellHistory,
  CellStatus,
  Checkpoint,
  Collection,
  CollectionTrendList,
  CommentInput,
  ComplianceDocument,
  Connection,
  ConnectionInput,
  ConnectionList,
  ConnectionOAuthStart,
  ConnectionOAuthStartInput,
  ConnectionOAuthStatus,
  ConnectionPackageChange,
  ConnectionPackageChanged,
  ControlDetail,
  ControlList,
  Conversation,
  ConversationList,
  CriteriaGrid,
  Decision,
  Demo,
  DrillInput,
  Exercise,
  ExerciseList,
  ExportFormat,
  Feedback,
  FeedbackInput,
  FeedbackList,
  FeedbackQuery,
  FeedbackResolve,
  Grant,
  GrantInput,
  GrantList,
  GrantSuggestions,
  Incident,
  IncidentChange,
  IncidentInput,
  IncidentList,
  InvitationAccept,
  InvitationList,
  InvitationPeek,
  InvitationPeekInput,
  InviteInput,
  InviteResult,
  LineDecision,
  MemoryEntry,
  MemoryList,
  MemoryPatch,
  MemoryQuery,
  OfferingList,
  Ok,
  Org,
  OrgList,
  OrgUpdate,
  OrgUsage,
  OrgWithRole,
  PasswordChange,
  PeopleList,
  Permissions,
  Person,
  RemovalChoice,
  RemovalPreview,
  Review,
  ReviewComment,
  ReviewInput,
  ReviewLine,
  ReviewList,
  Role,
  RoleChange,
  Run,
  RunDetail,
  RunList,
  RunListQuery,
  Secret,
  SecretInput,
  SecretList,
  SecretUpdate,
  SecretValue,
  ServerPackageInstall,
  ServerPackageInstalled,
  ServerPackageList,
  Session,
  SetupInput,
  SetupNeeded,
  SetupResult,
  SignedIn,
  SignIn,
  SigninLink,
  SlackBindInput,
  SlackInstall,
  SlackInstallInput,
  SlackLink,
  SlackLinkCode,
  SlackStatus,
  SsoInput,
  SsoSettings,
  SsoStatus,
  TabletopInput,
  Team,
  TeamInput,
  TeamList,
  Token,
  TokenCreated,
  TokenInput,
  TokenList,
  ToolCall,
  ToolCallResult,
  ToolList,
  ToolRefresh,
  VendorAssessment,
  VendorAssessmentInput,
  VendorList,
  VerifierKey,
} from './wire.ts';

const enc = encodeURIComponent;
const org = (slug: string) => `/api/v1/orgs/${enc(slug)}`;

/** Remembers the CSRF token that a sign-in style response hands back. */
async function signingIn<T extends SignedIn>(p: Promise<T>): Promise<T> {
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
    signingIn(send<SignedIn>('POST', '/api/v1/session', { email, password } satisfies SignIn)),
  signOut: async (): Promise<void> => {
    await send<void>('DELETE', '/api/v1/session');
    setCsrfToken(null);
  },
  signInWithLink: (secret: string) =>
    signingIn(send<SignedIn>('POST', '/api/v1/session/link', { secret } satisfies SigninLink)),
  setPassword: (newPassword: string, currentPassword?: string) =>
    send<Ok>('PUT', '/api/v1/me/password', {
      newPassword,
      ...(currentPassword ? { currentPassword } : {}),
    } satisfies PasswordChange),

  setupNeeded: () => send<SetupNeeded>('GET', '/api/v1/setup'),
  setup: (input: SetupInput) => signingIn(send<SetupResult>('POST', '/api/v1/setup', input)),

  peekInvitation: (secret: string) =>
    send<InvitationPeek>('POST', '/api/v1/invitations/peek', { secret } satisfies InvitationPeekInput),
  acceptInvitation: (input: InvitationAccept) =>
    signingIn(send<SignedIn>('POST', '/api/v1/invitations/accept', input)),

  orgs: async () => (await send<OrgList>('GET', '/api/v1/orgs')).orgs,
  org: (slug: string) => send<OrgWithRole>('GET', org(slug)),
  /** The org-wide kill switch (`stop`: no tool call of any agent runs) and its undo. */
  setOrgAgentsStopped: (slug: string, action: 'stop' | 'resume') =>
    send<Org>('POST', `${org(slug)}/${action}`),
  updateOrg: (slug: string, patch: OrgUpdate) => send<Org>('PATCH', org(slug), patch),

  people: async (slug: string) => (await send<PeopleList>('GET', `${org(slug)}/people`)).people,
  changeRole: (slug: string, id: string, role: Role) =>
    send<Person>('PATCH', `${org(slug)}/people/${enc(id)}`, { role } satisfies RoleChange),
  /** What removing a person would end, hand over and leave for review. */
  removalPreview: (slug: string, id: string) =>
    send<RemovalPreview>('GET', `${org(slug)}/people/${enc(id)}/removal`),
  removePerson: (slug: string, id: string, choice: RemovalChoice) =>
    send<void>('DELETE', `${org(slug)}/people/${enc(id)}`, choice),

  invitations: async (slug: string) =>
    (await send<InvitationList>('GET', `${org(slug)}/invitations`)).invitations,
  invite: (slug: string, email: string, role: Role) =>
    send<InviteResult>('POST', `${org(slug)}/invitations`, { email, role } satisfies InviteInput),
  withdrawInvitation: (slug: string, id: string) =>
    send<void>('DELETE', `${org(slug)}/invitations/${enc(id)}`),

  teams: async (slug: string) => (await send<TeamList>('GET', `${org(slug)}/teams`)).teams,
  createTeam: (slug: string, name: string) =>
    send<Team>('POST', `${org(slug)}/teams`, { name } satisfies TeamInput),
  renameTeam: (slug: string, id: string, name: string) =>
    send<Team>('PATCH', `${org(slug)}/teams/${enc(id)}`, { name } satisfies TeamInput),
  deleteTeam: (slug: string, id: string) => send<void>('DELETE', `${org(slug)}/teams/${enc(id)}`),
  addTeamMember: (slug: string, team: string, person: string) =>
    send<Team>('PUT', `${org(slug)}/teams/${enc(team)}/members/${enc(person)}`),
  removeTeamMember: (slug: string, team: string, person: string) =>
    send<Team>('DELETE', `${org(slug)}/teams/${enc(team)}/members/${enc(person)}`),

  tokens: async (slug: string) => (await send<TokenList>('GET', `${org(slug)}/tokens`)).tokens,
  createToken: (slug: string, input: TokenInput) => send<TokenCreated>('POST', `${org(slug)}/tokens`, input),
  revokeToken: (slug: string, id: string) => send<Token>('DELETE', `${org(slug)}/tokens/${enc(id)}`),

  sso: (slug: string) => send<SsoStatus>('GET', `${org(slug)}/sso`),
  setSso: (slug: string, input: SsoInput) => send<SsoSettings>('PUT', `${org(slug)}/sso`, input),
  removeSso: (slug: string) => send<void>('DELETE', `${org(slug)}/sso`),
  slack: (slug: string) => send<SlackStatus>('GET', `${org(slug)}/slack`),
  slackLink: (slug: string) => send<SlackLink>('GET', `${org(slug)}/slack/link`),
  slackLinkCode: (slug: string) => send<SlackLinkCode>('POST', `${org(slug)}/slack/link`),
  slackUnlink: (slug: string) => send<void>('DELETE', `${org(slug)}/slack/link`),
  installSlack: (slug: string, input: SlackInstallInput) =>
    send<SlackInstall>('PUT', `${org(slug)}/slack`, input),
  uninstallSlack: (slug: string) => send<void>('DELETE', `${org(slug)}/slack`),
  bindSlackChannel: (slug: string, input: SlackBindInput) =>
    send<void>('PUT', `${org(slug)}/slack/channels`, input),

  cell: (slug: string) => send<CellStatus>('GET', `${org(slug)}/cell`),
  cellHistory: async (slug: string, limit = 50) =>
    (await send<CellHistory>('GET', `${org(slug)}/cell/history?limit=${limit}`)).events,
  cellAction: (slug: string, action: 'start' | 'stop' | 'restart') =>
    send<Cell>('POST', `${org(slug)}/cell/${action}`),

  secrets: async (slug: string) => (await send<SecretList>('GET', `${org(slug)}/secrets`)).secrets,
  createSecret: (slug: string, input: SecretInput) => send<Secret>('POST', `${org(slug)}/secrets`, input),
  rotateSecret: (slug: string, id: string, value: string) =>
    send<Secret>('PUT', `${org(slug)}/secrets/${enc(id)}/value`, { value } satisfies SecretValue),
  scopeSecret: (slug: string, id: string, agentIds: string[] | null) =>
    send<Secret>('PATCH', `${org(slug)}/secrets/${enc(id)}`, { agentIds } satisfies SecretUpdate),
  /** A model key's endpoint; null: the provider's own. */
  setSecretEndpoint: (slug: string, id: string, baseUrl: string | null) =>
    send<Secret>('PATCH', `${org(slug)}/secrets/${enc(id)}`, { baseUrl } satisfies SecretUpdate),
  deleteSecret: (slug: string, id: string) => send<void>('DELETE', `${org(slug)}/secrets/${enc(id)}`),

  agents: async (slug: string) => (await send<AgentList>('GET', `${org(slug)}/agents`)).agents,
  agent: (slug: string, id: string) => send<Agent>('GET', `${org(slug)}/agents/${enc(id)}`),
  createAgent: (slug: string, input: AgentInput) => send<Agent>('POST', `${org(slug)}/agents`, input),
  updateAgent: (slug: string, id: string, patch: Partial<AgentInput>) =>
    send<Agent>('PATCH', `${org(slug)}/agents/${enc(id)}`, patch),
  deleteAgent: (slug: string, id: string) => send<void>('DELETE', `${org(slug)}/agents/${enc(id)}`),
  /** The kill switch (`stop`) and its undo (`resume`). */
  setAgentState: (slug: string, id: string, action: 'stop' | 'resume') =>
    send<Agent>('POST', `${org(slug)}/agents/${enc(id)}/${action}`),
  agentVersions: async (slug: string, id: string) =>
    (await send<AgentVersions>('GET', `${org(slug)}/agents/${enc(id)}/versions`)).versions,
  agentTokens: async (slug: string, id: string) =>
    (await send<AgentTokenList>('GET', `${org(slug)}/agents/${enc(id)}/tokens`)).tokens,
  createAgentToken: (slug: string, id: string, input: AgentTokenInput) =>
    send<AgentTokenCreated>('POST', `${org(slug)}/agents/${enc(id)}/tokens`, input),
  revokeAgentToken: (slug: string, id: string, tokenId: string) =>
    send<AgentToken>('DELETE', `${org(slug)}/agents/${enc(id)}/tokens/${enc(tokenId)}`),

  connections: async (slug: string) =>
    (await send<ConnectionList>('GET', `${org(slug)}/connections`)).connections,
  createConnection: (slug: string, input: ConnectionInput) =>
    send<Connection>('POST', `${org(slug)}/connections`, input),
  deleteConnection: (slug: string, id: string) => send<void>('DELETE', `${org(slug)}/connections/${enc(id)}`),
  /** Whether a remote connection signs in with OAuth and whether it (or, per person, yours) is connected. */
  connectionOAuth: (slug: string, id: string) =>
    send<ConnectionOAuthStatus>('GET', `${org(slug)}/connections/${enc(id)}/oauth`),
  /** Where to send the browser to connect (the org's account, or per person your own). */
  startConnectionOAuth: (slug: string, id: string, input: ConnectionOAuthStartInput = {}) =>
    send<ConnectionOAuthStart>('POST', `${org(slug)}/connections/${enc(id)}/oauth/start`, input),
  disconnectConnectionOAuth: (slug: string, id: string) =>
    send<void>('DELETE', `${org(slug)}/connections/${enc(id)}/oauth`),
  connectionTools: async (slug: string, id: string) =>
    (await send<ToolList>('GET', `${org(slug)}/connections/${enc(id)}/tools`)).tools,
  connectionOfferings: async (slug: string, id: string) =>
    (await send<OfferingList>('GET', `${org(slug)}/connections/${enc(id)}/offerings`)).offerings,
  /** Asks the server for its tools now (started in the sandbox, or reached through the egress proxy). */
  refreshTools: (slug: string, id: string, asAgent?: string) =>
    send<ToolRefresh>(
      'POST',
      `${org(slug)}/connections/${enc(id)}/tools/refresh${asAgent ? `?agent=${enc(asAgent)}` : ''}`,
    ),
  /** Runs another installed version of the connection's package (started and listed first). */
  changeConnectionPackage: (slug: string, id: string, input: ConnectionPackageChange) =>
    send<ConnectionPackageChanged>('PUT', `${org(slug)}/connections/${enc(id)}/package`, input),

  serverPackages: (slug: string) => send<ServerPackageList>('GET', `${org(slug)}/server-packages`),
  installServerPackage: (slug: string, input: ServerPackageInstall) =>
    send<ServerPackageInstalled>('POST', `${org(slug)}/server-packages`, input),
  removeServerPackage: (slug: string, id: string) =>
    send<void>('DELETE', `${org(slug)}/server-packages?package=${enc(id)}`),
  /** The catalog of well-known MCP servers, with what each needs here. */
  catalog: (slug: string) => send<CatalogList>('GET', `${org(slug)}/catalog`),
  /** Installs (if a package), creates the connection from the vault's secrets, lists its tools. */
  addFromCatalog: (slug: string, entry: string, input: CatalogAdd) =>
    send<CatalogAdded>('POST', `${org(slug)}/catalog/${enc(entry)}/connections`, input),

  grants: async (slug: string, agent: string) =>
    (await send<GrantList>('GET', `${org(slug)}/agents/${enc(agent)}/grants`)).grants,
  createGrant: (slug: string, agent: string, input: GrantInput) =>
    send<Grant>('POST', `${org(slug)}/agents/${enc(agent)}/grants`, input),
  grantSuggestions: (slug: string, agent: string) =>
    send<GrantSuggestions>('GET', `${org(slug)}/agents/${enc(agent)}/grant-suggestions`),
  revokeGrant: (slug: string, agent: string, grant: string) =>
    send<Grant>('DELETE', `${org(slug)}/agents/${enc(agent)}/grants/${enc(grant)}`),
  /** One call as the agent through the gateway (decided, audited); `requestId` finds its entries. */
  callTool: (slug: string, agent: string, call: ToolCall, requestId: string) =>
    send<ToolCallResult>('POST', `${org(slug)}/agents/${enc(agent)}/calls`, call, requestId),
  permissions: async (slug: string, agent: string) =>
    send<Permissions>('GET', `${org(slug)}/agents/${enc(agent)}/permissions`),

  /** Newest first; no status: every request. */
  approvals: async (slug: string, status: ApprovalStatus | null) =>
    (await send<ApprovalList>('GET', `${org(slug)}/approvals${status ? `?status=${enc(status)}` : ''}`))
      .approvals,
  decideApproval: (slug: string, id: string, decision: 'approve' | 'deny', reason?: string) =>
    send<Approval>(
      'POST',
      `${org(slug)}/approvals/${enc(id)}/${decision}`,
      (reason ? { reason } : {}) satisfies Decision,
    ),

  /** Where an agent's runs start: the chat streams them through `runTransport` (run-stream.ts). */
  runsEndpoint: (slug: string, agent: string) => `${org(slug)}/agents/${enc(agent)}/runs`,
  /** Where a run streams as it goes: the chat follows a run's continuation there (`followRun`). */
  runStreamEndpoint: (slug: string, run: string) => `${org(slug)}/runs/${enc(run)}/stream`,
  /** Newest first; members get their own runs only. */
  runs: async (slug: string, query: RunListQuery = {}) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== '' && v !== undefined) q.set(k, String(v));
    return (await send<RunList>('GET', `${org(slug)}/runs${q.size ? `?${q}` : ''}`)).runs;
  },
  run: (slug: string, id: string) => send<RunDetail>('GET', `${org(slug)}/runs/${enc(id)}`),
  /** Your conversations (with one agent, or all), the most recently continued first. */
  conversations: async (slug: string, agent?: string) =>
    (
      await send<ConversationList>(
        'GET',
        `${org(slug)}/conversations${agent ? `?${new URLSearchParams({ agent, limit: '100' })}` : ''}`,
      )
    ).conversations,
  /** One of your conversations as the chat showed it: messages, tool calls and results, runs. */
  conversation: (slug: string, id: string) =>
    send<Conversation>('GET', `${org(slug)}/conversations/${enc(id)}`),
  stopRun: (slug: string, id: string) => send<Run>('POST', `${org(slug)}/runs/${enc(id)}/stop`),
  /** Flags a run's answer as wrong (linked to the audit entry that recorded it). */
  flagRun: (slug: string, id: string, input: FeedbackInput) =>
    send<Feedback>('POST', `${org(slug)}/runs/${enc(id)}/feedback`, input),
  /** An agent's flags (members: their own) and its flagged rate per day. */
  feedback: (slug: string, agent: string, query: FeedbackQuery = {}) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, String(v));
    return send<FeedbackList>('GET', `${org(slug)}/agents/${enc(agent)}/feedback${q.size ? `?${q}` : ''}`);
  },
  resolveFeedback: (slug: string, id: string, note: string) =>
    send<Feedback>('POST', `${org(slug)}/feedback/${enc(id)}/resolve`, { note } satisfies FeedbackResolve),
  /** An agent's memory, pinned first then newest (members: general entries and their own). */
  memory: async (slug: string, agent: string, query: MemoryQuery = {}) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, String(v));
    return (await send<MemoryList>('GET', `${org(slug)}/agents/${enc(agent)}/memory${q.size ? `?${q}` : ''}`))
      .entries;
  },
  updateMemory: (slug: string, agent: string, id: string, patch: MemoryPatch) =>
    send<MemoryEntry>('PATCH', `${org(slug)}/agents/${enc(agent)}/memory/${enc(id)}`, patch),
  deleteMemory: (slug: string, agent: string, id: string) =>
    send<void>('DELETE', `${org(slug)}/agents/${enc(agent)}/memory/${enc(id)}`),
  /** Deletes all of an agent's memory on request (counts on record). */
  deleteAgentMemory: (slug: string, agent: string) =>
    send<AgentMemoryDeleted>('POST', `${org(slug)}/agents/${enc(agent)}/memory-deletion`),
  /** Adds the demo agent (a replay, no model key) and answers the message to send it. */
  addDemo: (slug: string) => send<Demo>('POST', `${org(slug)}/demo`),
  audit: (slug: string, query: AuditQuery, cursor: number | null = null, limit = 100) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v) q.set(k, v);
    if (cursor !== null) q.set('cursor', String(cursor));
    q.set('limit', String(limit));
    return send<AuditPage>('GET', `${org(slug)}/audit?${q}`);
  },
  /** By index, or by id (`evt_…`: a test call's answer names its decision so). */
  auditEntry: (slug: string, ref: number | string) =>
    send<AuditEntry>('GET', `${org(slug)}/audit/entries/${encodeURIComponent(String(ref))}`),
  /** A plain link (the session cookie authenticates GETs): the server answers with an attachment. */
  auditCheckpoint: (slug: string) => send<Checkpoint>('GET', `${org(slug)}/audit/checkpoint`),
  /** Pinned to one signed tree size, so an export and its proof downloaded apart always match. */
  auditExportUrl: (
    slug: string,
    format: ExportFormat,
    window: Pick<AuditExportQuery, 'from' | 'to'>,
    treeSize?: number,
  ) => {
    const q = new URLSearchParams({ format });
    if (treeSize !== undefined) q.set('treeSize', String(treeSize));
    if (window.from) q.set('from', window.from);
    if (window.to) q.set('to', window.to);
    return `${org(slug)}/audit/export?${q}`;
  },

  /** Counts over time from the log's index (owners, admins, auditors). */
  activity: (slug: string, query: ActivityQuery) =>
    send<Activity>(
      'GET',
      `${org(slug)}/audit/activity?unit=${query.unit ?? 'day'}&count=${query.count ?? 14}`,
    ),
  verifierKey: (slug: string) => send<VerifierKey>('GET', `${org(slug)}/audit/key`),

  criteria: (slug: string) => send<CriteriaGrid>('GET', `${org(slug)}/compliance/criteria`),
  usage: (slug: string) => send<OrgUsage>('GET', `${org(slug)}/usage`),
  controls: async (slug: string) =>
    (await send<ControlList>('GET', `${org(slug)}/compliance/controls`)).controls,
  control: (slug: string, id: string, limit = 30) =>
    send<ControlDetail>('GET', `${org(slug)}/compliance/controls/${enc(id)}?limit=${limit}`),
  collectionTrend: async (slug: string, limit = 30) =>
    (await send<CollectionTrendList>('GET', `${org(slug)}/compliance/collections?limit=${limit}`))
      .collections,
  collectEvidence: (slug: string) => send<Collection>('POST', `${org(slug)}/compliance/collect`),
  reviews: async (slug: string) => (await send<ReviewList>('GET', `${org(slug)}/compliance/reviews`)).reviews,
  review: (slug: string, id: string) => send<Review>('GET', `${org(slug)}/compliance/reviews/${enc(id)}`),
  openReview: (slug: string, input: ReviewInput) =>
    send<Review>('POST', `${org(slug)}/compliance/reviews`, input),
  decideLine: (slug: string, review: string, line: string, input: LineDecision) =>
    send<ReviewLine>('POST', `${org(slug)}/compliance/reviews/${enc(review)}/lines/${enc(line)}`, input),
  signOffReview: (slug: string, review: string) =>
    send<Review>('POST', `${org(slug)}/compliance/reviews/${enc(review)}/sign-off`),
  commentOnReview: (slug: string, review: string, input: CommentInput) =>
    send<ReviewComment>('POST', `${org(slug)}/compliance/reviews/${enc(review)}/comments`, input),
  /** Model calls as the latest collection counted them (`callsAsOf`). */
  vendors: (slug: string) => send<VendorList>('GET', `${org(slug)}/compliance/vendors`),
  assessVendor: (slug: string, input: VendorAssessmentInput) =>
    send<VendorAssessment>('PUT', `${org(slug)}/compliance/vendors`, input),
  incidents: async (slug: string) =>
    (await send<IncidentList>('GET', `${org(slug)}/compliance/incidents`)).incidents,
  openIncident: (slug: string, input: IncidentInput) =>
    send<Incident>('POST', `${org(slug)}/compliance/incidents`, input),
  updateIncident: (slug: string, id: string, change: IncidentChange) =>
    send<Incident>('PATCH', `${org(slug)}/compliance/incidents/${enc(id)}`, change),
  exercises: async (slug: string) =>
    (await send<ExerciseList>('GET', `${org(slug)}/compliance/exercises`)).exercises,
  recordTabletop: (slug: string, input: TabletopInput) =>
    send<Exercise>('POST', `${org(slug)}/compliance/exercises`, input),
  runDrill: (slug: string, input: DrillInput) =>
    send<Exercise>('POST', `${org(slug)}/compliance/drills`, input),
  /** The file is the body, streamed (up to 50 MB); not JSON, so it skips `send`. */
  uploadDocument: (slug: string, criterion: string, file: File) =>
    upload<ComplianceDocument>(
      `${org(slug)}/compliance/criteria/${enc(criterion)}/documents?name=${enc(file.name)}`,
      file,
    ),
  documentUrl: (slug: string, id: string) => `${org(slug)}/compliance/documents/${enc(id)}`,
  /** A plain link (the session cookie authenticates GETs): the server streams the ZIP. */
  evidencePackageUrl: (slug: string, from: string, to: string) =>
    `${org(slug)}/compliance/package?${new URLSearchParams({ from, to })}`,
};
