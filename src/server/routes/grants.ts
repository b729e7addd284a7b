/** An agent's grants: the only tools it may call, prompts it may get, resources it may read. Default deny. */
import { z } from 'zod';
import { getAgent } from '../../agents/index.ts';
import { connectionsHiddenFrom, getConnection } from '../../connections/index.ts';
import { answerablePerson } from '../../identity/index.ts';
import {
  checkCall,
  createGrant,
  type GrantInfo,
  listGrants,
  type NewGrant,
  revokeGrant,
} from '../../policy/grants-service.ts';
import { effectivePermissions, offeringPermissions } from '../../policy/permissions.ts';
import { auditedCalls, suggestionsFor } from '../../policy/suggestions-service.ts';
import { requestSpanOf } from '../observe.ts';
import { defineRoute } from '../route.ts';
import { Id, OrgParams, Timestamp } from '../schemas.ts';
import { ToolExtrasShape } from './connections.ts';

const Arg = z.string().min(1).max(100);
const Values = z.array(z.string().max(1000)).min(1).max(100);
/** A bound: a number with at most 4 decimals (Cedar's `decimal`), checked when the grant is saved. */
const Bound = z.number().finite();

export const Constraint = z.union([
  z.strictObject({ arg: Arg, prefix: z.string().max(1000) }),
  z.strictObject({ arg: Arg, oneOf: Values }),
  z.strictObject({ arg: Arg, eachOneOf: Values.describe('a list argument: each element is one of these') }),
  z.strictObject({
    arg: Arg,
    notContains: z
      .array(z.string().min(1).max(200))
      .min(1)
      .max(20)
      .describe('a text argument, if given, contains none of these (literally)'),
  }),
  z.strictObject({ arg: Arg, absent: z.literal(true).describe('the argument is not given (or null)') }),
  z.strictObject({ arg: Arg, max: Bound }),
  z.strictObject({ arg: Arg, min: Bound }),
]);

export const GrantSchema = z
  .object({
    id: Id,
    agentId: Id,
    connectionId: Id,
    kind: z.enum(['tool', 'resource', 'prompt', 'sampling', 'elicitation']),
    tool: z.string().optional().describe('a tool grant: the tool, or * for every tool of the connection'),
    prompt: z.string().optional().describe('a prompt grant: the prompt, or * for every prompt'),
    resource: z.string().optional().describe('a resource grant: the URI, or the start of those it covers'),
    match: z
      .enum(['exact', 'prefix'])
      .optional()
      .describe('a resource grant: the URI exactly, or as a prefix'),
    effect: z.enum(['allow', 'deny']),
    constraints: z.array(z.record(z.string(), z.unknown())),
    notBefore: z.number().optional(),
    notAfter: z.number().optional(),
    requiresApproval: z.boolean(),
    toolDigest: z.string().nullable(),
    status: z.enum(['active', 'suspended', 'revoked']),
    createdBy: z.string(),
    createdAt: Timestamp,
    revokedBy: z.string().nullable(),
    revokedAt: Timestamp.nullable(),
  })
  .meta({ id: 'Grant' });

const AgentParams = OrgParams.extend({ agent: Id });

export const GrantListSchema = z.object({ grants: z.array(GrantSchema) });

/** A grant as the API shows it: what it is of under its kind's name. */
export function grantView(g: GrantInfo) {
  const { tool, match: _, kind = 'tool', ...rest } = g;
  if (kind === 'tool') return { ...rest, kind, tool };
  if (kind === 'prompt') return { ...rest, kind, prompt: tool };
  if (kind === 'sampling' || kind === 'elicitation') return { ...rest, kind };
  return { ...rest, kind, resource: tool, match: g.match ?? ('exact' as const) };
}

const OfferingPermissionShape = {
  connectionId: Id,
  connectionName: z.string(),
  namespace: z.string(),
  access: z.enum(['allowed', 'conditional', 'denied']),
  needsApproval: z.boolean(),
  conditions: z.array(z.string()),
  grants: z.array(Id),
  suspended: z.array(Id),
};

/** A server's ask is allowed or denied, never held for approval. */
const { needsApproval: _, ...AskShape } = OfferingPermissionShape;

export const PermissionsSchema = z.object({
  tools: z.array(
    z.object({
      connectionId: Id,
      connectionName: z.string(),
      namespace: z.string(),
      tool: z.object({
        name: z.string(),
        description: z.string(),
        inputSchema: z.record(z.string(), z.unknown()),
        ...ToolExtrasShape,
      }),
      access: z.enum(['allowed', 'conditional', 'denied']),
      needsApproval: z.boolean(),
      conditions: z.array(z.string()),
      grants: z.array(Id),
      suspended: z.array(Id),
    }),
  ),
  prompts: z.array(
    z.object({
      ...OfferingPermissionShape,
      prompt: z.looseObject({ name: z.string() }).describe("the prompt's definition as listed (scrubbed)"),
    }),
  ),
  resources: z
    .array(
      z.object({
        ...OfferingPermissionShape,
        uri: z.string(),
        match: z.enum(['exact', 'prefix']),
        effect: z.enum(['allow', 'deny']),
      }),
    )
    .describe('one line per resource grant (URIs are not enumerable)'),
  asks: z
    .array(
      z.object({
        ...AskShape,
        ask: z.enum(['sampling', 'elicitation']),
      }),
    )
    .describe(
      "what each connection's server may ask of the agent: its model (sampling) or its person (elicitation); one line per connection and kind a grant names",
    ),
});
export const GrantBodySchema = z
  .strictObject({
    connectionId: Id,
    tool: z.string().min(1).max(200).optional().describe('a tool, or * for every tool of the connection'),
    prompt: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe('a prompt, or * for every prompt of the connection'),
    resource: z
      .string()
      .max(2000)
      .optional()
      .describe('a resource URI, or with match "prefix" the start of the URIs it covers ("" for all)'),
    match: z.enum(['exact', 'prefix']).optional().describe('a resource grant: exact (the default) or prefix'),
    sampling: z
      .literal(true)
      .optional()
      .describe(
        "the connection's server may ask the agent's model for a completion (sampling/createMessage)",
      ),
    elicitation: z
      .literal(true)
      .optional()
      .describe("the connection's server may ask the agent's person a question (elicitation/create)"),
    effect: z.enum(['allow', 'deny']).default('allow'),
    constraints: z.array(Constraint).max(20).default([]),
    notBefore: z.number().int().optional().describe('Unix seconds'),
    notAfter: z.number().int().optional().describe('Unix seconds'),
    requiresApproval: z.boolean().default(false),
  })
  .refine(
    (b) =>
      [b.tool, b.prompt, b.resource, b.sampling, b.elicitation].filter((x) => x !== undefined).length === 1,
    'A grant is of one tool, prompt or resource, or of sampling or elicitation: give exactly one of tool, prompt, resource, sampling, elicitation.',
  )
  .refine((b) => b.match === undefined || b.resource !== undefined, 'match is for a resource grant.');

/** The body as the service takes it. */
function newGrant(b: z.output<typeof GrantBodySchema>): NewGrant {
  const { tool, prompt, resource, match, sampling, elicitation, ...rest } = b;
  if (sampling) return { ...rest, kind: 'sampling', tool: '*' };
  if (elicitation) return { ...rest, kind: 'elicitation', tool: '*' };
  if (prompt !== undefined) return { ...rest, kind: 'prompt', tool: prompt };
  if (resource !== undefined) return { ...rest, kind: 'resource', tool: resource, match: match ?? 'exact' };
  return { ...rest, kind: 'tool', tool: tool ?? '' };
}

export const ToolCallBodySchema = z.strictObject({
  connectionId: Id,
  tool: z.string().min(1).max(200),
  args: z.record(z.string(), z.unknown()).default({}),
  approval: z
    .enum(['pause', 'return'])
    .default('pause')
    .describe(
      "a call that needs approval: wait for the decision (up to the org's approval wait), or answer approval_required at once with the request's id; call again once it is approved",
    ),
});

export const ToolCallResultSchema = z.object({
  content: z.unknown(),
  structuredContent: z.unknown().optional(),
  _meta: z.record(z.string(), z.unknown()).optional(),
  isError: z.boolean(),
  durationMs: z.number(),
  auditEntryId: z.string().describe('the id of the audit entry that allowed the call'),
});

/** Proposed grants: each `grant` is a body for POST …/grants as it stands (a person accepts it by saving it). */
export const GrantSuggestionsSchema = z
  .object({
    observed: z.number().describe('the calls the suggestions cover'),
    suggestions: z.array(
      z.object({
        grant: z.object({
          connectionId: Id,
          tool: z.string(),
          effect: z.literal('allow'),
          constraints: z.array(Constraint),
          requiresApproval: z
            .boolean()
            .describe(
              'true when the agent’s grants already ask a person for this tool: a suggestion never drops it',
            ),
        }),
        calls: z.number().describe('how many of the observed calls this grant allows'),
        refused: z
          .number()
          .describe(
            'how many of them the gate refused (all or none: refused calls are never folded into a grant with allowed ones); an agent following injected instructions makes such calls too, so read the values before accepting',
          ),
        open: z
          .array(z.object({ arg: z.string(), why: z.string() }))
          .describe('arguments given that no constraint binds, and why'),
      }),
    ),
    unknownTools: z
      .array(z.object({ connectionId: Id, tool: z.string(), calls: z.number() }))
      .describe('calls of tools the connection does not list: nothing suggested'),
  })
  .meta({ id: 'GrantSuggestions' });

const ObservedCallSchema = z.strictObject({
  connectionId: Id,
  tool: z.string().min(1).max(200),
  args: z.record(z.string(), z.unknown()).default({}),
  refused: z.boolean().optional().describe('the gate refused it (kept apart from allowed calls)'),
});

export const grantRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/agents/{agent}/grant-suggestions',
    summary:
      "The narrowest grants covering the agent's recent tool calls on record (allowed or denied); nothing is granted until a person saves one",
    tag: 'grants',
    access: { permission: 'grants.manage' },
    params: AgentParams,
    query: z.strictObject({
      run: Id.optional().describe("only this run's calls"),
      limit: z.coerce.number().int().min(1).max(2000).default(200).describe('the most recent calls to cover'),
    }),
    response: GrantSuggestionsSchema,
    handler: async ({ ctx, deps, params, query }) => {
      await deps.audit.flush();
      const calls = await auditedCalls(deps.store.db, ctx, params.agent, query);
      return suggestionsFor(
        deps.store.db,
        ctx,
        params.agent,
        calls,
        await connectionsHiddenFrom(deps.store.db, ctx),
        false,
      );
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/agents/{agent}/grant-suggestions',
    summary:
      'The narrowest grants covering these observed calls (a dry run, a history kept elsewhere); nothing is granted',
    tag: 'grants',
    access: { permission: 'grants.manage' },
    params: AgentParams,
    body: z.strictObject({ calls: z.array(ObservedCallSchema).min(1).max(2000) }),
    response: GrantSuggestionsSchema,
    handler: async ({ ctx, deps, params, body }) =>
      suggestionsFor(
        deps.store.db,
        ctx,
        params.agent,
        body.calls,
        await connectionsHiddenFrom(deps.store.db, ctx),
        true,
      ),
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/agents/{agent}/grants',
    summary: "An agent's grants (active, suspended and revoked)",
    tag: 'grants',
    access: { permission: 'grants.read' },
    params: AgentParams,
    response: GrantListSchema,
    handler: async ({ ctx, deps, params }) => {
      const hidden = await connectionsHiddenFrom(deps.store.db, ctx);
      return {
        grants: (await listGrants(deps.store.db, ctx, params.agent))
          .filter((g) => !hidden.has(g.connectionId))
          .map(grantView),
      };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/agents/{agent}/permissions',
    summary:
      "What the agent's grants add up to, tool by tool and prompt by prompt, its resource grants, and what each connection's server may ask of it (everything else: denied)",
    tag: 'grants',
    access: { permission: 'grants.read' },
    params: AgentParams,
    response: PermissionsSchema,
    handler: async ({ ctx, deps, params }) => {
      await getAgent(deps.store.db, ctx, params.agent);
      const tools = await effectivePermissions(deps.store.db, ctx.scope.orgId, params.agent);
      const { prompts, resources, asks } = await offeringPermissions(
        deps.store.db,
        ctx.scope.orgId,
        params.agent,
      );
      const hidden = await connectionsHiddenFrom(deps.store.db, ctx);
      const seen = (p: { connectionId: string }) => !hidden.has(p.connectionId);
      return {
        tools: tools.filter(seen),
        prompts: prompts.filter(seen),
        resources: resources.filter(seen),
        asks: asks.filter(seen),
      };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/agents/{agent}/grants',
    summary:
      'Grant a tool (or every tool of a connection), a prompt, or resources by URI (exact or prefix), with optional argument constraints, window and approval',
    tag: 'grants',
    access: { permission: 'grants.manage' },
    params: AgentParams,
    body: GrantBodySchema,
    response: GrantSchema,
    status: 201,
    handler: async ({ ctx, deps, params, body }) =>
      grantView(await createGrant(deps.store.db, ctx, params.agent, newGrant(body))),
  }),
  defineRoute({
    method: 'delete',
    path: '/api/v1/orgs/{org}/agents/{agent}/grants/{grant}',
    summary: 'Revoke one grant (the others stay)',
    tag: 'grants',
    access: { permission: 'grants.manage' },
    params: AgentParams.extend({ grant: Id }),
    response: GrantSchema,
    handler: async ({ ctx, deps, params }) =>
      grantView(await revokeGrant(deps.store.db, ctx, params.agent, params.grant)),
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/agents/{agent}/grants/check',
    summary:
      'Would this call (prompt get, resource read) be allowed now? (the gateway’s decision, without calling anything)',
    tag: 'grants',
    access: { permission: 'grants.read' },
    params: AgentParams,
    body: z
      .strictObject({
        connectionId: Id,
        tool: z.string().min(1).max(200).optional().describe('a call of this tool'),
        prompt: z.string().min(1).max(200).optional().describe('a get of this prompt'),
        resource: z.string().max(2000).optional().describe('a read of this URI'),
        args: z.record(z.string(), z.unknown()).default({}),
        approved: z.boolean().optional(),
      })
      .refine(
        (b) => [b.tool, b.prompt, b.resource].filter((x) => x !== undefined).length === 1,
        'Ask about one call, get or read: give exactly one of tool, prompt, resource.',
      ),
    response: z.object({
      allowed: z.boolean(),
      grants: z.array(z.string()),
      policyVersion: z.string(),
      errors: z.array(z.string()),
    }),
    handler: async ({ ctx, deps, params, body }) => {
      // Another org's connection (or a private one not yours) is not found, not merely denied.
      await getConnection(deps.store.db, ctx, body.connectionId);
      const { tool, prompt, resource, ...rest } = body;
      const action = prompt !== undefined ? 'get' : resource !== undefined ? 'read' : 'call';
      return checkCall(deps.store.db, ctx, params.agent, {
        ...rest,
        action,
        tool: prompt ?? resource ?? tool ?? '',
      });
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/agents/{agent}/calls',
    summary:
      'Call a tool as the agent, through the gateway (an admin trying a grant out); audited like any call',
    tag: 'grants',
    access: { permission: 'grants.manage' },
    params: AgentParams,
    body: ToolCallBodySchema,
    response: ToolCallResultSchema,
    handler: async ({ ctx, deps, params, body, requestId, c }) => {
      await getAgent(deps.store.db, ctx, params.agent);
      await getConnection(deps.store.db, ctx, body.connectionId);
      // A client that goes away ends its call, even one paused for approval.
      const call = deps.cancellations.begin({ agentId: params.agent, caller: requestId, id: requestId }, [
        c.req.raw.signal,
      ]);
      try {
        return await deps.gateway.call({
          caller: {
            orgId: ctx.scope.orgId,
            agentId: params.agent,
            onBehalfOf: await answerablePerson(deps.store.db, ctx),
            requestId,
            requestSpan: requestSpanOf(c),
          },
          connectionId: body.connectionId,
          tool: body.tool,
          args: body.args,
          approval: body.approval,
          signal: call.signal,
        });
      } finally {
        call.end();
      }
    },
  }),
];
