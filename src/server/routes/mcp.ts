/**
 * `/mcp/{org}`: the gate as an MCP server over Streamable HTTP (stateless, JSON responses) for
 * agents running elsewhere (Claude Code, OpenClaw, any MCP client). Declared like every route:
 * the bearer token is an agent token of the path's org, authenticated by the pipeline in one read
 * that also gives the gate the agent's standing. Each request gets a fresh server and transport;
 * the gate keeps the sessions to tools, and cancellations go through the gate's one registry.
 */
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { AuthenticatedAgent } from '../../agents/index.ts';
import { type GateCaller, serveAgent } from '../../gateway/index.ts';
import type { Deps } from '../deps.ts';
import { defineRoute, type HandlerInput } from '../route.ts';
import { OrgParams } from '../schemas.ts';

const McpMessages = z.union([
  JSONRPCMessageSchema.meta({ id: 'McpMessage' }),
  z.array(JSONRPCMessageSchema).min(1),
]);

/** The caller as the gate sees it: the agent, answerable to whoever issued its token. */
export function agentCaller(agent: AuthenticatedAgent, requestId: string): GateCaller {
  return {
    orgId: agent.orgId,
    agentId: agent.agentId,
    onBehalfOf: agent.createdBy,
    requestId,
    token: { id: agent.tokenId, issuedBy: agent.createdBy },
    standing: agent.standing,
  };
}

async function handle(
  deps: Deps,
  agent: AuthenticatedAgent,
  requestId: string,
  request: Request,
  body: unknown,
): Promise<Response> {
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  const server = await serveAgent(
    { gate: deps.gateway, db: deps.store.db, cancellations: deps.cancellations, log: deps.log },
    // A client that goes away ends its calls; one that waits for a person pauses (the org's wait).
    { caller: agentCaller(agent, requestId), approval: 'pause', signal: request.signal },
    transport,
  );
  try {
    return await transport.handleRequest(request, body === undefined ? undefined : { parsedBody: body });
  } finally {
    void server.close();
  }
}

const raw = {
  status: 200,
  description: 'The JSON-RPC answer (application/json), or for GET an event stream',
  contentTypes: ['application/json', 'text/event-stream'],
};

type McpInput = HandlerInput<unknown, unknown, unknown, 'agent'>;
const handler = ({ deps, agent, requestId, c, body }: McpInput) =>
  handle(deps, agent, requestId, c.req.raw, body);

export const mcpRoutes = [
  defineRoute({
    method: 'post',
    path: '/mcp/{org}',
    summary:
      'MCP (Streamable HTTP) for an agent: tools/list shows what its grants allow, tools/call runs through the gate',
    tag: 'mcp',
    access: 'agent',
    params: OrgParams,
    body: McpMessages,
    raw,
    handler,
  }),
  defineRoute({
    method: 'get',
    path: '/mcp/{org}',
    summary: 'MCP (Streamable HTTP): the event stream a client may open (nothing is sent on it)',
    tag: 'mcp',
    access: 'agent',
    params: OrgParams,
    raw,
    handler,
  }),
  defineRoute({
    method: 'delete',
    path: '/mcp/{org}',
    summary: 'MCP (Streamable HTTP): end a session (the endpoint is stateless: nothing to end)',
    tag: 'mcp',
    access: 'agent',
    params: OrgParams,
    raw,
    handler,
  }),
];
