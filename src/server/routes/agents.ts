/** Agents: create, read, change (versioned), stop and resume (the kill switch), tokens. */
import { z } from 'zod';
import {
  createAgent,
  createAgentToken,
  deleteAgent,
  getAgent,
  listAgents,
  listAgentTokens,
  listAgentVersions,
  revokeAgentToken,
  setAgentState,
  updateAgent,
} from '../../agents/index.ts';
import { AgentLimitsSchema } from '../../budgets/index.ts';
import { AgentChecksSchema } from '../../checks/index.ts';
import { PROVIDERS } from '../../runtime/index.ts';
import { defineRoute } from '../route.ts';
import { Id, Name, OrgParams, Timestamp } from '../schemas.ts';

const Model = z.strictObject({
  provider: z
    .enum(PROVIDERS)
    .describe('openai, anthropic, google, openai-compatible (Ollama, vLLM…), or demo (a scripted replay)'),
  model: z.string().min(1).max(100),
  secretId: Id.nullable().optional().describe('the vault secret holding the BYOK key'),
  temperature: z.number().min(0).max(2).optional(),
  maxOutputTokens: z.number().int().min(1).max(1_000_000).optional(),
});

/** As stored (an agent saved before providers were checked may name another). */
const StoredModel = Model.extend({ provider: z.string() });

export const AgentSchema = z
  .object({
    id: Id,
    name: z.string(),
    description: z.string(),
    scope: z.enum(['private', 'team', 'organization']),
    ownerId: z.string(),
    teamId: z.string().nullable(),
    instructions: z.string(),
    model: StoredModel,
    outputSchema: z.record(z.string(), z.unknown()).nullable(),
    checks: AgentChecksSchema.nullable().describe('checks on its answers and its tool calls’ arguments'),
    limits: AgentLimitsSchema.describe('its limits and budgets ({} for none)'),
    state: z.enum(['active', 'stopped']),
    version: z.number().int(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Agent' });

export const AgentBodySchema = z.strictObject({
  name: Name(100),
  description: z.string().max(1000).optional(),
  scope: z.enum(['private', 'team', 'organization']),
  teamId: Id.nullable().optional(),
  instructions: z.string().max(100_000),
  model: Model,
  outputSchema: z
    .record(z.string(), z.unknown())
    .nullable()
    .optional()
    .describe('a JSON Schema its answers must match (structured output); checked when saved'),
  checks: AgentChecksSchema.nullable()
    .optional()
    .describe(
      'rules that block or redact what matches in its answers and its tool calls’ arguments, and how it streams',
    ),
  limits: AgentLimitsSchema.nullable()
    .optional()
    .describe(
      'runs a minute, tool calls a run, tokens a day (UTC) and a spend budget a day or a month; null or a null field turns one off',
    ),
});

const AgentParams = OrgParams.extend({ agent: Id });
export const AgentTokenSchema = z.object({
  id: Id,
  agentId: Id,
  name: z.string(),
  createdBy: z.string(),
  createdAt: Timestamp,
  expiresAt: Timestamp.nullable(),
  revokedAt: Timestamp.nullable(),
  client: z
    .object({ id: z.string(), name: z.string(), renewableUntil: Timestamp })
    .nullable()
    .describe(
      'the MCP client it was issued to through OAuth sign-in, and until when it may renew the token (an hour at a time); null for a token made by hand',
    ),
});

export const AgentListSchema = z.object({ agents: z.array(AgentSchema) });
export const AgentVersionsSchema = z.object({
  versions: z.array(
    z.object({
      version: z.number(),
      changedBy: z.string(),
      changedAt: Timestamp,
      snapshot: z.record(z.string(), z.unknown()),
    }),
  ),
});
export const AgentTokenListSchema = z.object({ tokens: z.array(AgentTokenSchema) });
export const AgentTokenBodySchema = z.strictObject({
  name: Name(100),
  expiresInDays: z.number().int().min(1).max(3650).nullable().default(90),
});
export const AgentTokenCreatedSchema = z.object({ token: z.string(), info: AgentTokenSchema });

export const agentRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/agents',
    summary: 'List the agents you can see (by their scope)',
    tag: 'agents',
    access: { permission: 'agents.read' },
    params: OrgParams,
    response: AgentListSchema,
    handler: async ({ ctx, deps }) => ({ agents: await listAgents(deps.store.db, ctx) }),
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/agents',
    summary: 'Create an agent (you become its owner; it has no grants, so it can call nothing yet)',
    tag: 'agents',
    access: { permission: 'agents.write' },
    params: OrgParams,
    body: AgentBodySchema,
    response: AgentSchema,
    status: 201,
    handler: async ({ ctx, deps, body }) => createAgent(deps.store.db, ctx, body),
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/agents/{agent}',
    summary: 'Read an agent',
    tag: 'agents',
    access: { permission: 'agents.read' },
    params: AgentParams,
    response: AgentSchema,
    handler: async ({ ctx, deps, params }) => getAgent(deps.store.db, ctx, params.agent),
  }),
  defineRoute({
    method: 'patch',
    path: '/api/v1/orgs/{org}/agents/{agent}',
    summary: 'Change an agent: a new version, with the before/after diff in the audit trail',
    tag: 'agents',
    access: { permission: 'agents.write' },
    params: AgentParams,
    body: AgentBodySchema.partial(),
    response: AgentSchema,
    handler: async ({ ctx, deps, params, body }) => updateAgent(deps.store.db, ctx, params.agent, body),
  }),
  defineRoute({
    method: 'delete',
    path: '/api/v1/orgs/{org}/agents/{agent}',
    summary: 'Delete an agent',
    tag: 'agents',
    access: { permission: 'agents.write' },
    params: AgentParams,
    status: 204,
    handler: async ({ ctx, deps, params }) => {
      await deleteAgent(deps.store.db, ctx, params.agent);
      // A deleted agent's calls in flight and servers end as a stopped one's do.
      await deps.sessions.publish({ kind: 'agent', orgId: ctx.scope.orgId, agentId: params.agent });
      return undefined;
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/agents/{agent}/versions',
    summary: "An agent's change history, newest first",
    tag: 'agents',
    access: { permission: 'agents.read' },
    params: AgentParams,
    response: AgentVersionsSchema,
    handler: async ({ ctx, deps, params }) => ({
      versions: await listAgentVersions(deps.store.db, ctx, params.agent),
    }),
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/agents/{agent}/stop',
    summary: 'Kill switch: stop the agent (no tool call of it runs from now on)',
    tag: 'agents',
    access: { permission: 'agents.write' },
    params: AgentParams,
    response: AgentSchema,
    handler: async ({ ctx, deps, params }) => deps.killSwitch.stopAgent(ctx, params.agent),
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/agents/{agent}/resume',
    summary: 'Resume a stopped agent',
    tag: 'agents',
    access: { permission: 'agents.write' },
    params: AgentParams,
    response: AgentSchema,
    handler: async ({ ctx, deps, params }) => setAgentState(deps.store.db, ctx, params.agent, 'active'),
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/agents/{agent}/tokens',
    summary: "An agent's tokens for the MCP endpoint (metadata only)",
    tag: 'agents',
    access: { permission: 'agents.read' },
    params: AgentParams,
    response: AgentTokenListSchema,
    handler: async ({ ctx, deps, params }) => ({
      tokens: await listAgentTokens(deps.store.db, ctx, params.agent),
    }),
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/agents/{agent}/tokens',
    summary: 'Create an agent token; its value is in this response only',
    tag: 'agents',
    access: { permission: 'agents.write' },
    params: AgentParams,
    body: AgentTokenBodySchema,
    response: AgentTokenCreatedSchema,
    status: 201,
    handler: async ({ ctx, deps, params, body }) => createAgentToken(deps.store.db, ctx, params.agent, body),
  }),
  defineRoute({
    method: 'delete',
    path: '/api/v1/orgs/{org}/agents/{agent}/tokens/{token}',
    summary: 'Revoke an agent token (its calls in flight end)',
    tag: 'agents',
    access: { permission: 'agents.write' },
    params: AgentParams.extend({ token: Id }),
    response: AgentTokenSchema,
    handler: async ({ ctx, deps, params }) => {
      const info = await revokeAgentToken(deps.store.db, ctx, params.agent, params.token);
      // Its calls in flight end now, on every replica (the next request is refused by the database).
      await deps.sessions.publish({ kind: 'agent-tokens', orgId: ctx.scope.orgId, tokenIds: [info.id] });
      return info;
    },
  }),
];
