/** Shapes shared by several routes (and so by the OpenAPI document). */
import { z } from 'zod';
import { hasMisleadingCharacters } from '../html/index.ts';
import { ROLES, SLUG_PATTERN } from '../identity/index.ts';

export const RoleSchema = z.enum(ROLES).meta({ id: 'Role' });
export const Id = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z]+_[0-9a-z]+$/, 'not an id');
export const Slug = z.string().regex(SLUG_PATTERN, 'lowercase letters, digits and inner dashes, 1 to 40');
export const OrgParams = z.strictObject({ org: Slug });
export const Timestamp = z.string().describe('ISO-8601 UTC time');
/** A name people read (an org's, an agent's, a team's…): trimmed, free of characters that hide or disguise text. */
export const Name = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine(
      (s) => !hasMisleadingCharacters(s),
      'may not hold control, bidirectional-override or invisible characters',
    );

export const OrgSettingsSchema = z
  .strictObject({
    sessionHours: z.number().int().min(1).max(720),
    maxTokenDays: z.number().int().min(1).max(3650).nullable(),
    auditRetentionDays: z.number().int().min(1).max(36500).nullable(),
    runRetentionDays: z
      .number()
      .int()
      .min(1)
      .max(36500)
      .nullable()
      .describe('run records are deleted this many days after they ended (daily); null keeps them'),
    conversationRetentionDays: z
      .number()
      .int()
      .min(1)
      .max(36500)
      .nullable()
      .describe(
        'conversations untouched this many days are deleted with their runs (daily); null keeps them',
      ),
    memoryRetentionDays: z
      .number()
      .int()
      .min(1)
      .max(36500)
      .nullable()
      .describe(
        'agents’ memory entries unchanged this many days are deleted, pinned ones too (daily); null keeps them',
      ),
    siemWebhookUrl: z
      .url({ protocol: /^https?$/ })
      .max(500)
      .nullable()
      .describe('https, or http to this machine only'),
    siemWebhookSecret: z
      .string()
      .regex(
        /^sec_[0-9a-z]+$/,
        'the id of a vault secret (sec_…), not its value: store the value under Secrets first',
      )
      .max(64)
      .nullable()
      .describe('vault secret sent as the webhook’s Authorization header (e.g. a secret "Bearer …")'),
    egressAllowlist: z
      .array(
        z.strictObject({
          host: z
            .string()
            .min(1)
            .max(253)
            .regex(/^[A-Za-z0-9.:[\]-]+$/, 'a host name or IP address')
            // Stored as the proxy compares it: lowercase, IPv6 without brackets.
            .transform((h) => h.replace(/^\[(.*)\]$/, '$1').toLowerCase()),
          port: z.number().int().min(1).max(65535),
          allowPrivate: z
            .boolean()
            .optional()
            .describe('allow private/loopback addresses (e.g. a local Ollama)'),
        }),
      )
      .max(200)
      .describe("host:port pairs the org's cell may reach through its egress proxy"),
    approvalsNeedTwoPeople: z
      .boolean()
      .describe('a high-risk call needs an approver other than the person who asked for it'),
    approvalMinutes: z.number().int().min(1).max(10080).describe('how long an approval stays usable'),
    approvalWaitSeconds: z
      .number()
      .int()
      .min(0)
      .max(120)
      .describe(
        'how long a call needing approval waits (paused) for a person before it answers approval_required',
      ),
    runTextRecording: z
      .enum(['full', 'redacted', 'digest'])
      .describe(
        'how agent runs’ messages and outputs are recorded in the audit trail: in full, redacted, or as SHA-256 digests',
      ),
    runMaxSteps: z.number().int().min(1).max(100).describe('a run ends after this many model steps'),
    runMaxSeconds: z.number().int().min(5).max(3600).describe('a run ends after this many seconds'),
    keyRotationDays: z
      .number()
      .int()
      .min(1)
      .max(3650)
      .describe('model keys not rotated for this many days fail the compliance center’s rotation control'),
  })
  .meta({ id: 'OrgSettings' });

export const OrgSchema = z
  .object({
    id: Id,
    slug: Slug,
    name: z.string(),
    settings: OrgSettingsSchema,
    createdAt: Timestamp,
    agentsStoppedAt: Timestamp.nullable().describe('set while the org-wide kill switch is on'),
  })
  .meta({ id: 'Org' });

export const PersonSchema = z
  .object({
    id: Id,
    email: z.string(),
    name: z.string(),
    role: RoleSchema,
    hasPassword: z.boolean(),
    joinedAt: Timestamp,
  })
  .meta({ id: 'Person' });

export const TokenSchema = z
  .object({
    id: Id,
    name: z.string(),
    role: RoleSchema,
    personId: Id.nullable(),
    createdBy: z.string(),
    createdAt: Timestamp,
    expiresAt: Timestamp.nullable(),
    revokedAt: Timestamp.nullable(),
    lastUsedAt: Timestamp.nullable(),
  })
  .meta({ id: 'Token' });

export const TeamSchema = z
  .object({ id: Id, name: z.string(), createdAt: Timestamp, members: z.array(Id) })
  .meta({ id: 'Team' });

export const InvitationSchema = z
  .object({
    id: Id,
    email: z.string(),
    role: RoleSchema,
    createdBy: z.string(),
    createdAt: Timestamp,
    expiresAt: Timestamp,
    usedAt: Timestamp.nullable(),
  })
  .meta({ id: 'Invitation' });

export const AuditEventSchema = z
  .object({
    index: z.number().int().describe('Position in the org log (the Merkle tree leaf index)'),
    id: z.string(),
    time: Timestamp,
    actor: z.object({ type: z.string(), id: z.string() }),
    action: z.string(),
    target: z.object({ type: z.string(), id: z.string() }).nullable(),
    outcome: z.string(),
    requestId: z.string().nullable(),
    runId: z.string().nullable().describe('The agent run the event belongs to'),
    details: z
      .record(z.string(), z.unknown())
      .nullable()
      .describe('null once erased (a retention run, a deletion request)'),
    leafHash: z.string().describe('base64 SHA-256(0x00 || canonical header)'),
    erased: z.boolean(),
    erasedBy: z.string().nullable().describe('Id of the entry that erased the details'),
    format: z.union([z.literal(1), z.literal(2)]).describe('Entry format: 2 commits to details by digest'),
  })
  .meta({ id: 'AuditEvent' });

export const ErrorSchema = z
  .object({
    error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
  })
  .meta({ id: 'Error' });

export const Ok = z.object({ ok: z.literal(true) });

/** What signing in (a password, a link, an invitation) answers: the session's CSRF token. */
export const CsrfSchema = z.object({ csrfToken: z.string() });

export const SsoSchema = z
  .object({
    issuer: z.string(),
    clientId: z.string(),
    hasClientSecret: z.boolean(),
    autoProvisionRole: RoleSchema.nullable(),
    updatedAt: z.string(),
    redirectUri: z.string().describe('Register this redirect URI with the identity provider'),
  })
  .meta({ id: 'SsoSettings' });

export const SessionSchema = z
  .object({
    kind: z.enum(['session', 'token']),
    person: z
      .object({ id: z.string(), email: z.string(), name: z.string(), hasPassword: z.boolean() })
      .nullable(),
    token: z.object({ id: z.string(), orgId: z.string(), role: RoleSchema }).nullable(),
    csrfToken: z.string().nullable(),
  })
  .meta({ id: 'Session' });

export const InvitationPeekSchema = z
  .object({
    orgName: z.string(),
    email: z.string(),
    role: RoleSchema,
    existingAccount: z.boolean().describe('an account with a password exists: accept with that password'),
    passwordlessAccount: z
      .boolean()
      .describe(
        'an account that signs in without a password exists (single sign-on, a link): accept without one; the session opens this org only',
      ),
    signedIn: z
      .boolean()
      .describe(
        'this browser is signed in as the invited account: it accepts as it is (with its CSRF token)',
      ),
  })
  .meta({ id: 'InvitationPeek' });

const HeldTokenSchema = z.object({
  id: Id,
  name: z.string(),
  role: RoleSchema,
  expiresAt: Timestamp.nullable(),
  lastUsedAt: Timestamp.nullable(),
});

const IssuedAgentTokenSchema = z.object({
  id: Id,
  name: z.string(),
  agentId: Id,
  agentName: z.string(),
  createdBy: z.string().describe('the person, or the service token (tok_…), that issued it'),
  expiresAt: Timestamp.nullable(),
});

export const RemovalPreviewSchema = z
  .object({
    person: PersonSchema,
    sessions: z.number().int().describe('dashboard sessions that end (a session spans all their orgs)'),
    apiTokens: z.array(HeldTokenSchema).describe('their API tokens here: revoked'),
    agentTokens: z
      .array(IssuedAgentTokenSchema)
      .describe('agent tokens they issued: revoked, calls in flight end'),
    invitations: z
      .array(z.object({ id: Id, email: z.string(), role: RoleSchema, expiresAt: Timestamp }))
      .describe('invitations they sent, not used yet: withdrawn'),
    signinLinks: z.number().int().describe('unused sign-in links for them: withdrawn'),
    privateAgents: z
      .array(z.object({ id: Id, name: z.string(), state: z.enum(['active', 'stopped']) }))
      .describe('stopped and handed over, or deleted'),
    privateConnections: z
      .array(z.object({ id: Id, name: z.string(), transport: z.enum(['stdio', 'http', 'builtin']) }))
      .describe('handed over (servers stopped), or deleted'),
    review: z
      .object({ serviceTokens: z.array(HeldTokenSchema), agentTokens: z.array(IssuedAgentTokenSchema) })
      .describe(
        'service tokens they made and agent tokens made with those: kept unless listed in revokeTokens',
      ),
    transferTargets: z
      .array(PersonSchema)
      .describe('owners and admins who may receive their private agents and connections'),
    defaultTransferTo: Id.nullable().describe('who receives them when transferTo is not given'),
  })
  .meta({ id: 'RemovalPreview' });

export const RemovalBodySchema = z
  .strictObject({
    privateResources: z
      .enum(['transfer', 'delete'])
      .default('transfer')
      .describe('their private agents and connections: stopped and handed over (default), or deleted'),
    transferTo: Id.optional().describe('an owner or admin of the org; you by default'),
    revokeTokens: z
      .array(Id)
      .max(100)
      .default([])
      .describe('ids from the preview’s review list to revoke as well; the rest are kept'),
  })
  .default({ privateResources: 'transfer', revokeTokens: [] })
  .meta({ id: 'RemovalChoice' });
