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
  /** The org-wide kill switch: set while every agent of the org is stopped. */
  agents_stopped_at: string | null;
  agents_stopped_by: string | null;
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
  /** The one org it opens (a single sign-on's), or null: every org of the person. */
  org_id?: string | null;
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

export interface AuditLogTable {
  /** The org id, or `platform`. */
  id: string;
  org_id: string | null;
  /** The checkpoint origin line (and key name), fixed when the log is made. */
  origin: string;
  /** Ed25519 public key, base64 of the 32 raw bytes. */
  public_key: string;
  /** Ed25519 private key (PKCS#8), sealed by the vault. */
  private_key: string;
  tree_size: number;
  root_hash: string;
  created_at: string;
}

export interface AuditEntryTable {
  seq: Generated<number>;
  log_id: string;
  /** Position in the tree. */
  idx: number;
  /** 2: the leaf is a header committing to the details by digest; 1: the details are in the leaf. */
  format: number;
  id: string;
  time: string;
  actor_type: string;
  actor_id: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: string;
  request_id: string | null;
  run_id: string | null;
  /** The hashed canonical JSON (RFC 8785): v2 the header, never erased; v1 the whole entry, null once erased. */
  leaf: string | null;
  /** Base64 of SHA-256(0x00 || leaf); stays when the payload is erased. */
  leaf_hash: string;
  /** v2: the details' canonical JSON and the salt of their digest; null once erased. */
  details: string | null;
  salt: string | null;
  erased_at: string | null;
  /** The id of the entry that erased the payload (a retention run, a deletion request). */
  erased_by: string | null;
}

/** An entry written inside a change's transaction, waiting for the log's writer. */
export interface AuditOutboxTable {
  seq: Generated<number>;
  log_id: string;
  format: number;
  id: string;
  time: string;
  actor_type: string;
  actor_id: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: string;
  request_id: string | null;
  run_id: string | null;
  leaf: string;
  leaf_hash: string;
  details: string | null;
  salt: string | null;
}

export interface AuditNodeTable {
  log_id: string;
  /** The last entry the node covers, `(idx + 1) · 2^level − 1`: nodes are keyed in the order they are made. */
  last_idx: number;
  level: number;
  idx: number;
  hash: string;
}

export interface AuditCheckpointTable {
  log_id: string;
  tree_size: number;
  root_hash: string;
  note: string;
  created_at: string;
}

export interface AuditCursorTable {
  sink: string;
  log_id: string;
  position: number;
}

export interface VaultKeyTable {
  org_id: string;
  /** The org's data key wrapped by the key-encryption key. */
  wrapped_key: string;
  kek_id: string;
  created_at: string;
}

export interface SecretTable {
  id: string;
  org_id: string;
  name: string;
  kind: 'model_key' | 'connector_credential' | 'other';
  /** e.g. `openai`, `anthropic`, `google`, `openai-compatible` for model keys. */
  provider: string | null;
  /** JSON array of agent ids that may use it; null for every agent of the org. */
  agent_ids: string | null;
  version: number;
  /** AES-256-GCM under the org's data key, bound to org, secret id and version. */
  sealed: string;
  /** The last four characters, to tell keys apart without showing them. */
  hint: string;
  created_at: string;
  created_by: string;
  rotated_at: string | null;
  rotated_by: string | null;
  /** A model key's own endpoint (openai-compatible, or a proxy); set by who manages secrets. */
  base_url: string | null;
}

export interface CellEventTable {
  seq: Generated<number>;
  org_id: string;
  time: string;
  /** starting, ready, unhealthy, exited, backoff, stopped */
  state: string;
  /** JSON: pid, exit code or signal, delay, reason. */
  detail: string;
}

/** The host uid (= gid) an org's sandboxed code runs as; allocated once, never reused. */
export interface CellHostIdTable {
  org_id: string;
  uid: number;
  created_at: string;
}

export interface AgentTable {
  id: string;
  org_id: string;
  name: string;
  description: string;
  /** Who may talk to it and see its runs: its owner, a team, or everyone in the org. */
  scope: 'private' | 'team' | 'organization';
  owner_id: string;
  team_id: string | null;
  instructions: string;
  /** JSON: provider, model, secret (vault id of the BYOK key), temperature, max tokens. */
  model: string;
  /** JSON Schema its outputs must satisfy, if any. */
  output_schema: string | null;
  /** JSON: its checks (rules on its answers and its tool calls' arguments, and how it streams), if any. */
  checks: string | null;
  /** JSON: its limits and budgets (runs a minute, tool calls a run, tokens a day, spend), if any. */
  limits?: string | null;
  /** `stopped` is the kill switch: no tool call of a stopped agent runs. */
  state: 'active' | 'stopped';
  version: number;
  /** Moves on with every grant, revoke or suspension of the agent's grants (the gateway's cache key). */
  grants_version: number;
  created_at: string;
  updated_at: string;
}

export interface ConversationTable {
  id: string;
  org_id: string;
  agent_id: string;
  person_id: string | null;
  /** The token for no person (a service's) that started it; null for a person's or a webhook's. */
  token_id?: string | null;
  title: string;
  /** JSON: the model messages so far. */
  messages: string;
  created_at: string;
  updated_at: string;
}

export type RunStatus = 'running' | 'waiting_approval' | 'completed' | 'failed' | 'stopped';

export interface RunTable {
  id: string;
  org_id: string;
  agent_id: string;
  conversation_id: string;
  person_id: string | null;
  /** The token for no person (a service's) that started it; null for a person's or a webhook's. */
  token_id?: string | null;
  /** The channel the message came by: api, chat, webhook. */
  via: string;
  status: RunStatus;
  /** SHA-256 of the capability the cell holds; null once the run ended. */
  capability_hash: string | null;
  input: string;
  output: string | null;
  /** JSON while waiting for approval: the messages to resume from; ended without completing, its own (read back). */
  state: string | null;
  /** JSON: the calls the run waits for. */
  pending: string | null;
  /** JSON: what people decided on the calls it waited for (`RunDecision[]`), as it resumed. */
  decisions?: string | null;
  steps: number;
  /** Tool calls it asked for so far, across resumptions (its agent's limit counts these). */
  tool_calls?: number;
  input_tokens: number;
  output_tokens: number;
  error_code: string | null;
  error_message: string | null;
  created_at: string;
  updated_at: string;
  ended_at: string | null;
}

/** A person's flag on a run's answer: wrong, with the correction and why; resolved by an admin. */
export interface FeedbackTable {
  id: string;
  org_id: string;
  agent_id: string;
  run_id: string;
  /** The audit entry that recorded the answer: its index in the org's log, and its leaf hash. */
  entry_index: number;
  leaf_hash: string;
  person_id: string;
  correction: string;
  reason: string;
  status: 'open' | 'resolved';
  resolved_by: string | null;
  resolution: string | null;
  resolved_at: string | null;
  created_at: string;
}

/** An entry of an agent's memory (see migration 021). */
export interface MemoryTable {
  id: string;
  org_id: string;
  agent_id: string;
  person_id: string | null;
  text: string;
  pinned: number;
  updated_by: string;
  created_at: string;
  updated_at: string;
}

export interface AgentVersionTable {
  org_id: string;
  agent_id: string;
  version: number;
  snapshot: string;
  changed_by: string;
  changed_at: string;
}

/** An agent's inbound webhook endpoint (`POST /hooks/{id}`). */
export interface WebhookTable {
  id: string;
  org_id: string;
  agent_id: string;
  name: string;
  /** The vault-sealed signing secret; null once the endpoint is deleted. */
  secret: string | null;
  secret_version: number;
  /** The secret's last four characters, to tell which one a sender holds. */
  secret_hint: string;
  created_by: string;
  created_at: string;
  rotated_by: string | null;
  rotated_at: string | null;
  deleted_by: string | null;
  deleted_at: string | null;
}

/** An org's Slack app (see src/slack): its secrets sealed in the vault. */
export interface SlackInstallTable {
  org_id: string;
  team_id: string;
  bot_user_id: string;
  signing_secret: string;
  bot_token: string;
  /** Sealed app-level token (xapp-…) for Socket Mode; null when none was given. */
  app_token: string | null;
  /** 1: Paddock holds a Socket Mode connection for the org (servers Slack cannot reach). */
  socket_mode: number;
  version: number;
  approvals_channel: string | null;
  installed_by: string;
  installed_at: string;
}

/** Which agent answers in a Slack channel (`dm`: direct messages to the app). */
export interface SlackBindingTable {
  org_id: string;
  channel_id: string;
  agent_id: string;
  bound_by: string;
  bound_at: string;
}

/** A Slack user explicitly linked to a person (confirmed from both sides). */
export interface SlackLinkTable {
  org_id: string;
  slack_user_id: string;
  person_id: string;
  linked_at: string;
}

export interface SlackLinkCodeTable {
  code_hash: string;
  org_id: string;
  person_id: string;
  expires_at: string;
}

/** A Slack event id already handled (a retry of it starts nothing). */
export interface SlackEventTable {
  org_id: string;
  event_id: string;
  /** When it was taken (by the replica handling it). */
  received_at: string;
  /** When its handling was accepted (Slack answered); null while being handled, or left by a crash. */
  handled_at: string | null;
}

/** An approval card posted to Slack, updated when the approval is decided anywhere. */
export interface SlackCardTable {
  approval_id: string;
  org_id: string;
  run_id: string;
  channel_id: string;
  ts: string;
  thread_channel: string;
  thread_ts: string;
  /** Claimed to say how its approval ended (updated once). */
  closed_at: string | null;
  /** Said so in Slack: a claim without it, after a while, is taken up again. */
  refreshed_at?: string | null;
}

/** A Slack thread a run started from: a follow-up in it continues its conversation. */
export interface SlackThreadTable {
  org_id: string;
  channel_id: string;
  thread_ts: string;
  agent_id: string;
  conversation_id: string;
  created_at: string;
}

/** A person who wrote in a conversation someone else started (a Slack thread): their data is in it. */
export interface ConversationWriterTable {
  org_id: string;
  conversation_id: string;
  person_id: string;
}

/** A run started from Slack waiting on an approval: its answer goes to this thread when it ends. */
export interface SlackWaitingRunTable {
  run_id: string;
  org_id: string;
  channel_id: string;
  thread_ts: string;
  /** When its latest wait was taken note of: a wait after it (resumed, it waits again) is new. */
  noted_at: string;
}

/** A delivery id an endpoint has accepted, kept while a replay of it could still be in time. */
export interface WebhookDeliveryTable {
  webhook_id: string;
  delivery_id: string;
  org_id: string;
  received_at: string;
  expires_at: string;
}

export interface AgentTokenTable {
  id: string;
  org_id: string;
  agent_id: string;
  name: string;
  token_hash: string;
  created_by: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
}

/** An MCP client that registered itself (RFC 7591); public, so it holds no secret. */
export interface OAuthClientTable {
  id: string;
  name: string;
  redirect_uris: string;
  created_at: string;
}

/** A person's consent, waiting to be exchanged once for an agent token (digest only). */
export interface OAuthCodeTable {
  code_hash: string;
  client_id: string;
  org_id: string;
  agent_id: string;
  user_id: string;
  redirect_uri: string;
  code_challenge: string;
  resource: string;
  expires_at: string;
}

/** An agent token issued to an OAuth client: its client and its refresh token's digest. */
export interface OAuthGrantTable {
  token_id: string;
  client_id: string;
  refresh_hash: string;
  refresh_expires_at: string;
  refreshed_at: string | null;
}

/** A spent refresh token's or authorization code's digest, and the agent token it belonged to. */
export interface OAuthSpentTable {
  secret_hash: string;
  token_id: string;
  spent_at: string;
}

/** An open MCP session (Streamable HTTP), by the digest of its id: bound to its agent and person. */
export interface McpSessionTable {
  id_hash: string;
  org_id: string;
  agent_id: string;
  token_id: string;
  issued_by: string;
  protocol_version: string;
  client_capabilities: string;
  client_info: string;
  created_at: string;
  last_seen_at: string;
  /** The level its client chose with `logging/setLevel` (none: what the server sends). */
  log_level: string | null;
}

/** A client's answer passed between replicas, too large for a NOTIFY (src/gateway/mcp-sessions/passed-answers.ts). */
export interface McpPassedAnswerTable {
  ref: string;
  org_id: string;
  session_hash: string;
  sealed: string;
  created_at: string;
}

/** A notification for an agent's MCP sessions too large for a NOTIFY, held for the other replicas (src/gateway/mcp-sessions/held-notifications.ts). */
export interface McpHeldNotificationTable {
  ref: string;
  org_id: string;
  agent_id: string;
  sealed: string;
  created_at: string;
}

/** An event a replica sent on an MCP session's stream, kept for a resume on another (src/gateway/mcp-sessions/shared-events.ts). */
export interface McpSessionEventTable {
  session_hash: string;
  seq: number;
  org_id: string;
  replica: string;
  stream_id: string;
  sealed: string;
  created_at: string;
}

/** An installed MCP server package, on record for every replica (src/packages). */
export interface ServerPackageTable {
  /** `<name>@<version>`. */
  id: string;
  name: string;
  version: string;
  integrity: string;
  /** Its package-lock.json as installed. */
  lockfile: string;
  lockfile_sha256: string;
  /** JSON: `InstalledPackage['tree']`. */
  tree: string;
  registry: string;
  installed_at: string;
  installed_by: string;
}

export interface ConnectionTable {
  id: string;
  org_id: string;
  name: string;
  /** `stdio`: a command run inside the org's cell sandbox; `http`: Streamable HTTP via the egress proxy; `builtin`: a server built into Paddock (`command` names it: `memory`). */
  transport: 'stdio' | 'http' | 'builtin';
  command: string | null;
  /** JSON array of arguments. */
  args: string;
  url: string | null;
  /** A person's private connection, or null for the whole org. */
  owner_id: string | null;
  created_by: string;
  created_at: string;
  /** JSON object: environment variable name → vault secret id, opened when the server starts. */
  env: string;
  /** JSON object (http): request header name → vault secret id, sent with every request. */
  headers: string;
  /** stdio: an installed MCP server package, `<name>@<version>`, run instead of `command`. */
  package: string | null;
  /** Which of the package's programs (`bin`) it runs, when it has several. */
  package_bin: string | null;
}

export interface ApprovalTable {
  id: string;
  org_id: string;
  agent_id: string;
  connection_id: string;
  tool: string;
  /** What `tool` names: a tool (the default), a resource's URI, a prompt. */
  kind?: AskedKind;
  /** SHA-256 of the RFC 8785 form of the exact arguments. */
  args_digest: string;
  /** The arguments as the approver sees them (secrets redacted). */
  args: string;
  policy_version: string;
  status: 'pending' | 'approved' | 'denied' | 'used' | 'expired';
  /** The person on whose behalf the call runs, when one does. */
  requested_by: string | null;
  requested_at: string;
  expires_at: string;
  decided_by: string | null;
  decided_at: string | null;
  reason: string | null;
  used_at: string | null;
  request_id: string;
  /** The run that asked, when one did: the approval serves its call only, and ends with it. */
  run_id: string | null;
  /** What ended it before its time (null: it ran its time, or ended before this was kept). */
  ended_because?: ApprovalEndedBecause | null;
}

/** What can end an approval before its time. */
export type ApprovalEndedBecause = 'run-ended' | 'agent-stopped' | 'all-agents-stopped' | 'person-removed';

export interface ConnectionToolTable {
  org_id: string;
  connection_id: string;
  name: string;
  description: string;
  input_schema: string;
  /**
   * The rest of the definition as kept (title, outputSchema, annotations, icons, _meta), JSON;
   * null for a tool listed before definitions were kept whole.
   */
  extras: string | null;
  /** `v3:` + SHA-256 of the canonical definition the agent is shown: what a grant pins (docs/agents.md). */
  digest: string;
  seen_at: string;
}

/**
 * What a grant (or an approval) is of: a tool, a resource (by URI) or a prompt; or what a
 * connection's server may ask of the agent (sampling its model, eliciting from its person).
 */
export type GrantKind = AskedKind | 'sampling' | 'elicitation';

/** What the agent asks of a connection: a tool, a resource, a prompt (what an approval can be of). */
export type AskedKind = 'tool' | 'resource' | 'prompt';

/** What a connection offers besides tools, as last listed (scrubbed): prompts, resources, templates. */
export interface ConnectionOfferingTable {
  org_id: string;
  connection_id: string;
  kind: 'prompt' | 'resource' | 'template';
  /** The prompt's name, the resource's URI, the template's URI template. */
  key: string;
  /** The whole definition as kept (scrubbed), JSON. */
  definition: string;
  /** `v3:` + SHA-256 of the canonical definition: what a prompt grant pins. */
  digest: string;
  seen_at: string;
}

export interface GrantTable {
  id: string;
  org_id: string;
  agent_id: string;
  connection_id: string;
  /**
   * A tool name, or `*` for every tool of the connection; for a prompt grant the prompt's name (or
   * `*`); for a resource grant a URI (or a URI prefix, see `uri_match`).
   */
  tool: string;
  /** What the grant is of (absent in rows written before there were other kinds: a tool). */
  kind?: GrantKind;
  /** A resource grant's URI is the resource's exactly, or a prefix of the URIs it covers. */
  uri_match?: 'exact' | 'prefix' | null;
  effect: 'allow' | 'deny';
  /** JSON array of argument constraints. */
  constraints: string;
  not_before: number | null;
  not_after: number | null;
  requires_approval: number;
  /** The digest of the tool definition that was granted; null for `*`. */
  tool_digest: string | null;
  /** `suspended`: the tool's definition changed since it was granted; an admin must re-approve. */
  status: 'active' | 'suspended' | 'revoked';
  created_by: string;
  created_at: string;
  revoked_by: string | null;
  revoked_at: string | null;
}

/** A person removed from an org: single sign-on does not provision them again until they are re-invited. */
export interface RemovedPersonTable {
  org_id: string;
  user_id: string;
  email: string;
  removed_by: string;
  removed_at: string;
}

export interface PlatformSettingTable {
  key: string;
  value: string;
}

/** One run of a scheduled job (see `src/scheduler`). */
export interface JobRunTable {
  seq: Generated<number>;
  job: string;
  /** Which process ran it (host#pid unless configured). */
  replica: string;
  started_at: string;
  ended_at: string | null;
  /** `running`, `succeeded`, `failed`, or `abandoned` (its holder died mid-run). */
  outcome: string;
  /** A failed run's error message, redacted. */
  error: string | null;
  /** JSON object of counts the job returned, e.g. `{"erased":12}`. */
  counts: string | null;
}

/** One evidence collection of an org: the log slice it read and the period it covers. */
export interface ComplianceCollectionTable {
  id: string;
  org_id: string;
  trigger: 'schedule' | 'request';
  actor_type: string;
  actor_id: string;
  started_at: string;
  period_from: string;
  period_to: string;
  tree_size: number;
  checkpoint: string;
  range_from: number;
  range_to: number;
  /** The collection this one continues ('' for the org's first). */
  previous_id: string;
}

/** A hashed evidence record (never updated). */
export interface ComplianceEvidenceTable {
  id: string;
  org_id: string;
  collection_id: string | null;
  control_id: string;
  kind: string;
  collected_at: string;
  period_from: string;
  period_to: string;
  /** Canonical JSON, exactly as hashed. */
  data: string;
  figure: string | null;
  hash: string;
  tree_size: number | null;
  checkpoint: string | null;
  range_from: number | null;
  range_to: number | null;
}

/** A control's result at one collection (history kept). */
export interface ComplianceResultTable {
  id: string;
  org_id: string;
  collection_id: string;
  control_id: string;
  status: 'pass' | 'warning' | 'fail' | 'not_applicable';
  reason: string;
  evaluated_at: string;
  /** JSON array of evidence ids. */
  evidence: string;
}

export interface ComplianceReviewTable {
  id: string;
  org_id: string;
  kind: 'agents' | 'people';
  period_from: string;
  period_to: string;
  tree_size: number;
  checkpoint: string;
  status: 'open' | 'signed_off';
  created_by: string;
  created_at: string;
  signed_off_by: string | null;
  signed_off_at: string | null;
  evidence_id: string | null;
}

export interface ComplianceReviewLineTable {
  id: string;
  org_id: string;
  review_id: string;
  position: number;
  subject_type: 'agent' | 'person';
  subject_id: string;
  item_type: 'grant' | 'membership';
  item_id: string;
  /** JSON: what the reviewer sees. */
  facts: string;
  /** `unused` (granted, never used in the period), `used`, `dormant`, `active`… */
  finding: string;
  decision: 'keep' | 'revoke' | 'defer' | null;
  decided_by: string | null;
  decided_at: string | null;
  note: string | null;
}

export interface ComplianceReviewCommentTable {
  id: string;
  org_id: string;
  review_id: string;
  line_id: string | null;
  author_id: string;
  author_role: string;
  body: string;
  created_at: string;
}

/** The org's own assessment of a vendor; the register itself is generated from use. */
export interface ComplianceVendorTable {
  id: string;
  org_id: string;
  kind: string;
  name: string;
  data_handling: string;
  soc2_report_date: string | null;
  reviewed_at: string | null;
  next_review_at: string | null;
  notes: string;
  updated_by: string;
  updated_at: string;
}

export interface ComplianceIncidentTable {
  id: string;
  org_id: string;
  title: string;
  severity: 'low' | 'medium' | 'high' | 'critical';
  status: 'open' | 'contained' | 'resolved' | 'closed';
  summary: string;
  detected_at: string;
  resolved_at: string | null;
  /** JSON: [{ time, note, by }]. */
  timeline: string;
  /** JSON: [{ id, action, owner, done }]. */
  actions: string;
  created_by: string;
  created_at: string;
  updated_at: string;
}

export interface ComplianceExerciseTable {
  id: string;
  org_id: string;
  kind: 'tabletop' | 'kill_switch_drill';
  title: string;
  held_at: string;
  outcome: 'pass' | 'fail' | 'partial';
  /** JSON: participants, scenario, findings; or the drill's measurements. */
  facts: string;
  created_by: string;
  created_at: string;
}

/** A customer document attached to a criterion; the file is under $PADDOCK_HOME/documents. */
export interface ComplianceDocumentTable {
  id: string;
  org_id: string;
  criterion: string;
  name: string;
  content_type: string;
  size: number;
  sha256: string;
  uploaded_by: string;
  uploaded_at: string;
}

/** An evidence package issued for an org (the next one proves its log consistent with this one's). */
export interface EvidencePackageTable {
  id: string;
  org_id: string;
  period_from: string;
  period_to: string;
  tree_size: number | null;
  /** The signed checkpoint (C2SP note) the package proved its entries against. */
  checkpoint: string | null;
  manifest_sha256: string;
  created_at: string;
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
  audit_logs: AuditLogTable;
  audit_entries: AuditEntryTable;
  audit_outbox: AuditOutboxTable;
  audit_nodes: AuditNodeTable;
  audit_checkpoints: AuditCheckpointTable;
  audit_cursors: AuditCursorTable;
  vault_keys: VaultKeyTable;
  secrets: SecretTable;
  cell_events: CellEventTable;
  cell_host_ids: CellHostIdTable;
  agents: AgentTable;
  agent_versions: AgentVersionTable;
  conversations: ConversationTable;
  runs: RunTable;
  feedback: FeedbackTable;
  memories: MemoryTable;
  agent_tokens: AgentTokenTable;
  oauth_clients: OAuthClientTable;
  oauth_codes: OAuthCodeTable;
  oauth_grants: OAuthGrantTable;
  oauth_spent: OAuthSpentTable;
  mcp_sessions: McpSessionTable;
  mcp_passed_answers: McpPassedAnswerTable;
  mcp_held_notifications: McpHeldNotificationTable;
  mcp_session_events: McpSessionEventTable;
  connections: ConnectionTable;
  server_packages: ServerPackageTable;
  connection_tools: ConnectionToolTable;
  connection_offerings: ConnectionOfferingTable;
  grants: GrantTable;
  approvals: ApprovalTable;
  platform_settings: PlatformSettingTable;
  job_runs: JobRunTable;
  removed_people: RemovedPersonTable;
  webhooks: WebhookTable;
  webhook_deliveries: WebhookDeliveryTable;
  compliance_collections: ComplianceCollectionTable;
  compliance_evidence: ComplianceEvidenceTable;
  compliance_results: ComplianceResultTable;
  compliance_reviews: ComplianceReviewTable;
  compliance_review_lines: ComplianceReviewLineTable;
  compliance_review_comments: ComplianceReviewCommentTable;
  compliance_vendors: ComplianceVendorTable;
  compliance_incidents: ComplianceIncidentTable;
  compliance_exercises: ComplianceExerciseTable;
  compliance_documents: ComplianceDocumentTable;
  evidence_packages: EvidencePackageTable;
  model_prices: ModelPriceTable;
  usage_counters: UsageCounterTable;
  slack_installs: SlackInstallTable;
  slack_bindings: SlackBindingTable;
  slack_links: SlackLinkTable;
  slack_link_codes: SlackLinkCodeTable;
  slack_events: SlackEventTable;
  slack_cards: SlackCardTable;
  slack_threads: SlackThreadTable;
  conversation_writers: ConversationWriterTable;
  slack_waiting_runs: SlackWaitingRunTable;
  tools_versions: ToolsVersionTable;
  remote_auth_servers: RemoteAuthServerTable;
  remote_authorizations: RemoteAuthorizationTable;
  remote_auth_pending: RemoteAuthPendingTable;
}

/** Moves on with every write to the org's grants, connections and connection tools (database triggers, migration 025). */
export interface ToolsVersionTable {
  org_id: string;
  /** A bigint: a string on PostgreSQL. */
  version: number | string;
}

/** The org's own price of a model, in US dollars per million tokens. */
export interface ModelPriceTable {
  org_id: string;
  provider: string;
  model: string;
  input_per_mtok: number;
  output_per_mtok: number;
  updated_by: string;
  updated_at: string;
}

/** What an agent used and holds reserved in one window (a minute, a day, a month). */
export interface UsageCounterTable {
  org_id: string;
  agent_id: string;
  kind: 'runs' | 'tokens' | 'spend';
  period: string;
  used: number;
  reserved: number;
}

/** How Paddock is registered with a remote connection's OAuth authorization server (migration 030). */
export interface RemoteAuthServerTable {
  connection_id: string;
  org_id: string;
  /** 1: each person authorizes their own account. */
  per_person: number;
  resource: string | null;
  issuer: string | null;
  /** The authorization server's metadata (JSON), as discovered. */
  metadata: string | null;
  client_id: string | null;
  /** Vault-sealed; null for a public client. */
  client_secret: string | null;
  client_source: 'registered' | 'entered' | null;
  scope: string | null;
  version: number;
  created_by: string;
  created_at: string;
}

/** Tokens of one authorization of a remote connection: the org's, or one person's (sealed). */
export interface RemoteAuthorizationTable {
  id: string;
  org_id: string;
  connection_id: string;
  /** The person whose account it is; '' for the org's own. */
  user_key: string;
  access_token: string;
  refresh_token: string | null;
  version: number;
  expires_at: string | null;
  authorized_by: string;
  created_at: string;
  refreshed_at: string | null;
}

/** An authorization under way: single use, expiring, bound to the session that started it. */
export interface RemoteAuthPendingTable {
  state_hash: string;
  org_id: string;
  connection_id: string;
  user_key: string;
  started_by: string;
  session_hash: string;
  code_verifier: string;
  redirect_uri: string;
  expires_at: string;
}
