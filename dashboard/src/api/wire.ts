/**
 * What travels between the dashboard and the API, each shape derived from the zod schema the
 * server declares for it (types only: nothing of the server is bundled). A request body is the
 * schema's input (defaults may be left out), a response its output. wire.test.ts fails on a
 * shape written out by hand instead.
 */
import type { z } from 'zod';
import type * as Agents from '../../../src/server/routes/agents.ts';
import type * as Approvals from '../../../src/server/routes/approvals.ts';
import type * as Audit from '../../../src/server/routes/audit.ts';
import type * as Budgets from '../../../src/server/routes/budgets.ts';
import type * as Cells from '../../../src/server/routes/cells.ts';
import type * as Compliance from '../../../src/server/routes/compliance.ts';
import type * as ComplianceDocuments from '../../../src/server/routes/compliance-documents.ts';
import type * as Registers from '../../../src/server/routes/compliance-registers.ts';
import type * as Reviews from '../../../src/server/routes/compliance-reviews.ts';
import type * as ConnectionOAuth from '../../../src/server/routes/connection-oauth.ts';
import type * as Connections from '../../../src/server/routes/connections.ts';
import type * as Conversations from '../../../src/server/routes/conversations.ts';
import type * as DemoRoutes from '../../../src/server/routes/demo.ts';
import type * as FeedbackRoutes from '../../../src/server/routes/feedback.ts';
import type * as Grants from '../../../src/server/routes/grants.ts';
import type * as Invitations from '../../../src/server/routes/invitations.ts';
import type * as Live from '../../../src/server/routes/live.ts';
import type * as MemoryRoutes from '../../../src/server/routes/memory.ts';
import type * as Orgs from '../../../src/server/routes/orgs.ts';
import type * as People from '../../../src/server/routes/people.ts';
import type * as Runs from '../../../src/server/routes/runs.ts';
import type * as Secrets from '../../../src/server/routes/secrets.ts';
import type * as ServerPackages from '../../../src/server/routes/server-packages.ts';
import type * as SessionRoutes from '../../../src/server/routes/session.ts';
import type * as Slack from '../../../src/server/routes/slack.ts';
import type * as Sso from '../../../src/server/routes/sso.ts';
import type * as Teams from '../../../src/server/routes/teams.ts';
import type * as Tokens from '../../../src/server/routes/tokens.ts';
import type * as S from '../../../src/server/schemas.ts';

/** What the server answers with. */
type Out<T extends z.ZodType> = z.output<T>;
/** What the server takes. */
type In<T extends z.ZodType> = z.input<T>;

// Errors and the session.
export type ErrorBody = Out<typeof S.ErrorSchema>;
export type Ok = Out<typeof S.Ok>;
export type Session = Out<typeof S.SessionSchema>;
export type SignedIn = Out<typeof S.CsrfSchema>;
export type SignIn = In<typeof SessionRoutes.SignInBodySchema>;
export type SigninLink = In<typeof SessionRoutes.SigninLinkBodySchema>;
export type PasswordChange = In<typeof SessionRoutes.PasswordBodySchema>;
export type SetupNeeded = Out<typeof SessionRoutes.SetupNeededSchema>;
export type SetupInput = In<typeof SessionRoutes.SetupBodySchema>;
export type SetupResult = Out<typeof SessionRoutes.SetupResultSchema>;

// Organizations and their people.
export type Role = Out<typeof S.RoleSchema>;
export type OrgSettings = Out<typeof S.OrgSettingsSchema>;
export type EgressRule = OrgSettings['egressAllowlist'][number];
export type Org = Out<typeof S.OrgSchema>;
export type OrgWithRole = Out<typeof Orgs.OrgWithRoleSchema>;
export type OrgList = Out<typeof Orgs.OrgListSchema>;
export type OrgUpdate = In<typeof Orgs.OrgUpdateBodySchema>;
export type Person = Out<typeof S.PersonSchema>;
export type PeopleList = Out<typeof People.PeopleListSchema>;
export type RoleChange = In<typeof People.RoleChangeBodySchema>;
export type RemovalPreview = Out<typeof S.RemovalPreviewSchema>;
export type RemovalChoice = In<typeof S.RemovalBodySchema>;
export type Invitation = Out<typeof S.InvitationSchema>;
export type InvitationList = Out<typeof Invitations.InvitationListSchema>;
export type InviteInput = In<typeof Invitations.InviteBodySchema>;
export type InviteResult = Out<typeof Invitations.InviteResultSchema>;
export type InvitationPeekInput = In<typeof Invitations.InvitationPeekBodySchema>;
export type InvitationPeek = Out<typeof S.InvitationPeekSchema>;
export type InvitationAccept = In<typeof Invitations.InvitationAcceptBodySchema>;
export type Team = Out<typeof S.TeamSchema>;
export type TeamList = Out<typeof Teams.TeamListSchema>;
export type TeamInput = In<typeof Teams.TeamBodySchema>;
export type Token = Out<typeof S.TokenSchema>;
export type TokenList = Out<typeof Tokens.TokenListSchema>;
export type TokenInput = In<typeof Tokens.TokenBodySchema>;
export type TokenCreated = Out<typeof Tokens.TokenCreatedSchema>;
export type SsoSettings = Out<typeof S.SsoSchema>;
export type SsoStatus = Out<typeof Sso.SsoStatusSchema>;
export type SsoInput = In<typeof Sso.SsoBodySchema>;
export type SlackStatus = Out<typeof Slack.SlackStatusSchema>;
export type SlackLink = Out<typeof Slack.SlackLinkSchema>;
export type SlackLinkCode = Out<typeof Slack.SlackLinkCodeSchema>;
export type SlackInstallInput = In<typeof Slack.SlackInstallBodySchema>;
export type SlackInstall = NonNullable<SlackStatus['slack']>;
export type SlackBindInput = In<typeof Slack.SlackBindBodySchema>;

// The audit trail.
export type AuditEvent = Out<typeof S.AuditEventSchema>;
export type AuditPage = Out<typeof Audit.AuditPageSchema>;
export type AuditEntry = Out<typeof Audit.AuditEntrySchema>;
/** An entry's inclusion proof against the newest signed checkpoint that covers it. */
export type InclusionProof = AuditEntry['proof'];
export type Checkpoint = Out<typeof Audit.CheckpointSchema>;
type AuditQueryInput = In<typeof Audit.AuditQuerySchema>;
/** The filters of `GET …/audit` as a page holds them: an empty value is left out of the request. */
export type AuditQuery = {
  [K in Exclude<keyof AuditQueryInput, 'cursor' | 'limit'>]?: AuditQueryInput[K] | '';
};
export type VerifierKey = Out<typeof Audit.VerifierKeySchema>;
/** Counts per hour or day, oldest first, the last bucket the current one. */
export type Activity = Out<typeof Audit.ActivitySchema>;
export type ActivityBucket = Activity['buckets'][number];
export type ActivityQuery = In<typeof Audit.ActivityQuerySchema>;
export type AuditExportQuery = In<typeof Audit.AuditExportQuerySchema>;
export type ExportFormat = NonNullable<AuditExportQuery['format']>;

// Secrets and the org's cell.
export type Secret = Out<typeof Secrets.SecretSchema>;
export type SecretKind = Secret['kind'];
export type SecretList = Out<typeof Secrets.SecretListSchema>;
export type SecretInput = In<typeof Secrets.SecretBodySchema>;
export type SecretUpdate = In<typeof Secrets.SecretUpdateBodySchema>;
export type SecretValue = In<typeof Secrets.SecretValueBodySchema>;
export type Cell = Out<typeof Cells.CellSchema>;
export type CellState = Cell['state'];
/** `GET …/cell`: no cell until it first starts; no sandbox (and a `problem`) when cells are off. */
export type CellStatus = Out<typeof Cells.CellStatusSchema>;
export type CellHistory = Out<typeof Cells.CellHistorySchema>;
/** One health-history entry, newest first. */
export type CellEvent = CellHistory['events'][number];

// Agents.
export type Agent = Out<typeof Agents.AgentSchema>;
export type AgentScope = Agent['scope'];
export type AgentState = Agent['state'];
/** An agent's model settings; `secretId` is the vault secret holding its key (bring your own key). */
export type AgentModel = Agent['model'];
export type AgentList = Out<typeof Agents.AgentListSchema>;
/** The body of `POST …/agents`; `PATCH` takes any part of it. */
export type AgentInput = In<typeof Agents.AgentBodySchema>;
/** A provider the server runs models of (a stored agent may still name another). */
export type ModelProvider = AgentInput['model']['provider'];
export type AgentVersions = Out<typeof Agents.AgentVersionsSchema>;
/** One entry of an agent's history: what the agent was at that version. */
export type AgentVersion = AgentVersions['versions'][number];
export type AgentToken = Out<typeof Agents.AgentTokenSchema>;
export type AgentTokenList = Out<typeof Agents.AgentTokenListSchema>;
export type AgentTokenInput = In<typeof Agents.AgentTokenBodySchema>;
export type AgentTokenCreated = Out<typeof Agents.AgentTokenCreatedSchema>;
/** An agent's checks on its answers and its tool calls' arguments, and how it streams. */
export type AgentChecks = NonNullable<Agent['checks']>;
export type CheckRule = AgentChecks['rules'][number];

// Team feedback on agents' answers.
export type Feedback = Out<typeof FeedbackRoutes.FeedbackSchema>;
/** An agent's flags, and per day its runs that ended and the flags given. */
export type FeedbackList = Out<typeof FeedbackRoutes.FeedbackListSchema>;
export type FlaggedDay = FeedbackList['days'][number];
export type FeedbackInput = In<typeof FeedbackRoutes.FeedbackBodySchema>;
export type FeedbackQuery = In<typeof FeedbackRoutes.FeedbackListQuerySchema>;
export type FeedbackResolve = In<typeof FeedbackRoutes.FeedbackResolveSchema>;
export type MemoryEntry = Out<typeof MemoryRoutes.MemoryEntrySchema>;
export type MemoryList = Out<typeof MemoryRoutes.MemoryListSchema>;
export type MemoryQuery = In<typeof MemoryRoutes.MemoryListQuerySchema>;
export type MemoryPatch = In<typeof MemoryRoutes.MemoryPatchSchema>;
export type AgentMemoryDeleted = Out<typeof MemoryRoutes.AgentMemoryDeletedSchema>;

// Connections, their tools, grants and approvals.
export type Connection = Out<typeof Connections.ConnectionSchema>;
export type ConnectionTransport = Connection['transport'];
export type ConnectionList = Out<typeof Connections.ConnectionListSchema>;
/** Whether a remote connection signs in with OAuth and is connected (never a token). */
export type ConnectionOAuthStatus = Out<typeof ConnectionOAuth.OAuthStatusSchema>;
export type ConnectionOAuthStartInput = In<typeof ConnectionOAuth.OAuthStartBodySchema>;
export type ConnectionOAuthStart = Out<typeof ConnectionOAuth.OAuthStartSchema>;
/** A stdio server run inside the org's sandbox, or a remote one reached through its egress proxy. */
export type ConnectionInput = In<typeof Connections.ConnectionBodySchema>;
export type Tool = Out<typeof Connections.ToolSchema>;
export type ToolList = Out<typeof Connections.ToolListSchema>;
/** The tools now, the changed ones, the grants suspended or re-pinned, the tools refused. */
export type ToolRefresh = Out<typeof Connections.ToolRefreshSchema>;
/** What a connection offers besides tools (prompts, resources, templates), as last listed. */
export type OfferingList = Out<typeof Connections.OfferingListSchema>;
export type Offering = OfferingList['offerings'][number];
export type ConnectionPackageChange = In<typeof Connections.ConnectionPackageBodySchema>;
export type ConnectionPackageChanged = Out<typeof Connections.ConnectionPackageChangedSchema>;
export type ServerPackage = Out<typeof ServerPackages.ServerPackageSchema>;
export type ServerPackageList = Out<typeof ServerPackages.ServerPackageListSchema>;
export type ServerPackageInstall = In<typeof ServerPackages.ServerPackageInstallBodySchema>;
export type ServerPackageInstalled = Out<typeof ServerPackages.ServerPackageInstalledSchema>;
/** A catalog entry as this org sees it: its source, what it needs, whether it can be added now. */
export type CatalogCard = Out<typeof ServerPackages.CatalogCardSchema>;
export type CatalogList = Out<typeof ServerPackages.CatalogListSchema>;
export type CatalogAdd = In<typeof ServerPackages.CatalogAddBodySchema>;
/** The connection made from an entry, its tools, and read-only tools suggested as starting grants. */
export type CatalogAdded = Out<typeof ServerPackages.CatalogAddedSchema>;
export type Grant = Out<typeof Grants.GrantSchema>;
export type GrantStatus = Grant['status'];
export type GrantList = Out<typeof Grants.GrantListSchema>;
export type GrantInput = In<typeof Grants.GrantBodySchema>;
export type Constraint = NonNullable<GrantInput['constraints']>[number];
export type GrantSuggestions = Out<typeof Grants.GrantSuggestionsSchema>;
export type GrantSuggestion = GrantSuggestions['suggestions'][number];
export type Permissions = Out<typeof Grants.PermissionsSchema>;
/** One tool of `GET …/permissions`: what the agent's grants add up to for it. */
export type ToolPermission = Permissions['tools'][number];
export type ToolCall = In<typeof Grants.ToolCallBodySchema>;
export type ToolCallResult = Out<typeof Grants.ToolCallResultSchema>;
export type Access = ToolPermission['access'];
/** One prompt of `GET …/permissions`. */
export type PromptPermission = Permissions['prompts'][number];
/** One resource grant of `GET …/permissions`, in words. */
export type ResourcePermission = Permissions['resources'][number];
/** What one connection's server may ask of the agent (sampling or elicitation), of `GET …/permissions`. */
export type AskPermission = Permissions['asks'][number];
export type Approval = Out<typeof Approvals.ApprovalSchema>;
export type ApprovalStatus = Approval['status'];
export type ApprovalList = Out<typeof Approvals.ApprovalListSchema>;
export type Decision = In<typeof Approvals.DecisionBodySchema>;

// What changes while a person watches (GET …/live as server-sent events).
export type LiveEvent = Out<typeof Live.LiveEventSchema>;
export type LiveApproval = Out<typeof Live.LiveApprovalSchema>;
export type LiveCell = Extract<LiveEvent, { type: 'cell' }>['data']['cell'];

// Agent runs and the demo.
export type Run = Out<typeof Runs.RunSchema>;
export type RunStatus = Run['status'];
export type RunList = Out<typeof Runs.RunListSchema>;
/** A run with its audit entries (none for members, who do not read the trail). */
export type RunDetail = Out<typeof Runs.RunDetailSchema>;
/** One of your conversations, read back as the chat showed it (its messages are UI messages). */
export type Conversation = Out<typeof Conversations.ConversationSchema>;
export type ConversationSummary = Out<typeof Conversations.ConversationSummarySchema>;
export type ConversationList = Out<typeof Conversations.ConversationListSchema>;
/** The body of `POST …/agents/{agent}/runs`. */
export type RunStart = In<typeof Runs.RunBodySchema>;
type RunListQueryInput = In<typeof Runs.RunListQuerySchema>;
/** The filters of `GET …/runs`: an empty value is left out of the request. */
export type RunListQuery = {
  [K in keyof RunListQueryInput]?: RunListQueryInput[K] | '';
};
/**
 * A call a run waits for a person on. The stream's `data-approval` part carries its first two
 * fields (the route writes it from the same call the run's `waitingFor` lists).
 */
export type RunWait = Run['waitingFor'][number];
export type RunApproval = Pick<RunWait, 'approvalId' | 'tool'>;
export type Demo = Out<typeof DemoRoutes.DemoSchema>;

// The compliance center.
export type ControlStatus = Out<typeof Compliance.ControlStatusSchema>;
export type CriteriaGrid = Out<typeof Compliance.CriteriaGridSchema>;
export type CriterionRow = Out<typeof Compliance.CriterionRowSchema>;
export type CriterionState = CriterionRow['state'];
export type Control = Out<typeof Compliance.ControlSchema>;
export type ControlList = Out<typeof Compliance.ControlListSchema>;
export type OrgUsage = Out<typeof Budgets.OrgUsageSchema>;
export type ControlResult = Out<typeof Compliance.ControlResultSchema>;
export type ControlDetail = Out<typeof Compliance.ControlDetailSchema>;
export type EvidenceRecord = Out<typeof Compliance.EvidenceRecordSchema>;
export type Collection = Out<typeof Compliance.CollectionSchema>;
/** The latest collections, oldest first, with their results counted by status. */
export type CollectionTrendList = Out<typeof Compliance.CollectionTrendSchema>;
export type CollectionTrend = CollectionTrendList['collections'];
export type ComplianceDocument = Out<typeof ComplianceDocuments.DocumentSchema>;
export type Review = Out<typeof Reviews.ReviewSchema>;
export type ReviewList = Out<typeof Reviews.ReviewListSchema>;
export type ReviewLine = Out<typeof Reviews.ReviewLineSchema>;
export type ReviewComment = Out<typeof Reviews.ReviewCommentSchema>;
export type ReviewInput = In<typeof Reviews.ReviewBodySchema>;
export type LineDecision = In<typeof Reviews.LineDecisionBodySchema>;
export type CommentInput = In<typeof Reviews.CommentBodySchema>;
export type Vendor = Out<typeof Registers.VendorSchema>;
export type VendorList = Out<typeof Registers.VendorListSchema>;
export type VendorAssessment = Out<typeof Registers.VendorAssessmentSchema>;
export type VendorAssessmentInput = In<typeof Registers.VendorAssessmentBodySchema>;
export type Incident = Out<typeof Registers.IncidentSchema>;
export type IncidentList = Out<typeof Registers.IncidentListSchema>;
export type IncidentInput = In<typeof Registers.IncidentBodySchema>;
export type IncidentChange = In<typeof Registers.IncidentChangeBodySchema>;
export type Exercise = Out<typeof Registers.ExerciseSchema>;
export type ExerciseList = Out<typeof Registers.ExerciseListSchema>;
export type TabletopInput = In<typeof Registers.TabletopBodySchema>;
export type DrillInput = In<typeof Registers.DrillBodySchema>;
