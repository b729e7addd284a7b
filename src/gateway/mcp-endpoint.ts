/**
 * `/mcp/{org}`: the gateway as an MCP server (Streamable HTTP) for agents running elsewhere
 * (OpenClaw, Claude Code, any MCP client). The bearer token is an agent token; the agent sees
 * only the tools its grants allow, across its org's connections, named `<connection>__<tool>`;
 * every call goes through the same gateway path as any other.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  CancelledNotificationSchema,
  ListToolsRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { Context, Hono } from 'hono';
import { authenticateAgentToken } from '../agents/tokens.ts';
import { NotFoundError, PaddockError, UnauthenticatedError } from '../errors/index.ts';
import { findOrgBySlug } from '../identity/orgs.ts';
import { connectionNamespaces, effectivePermissions } from '../policy/permissions.ts';
import { redactString } from '../redact/index.ts';
import type { Deps } from '../server/deps.ts';
import { errorResponse, requestIdOf } from '../server/respond.ts';

/** Splits `<namespace>__<tool>` at the first `__` (namespaces never contain one). */
export function splitToolName(name: string): { namespace: string; tool: string } | null {
  const i = name.indexOf('__');
  return i > 0 ? { namespace: name.slice(0, i), tool: name.slice(i + 2) } : null;
}

const failure = (text: string): CallToolResult => ({ isError: true, content: [{ type: 'text', text }] });

interface AgentCaller {
  agentId: string;
  orgId: string;
  tokenId: string;
  createdBy: string;
  /** When the token was checked (`performance.now()` before the read): its calls are held from then. */
  checkedAt: number;
}

async function agentFor(c: Context, deps: Deps): Promise<AgentCaller> {
  const header = c.req.header('authorization') ?? '';
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  if (!m?.[1])
    throw new UnauthenticatedError('unauthenticated', 'Send an agent token: Authorization: Bearer pda_…');
  const checkedAt = performance.now();
  const who = { ...(await authenticateAgentToken(deps.store.db, m[1])), checkedAt };
  const org = await findOrgBySlug(deps.store.db, c.req.param('org') ?? '');
  // Another org's path reads as missing, as everywhere else.
  if (!org || org.id !== who.orgId) throw new NotFoundError('org_not_found', 'No such organization.');
  return who;
}

/**
 * Calls in progress, by agent and JSON-RPC id. The endpoint is stateless, so a client's
 * `notifications/cancelled` arrives on another HTTP request (another server instance): this is
 * where it finds the call it cancels. Keyed by agent, so one agent cannot cancel another's.
 */
const inProgress = new Map<string, AbortController>();
const callKey = (agentId: string, id: string | number) => `${agentId}\u0000${typeof id}:${id}`;

/** `who.createdBy`: who made the agent's token, answerable for its calls (approvals bind to them). */
function mcpServer(deps: Deps, who: AgentCaller, requestId: string): Server {
  const { agentId, orgId, createdBy: issuedBy } = who;
  const server = new Server(
    { name: 'paddock', version: '0.1.0' },
    {
      capabilities: { tools: {} },
      instructions: 'Tools of your organization that your grants allow; every call is checked and audited.',
    },
  );
  // Replaces the SDK's own handler, which only knows requests of this (one-request) instance.
  server.setNotificationHandler(CancelledNotificationSchema, async (n) => {
    const id = n.params.requestId;
    if (id !== undefined) inProgress.get(callKey(agentId, id))?.abort('cancelled by the client');
  });
  server.setRequestHandler(ListToolsRequestSchema, async () => {
    const permissions = await effectivePermissions(deps.store.db, orgId, agentId);
    return {
      tools: permissions
        .filter((p) => p.access !== 'denied')
        .map((p) => ({
          name: `${p.namespace}__${p.tool.name}`,
          description: `${p.needsApproval ? '[needs a person’s approval] ' : ''}${p.tool.description}`,
          inputSchema: p.tool.inputSchema as { type: 'object' },
        })),
    };
  });
  server.setRequestHandler(CallToolRequestSchema, async (req, extra): Promise<CallToolResult> => {
    const parts = splitToolName(req.params.name);
    const namespaces = await connectionNamespaces(deps.store.db, orgId);
    const connectionId = parts && [...namespaces].find(([, ns]) => ns === parts.namespace)?.[0];
    if (!parts || !connectionId) return failure(`No tool named ${req.params.name}.`);
    const key = callKey(agentId, extra.requestId);
    const cancelled = new AbortController();
    inProgress.set(key, cancelled);
    // Revoking the token (or removing who issued it) ends the call, on whichever replica it runs.
    const held = deps.tokenCalls.hold({ orgId, tokenId: who.tokenId, issuedBy }, who.checkedAt);
    try {
      const r = await deps.gateway.call({
        orgId,
        agentId,
        connectionId,
        tool: parts.tool,
        args: (req.params.arguments ?? {}) as Record<string, unknown>,
        requestId,
        onBehalfOf: issuedBy,
        // A client that cancels (or times out) ends the call: a paused call then never runs.
        signal: AbortSignal.any([extra.signal, cancelled.signal, held.signal]),
      });
      return { content: r.content as CallToolResult['content'], isError: r.isError };
    } catch (err) {
      // Refusals reach the agent as tool errors it can read (and a model can act on).
      if (PaddockError.isInstance(err)) return failure(`${err.code}: ${redactString(err.message)}`);
      deps.log.error({ err, requestId }, 'MCP tool call failed');
      return failure(`internal: something went wrong (request id ${requestId}).`);
    } finally {
      held.release();
      if (inProgress.get(key) === cancelled) inProgress.delete(key);
    }
  });
  return server;
}

export function mountMcpEndpoint(app: Hono, deps: Deps): void {
  app.all('/mcp/:org', async (c) => {
    const requestId = requestIdOf(c);
    try {
      const who = await agentFor(c, deps);
      // Stateless: a fresh server and transport per request; the gateway keeps the sessions to tools.
      const server = mcpServer(deps, who, requestId);
      const transport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: true,
      });
      await server.connect(transport);
      const res = await transport.handleRequest(c.req.raw);
      void server.close();
      return res;
    } catch (err) {
      const e = PaddockError.isInstance(err)
        ? err
        : new PaddockError(500, 'internal', `Something went wrong (request id ${requestId}).`);
      if (!PaddockError.isInstance(err)) deps.log.error({ err, requestId }, 'MCP request failed');
      return errorResponse(c, e, requestId);
    }
  });
}
