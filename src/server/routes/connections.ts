/** App connections (MCP servers), their tools, and the prompts and resources they offer. */
import { z } from 'zod';
import {
  changeConnectionPackage,
  createConnection,
  deleteConnection,
  listConnections,
  refreshTools,
  storedOfferings,
  storedTools,
} from '../../connections/index.ts';
import { defineRoute } from '../route.ts';
import { Id, Name, OrgParams, Timestamp } from '../schemas.ts';

export const ConnectionSchema = z
  .object({
    id: Id,
    name: z.string(),
    transport: z.enum(['stdio', 'http', 'builtin']),
    command: z.string().nullable().describe('stdio: the command it runs; builtin: which server (`memory`)'),
    package: z
      .string()
      .nullable()
      .describe('stdio: the installed MCP server package it runs, `<name>@<version>` (instead of a command)'),
    bin: z.string().nullable().describe("which of the package's programs it runs, when it named one"),
    args: z.array(z.string()),
    url: z.string().nullable(),
    ownerId: z.string().nullable(),
    env: z.record(z.string(), Id).describe('environment variable → vault secret id (never a value)'),
    headers: z.record(z.string(), Id).describe('request header → vault secret id (never a value)'),
    createdBy: z.string(),
    createdAt: Timestamp,
  })
  .meta({ id: 'Connection' });

/** What a tool's definition says beyond name, description and input schema (scrubbed), when it says it. */
export const ToolExtrasShape = {
  title: z.string().optional(),
  annotations: z
    .object({
      title: z.string().optional(),
      readOnlyHint: z.boolean().optional(),
      destructiveHint: z.boolean().optional(),
      idempotentHint: z.boolean().optional(),
      openWorldHint: z.boolean().optional(),
    })
    .optional()
    .describe("the server's hints (MCP tool annotations), as it gave them"),
  outputSchema: z.record(z.string(), z.unknown()).optional(),
  icons: z
    .array(
      z.object({ src: z.string(), mimeType: z.string().optional(), sizes: z.array(z.string()).optional() }),
    )
    .optional()
    .describe('https: or data:image/ icons only'),
  _meta: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('without keys only Paddock (`paddock/…`) or MCP itself may set'),
};

export const ToolSchema = z
  .object({
    name: z.string(),
    description: z.string(),
    inputSchema: z.record(z.string(), z.unknown()),
    ...ToolExtrasShape,
    digest: z
      .string()
      .describe(
        '`v3:` + SHA-256 of the canonical (scrubbed) definition the agent is shown; grants pin it (`v2:` for a tool not listed since v3)',
      ),
    seenAt: Timestamp,
  })
  .meta({ id: 'Tool' });

const ConnectionParams = OrgParams.extend({ connection: Id });

export const ConnectionListSchema = z.object({ connections: z.array(ConnectionSchema) });
export const ConnectionBodySchema = z.discriminatedUnion('transport', [
  z.strictObject({
    name: Name(100),
    transport: z.literal('stdio'),
    command: z
      .string()
      .min(1)
      .max(500)
      .optional()
      .describe('"node" or an absolute path inside the sandbox (or give `package`)'),
    package: z
      .string()
      .min(1)
      .max(300)
      .optional()
      .describe('an installed MCP server package to run, `<name>@<version>` (see /server-packages)'),
    bin: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe("which of the package's programs to run, when it has several"),
    args: z.array(z.string().max(1000)).max(50).default([]),
    env: z
      .record(z.string().max(64), Id)
      .default({})
      .describe('environment variable name → vault secret id, set when the server starts'),
    private: z.boolean().optional().describe('only for you (and owners/admins), not the whole org'),
  }),
  z.strictObject({
    name: Name(100),
    transport: z.literal('http'),
    url: z
      .string()
      .max(2000)
      .describe("the server's Streamable HTTP endpoint; its host:port must be on the egress allowlist"),
    headers: z
      .record(z.string().max(64), Id)
      .default({})
      .describe('request header name → vault secret id (e.g. Authorization → a secret "Bearer …")'),
    private: z.boolean().optional().describe('only for you (and owners/admins), not the whole org'),
  }),
  z.strictObject({
    name: Name(100),
    transport: z.literal('builtin'),
    server: z
      .literal('memory')
      .describe('a server built into Paddock: `memory`, each agent’s own memory (see docs/memory.md)'),
    private: z.boolean().optional().describe('only for you (and owners/admins), not the whole org'),
  }),
]);
export const ToolListSchema = z.object({ tools: z.array(ToolSchema) });
export const ToolRefreshSchema = z.object({
  tools: z.array(ToolSchema),
  changed: z.array(z.string()),
  suspended: z.array(z.string()).describe('grants suspended because their tool changed'),
  repinned: z.array(z.string()).describe('grants re-pinned under the current digest formula'),
  refused: z
    .array(z.string())
    .describe(
      'tools refused because their name holds a secret (scrubbed) or characters that hide or disguise text (escaped as \\uXXXX)',
    ),
  refusedOfferings: z
    .array(z.string())
    .describe(
      'prompts, resources and templates refused because their name or URI holds a secret (scrubbed): "prompt <name>", "resource <uri>", "template <uri>"',
    ),
  prompts: z.number().describe('prompts the server offers (GET …/offerings)'),
  resources: z.number().describe('resources the server lists'),
  resourceTemplates: z.number().describe('resource templates the server lists'),
});
export const OfferingListSchema = z.object({
  offerings: z.array(
    z.object({
      kind: z.enum(['prompt', 'resource', 'template']),
      key: z.string().describe("the prompt's name, the resource's URI, the template's URI template"),
      definition: z.record(z.string(), z.unknown()).describe('as the server listed it (scrubbed)'),
      digest: z.string(),
      seenAt: Timestamp,
    }),
  ),
});

export const ConnectionPackageBodySchema = z.strictObject({
  package: z.string().min(1).max(300).describe('`<name>@<version>`, installed'),
  bin: z.string().min(1).max(200).optional().describe('which program (default: the one it ran)'),
});
export const ConnectionPackageChangedSchema = z.object({
  connection: ConnectionSchema,
  tools: ToolRefreshSchema,
});

export const connectionRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/connections',
    summary: 'List app connections (MCP servers)',
    tag: 'connections',
    access: { permission: 'connections.read' },
    params: OrgParams,
    response: ConnectionListSchema,
    handler: async ({ ctx, deps }) => ({ connections: await listConnections(deps.store.db, ctx) }),
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/connections',
    summary:
      'Add an MCP server: stdio (run inside the org’s sandbox) or http (Streamable HTTP, through the org’s egress proxy)',
    tag: 'connections',
    access: { permission: 'connections.manage' },
    params: OrgParams,
    body: ConnectionBodySchema,
    response: ConnectionSchema,
    status: 201,
    handler: async ({ ctx, deps, body }) =>
      createConnection(deps.store.db, ctx, body, {
        home: deps.config.home,
        registry: deps.config.npmRegistry,
      }),
  }),
  defineRoute({
    method: 'put',
    path: '/api/v1/orgs/{org}/connections/{connection}/package',
    summary:
      'Run another installed version of the connection’s package: it is started and its tools listed first; changed definitions suspend their grants (audited)',
    tag: 'connections',
    access: { permission: 'connections.manage' },
    params: ConnectionParams,
    body: ConnectionPackageBodySchema,
    response: ConnectionPackageChangedSchema,
    handler: async ({ ctx, deps, params, body }) => {
      const changed = await changeConnectionPackage(deps.opener, ctx, params.connection, body);
      // Agents' open sessions run the old version: they end now, and the next call starts the new one.
      await deps.sessions.publish({
        kind: 'connection',
        orgId: ctx.scope.orgId,
        connectionId: params.connection,
      });
      return changed;
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/api/v1/orgs/{org}/connections/{connection}',
    summary: 'Remove a connection',
    tag: 'connections',
    access: { permission: 'connections.manage' },
    params: ConnectionParams,
    status: 204,
    handler: async ({ ctx, deps, params }) => {
      await deleteConnection(deps.store.db, ctx, params.connection);
      // Its grants went with it; agents' open sessions to it end now.
      await deps.sessions.publish({
        kind: 'connection',
        orgId: ctx.scope.orgId,
        connectionId: params.connection,
      });
      return undefined;
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/connections/{connection}/tools',
    summary: 'The tools a connection presented when last listed',
    tag: 'connections',
    access: { permission: 'connections.read' },
    params: ConnectionParams,
    response: ToolListSchema,
    handler: async ({ ctx, deps, params }) => ({
      tools: await storedTools(deps.store.db, ctx, params.connection),
    }),
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/connections/{connection}/offerings',
    summary: 'The prompts, resources and resource templates a connection offered when last listed',
    tag: 'connections',
    access: { permission: 'connections.read' },
    params: ConnectionParams,
    response: OfferingListSchema,
    handler: async ({ ctx, deps, params }) => ({
      offerings: await storedOfferings(deps.store.db, ctx, params.connection),
    }),
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/connections/{connection}/tools/refresh',
    summary:
      'Start the server in the sandbox and list its tools, prompts, resources and resource templates now, with the connection’s org-wide secrets (or also one agent’s); definitions are scrubbed, changes audited',
    tag: 'connections',
    access: { permission: 'connections.manage' },
    params: ConnectionParams,
    query: z.object({
      agent: Id.optional().describe(
        'List on behalf of this agent: its agent-scoped secrets are given to the server too (audited)',
      ),
    }),
    response: ToolRefreshSchema,
    handler: async ({ ctx, deps, params, query }) =>
      refreshTools(deps.opener, ctx, params.connection, query.agent),
  }),
];
