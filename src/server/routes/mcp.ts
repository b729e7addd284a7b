/**
 * `/mcp/{org}`: the gate as an MCP server over Streamable HTTP for agents running elsewhere
 * (Claude Code, OpenClaw, any MCP client). Declared like every route: the bearer token is an
 * agent token of the path's org, authenticated by the pipeline in one read that also gives the
 * gate the agent's standing (each request brings its own, whatever session it names).
 *
 * `initialize` opens a session (`Mcp-Session-Id`, bound to the agent and the person whose token
 * opened it; see gateway/mcp-sessions): its POSTs are answered as SSE streams (a call can send
 * progress or requests before its result), GET opens its stream for messages not tied to a
 * request (resumable with `Last-Event-ID`), DELETE ends it. Someone else's, unknown or ended
 * session ids get 404; GET and DELETE without one get 400. A client that never initializes is
 * served without a session, each POST answered with JSON by a pooled server bound to its caller.
 * Cancellations go through the gate's one registry. Every protocol version the SDK speaks is
 * spoken (the current and the previous ones among them).
 *
 * In front of it, `mcpGuard` checks `Host` and `Origin` (DNS-rebinding protection: loopback
 * names, the public URL and the configured hosts and origins only) and answers CORS for browser
 * clients of allowed origins.
 */
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import {
  type InitializeRequest,
  isInitializeRequest,
  isJSONRPCErrorResponse,
  isJSONRPCResultResponse,
  JSONRPCMessageSchema,
  type JSONRPCRequest,
} from '@modelcontextprotocol/sdk/types.js';
import type { SpanContext } from '@opentelemetry/api';
import type { Context, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import type { AuthenticatedAgent } from '../../agents/index.ts';
import type { Config } from '../../config/index.ts';
import { ForbiddenError, PayloadTooLargeError } from '../../errors/index.ts';
import type { GateCaller } from '../../gateway/index.ts';
import { sessionRequired } from '../../gateway/mcp-sessions/index.ts';
import { MAX_BODY_BYTES } from '../app.ts';
import type { Deps } from '../deps.ts';
import { requestLogged, requestSpanOf } from '../observe.ts';
import { errorResponse, requestIdOf } from '../respond.ts';
import { defineRoute, type HandlerInput } from '../route.ts';
import { OrgParams } from '../schemas.ts';
import {
  answerPlainCall,
  answerPlainCallInSession,
  answerPlainList,
  mayBeAsked,
  plainCall,
  plainChannel,
  plainList,
} from './mcp-plain.ts';
import { withResourceMetadata } from './oauth.ts';

/** Names a client on this machine reaches Paddock by, whatever the configuration. */
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

interface Allowed {
  hosts: Set<string>;
  origins: Set<string>;
  anyHost: boolean;
  anyOrigin: boolean;
}

function allowedBy(config: Config): Allowed {
  const pub = new URL(config.publicUrl);
  return {
    hosts: new Set([pub.host.toLowerCase(), ...config.mcpAllowedHosts]),
    origins: new Set([pub.origin.toLowerCase(), ...config.mcpAllowedOrigins]),
    anyHost: config.mcpAllowedHosts.includes('*'),
    anyOrigin: config.mcpAllowedOrigins.includes('*'),
  };
}

/** A `Host` a rebound DNS name cannot give: loopback, the public URL's, a configured one (`name` or `name:port`). */
export function hostAllowed(host: string, a: Allowed): boolean {
  const h = host.toLowerCase();
  if (a.anyHost || a.hosts.has(h)) return true;
  const name = URL.canParse(`http://${h}`) ? new URL(`http://${h}`).hostname : null;
  return name !== null && (LOOPBACK.has(name) || a.hosts.has(name));
}

/** A page's origin that may call: a loopback one, the public URL's, a configured one. */
export function originAllowed(origin: string, a: Allowed): boolean {
  const o = origin.toLowerCase();
  if (a.anyOrigin || a.origins.has(o)) return true;
  if (!URL.canParse(o)) return false;
  const u = new URL(o);
  return (u.protocol === 'http:' || u.protocol === 'https:') && LOOPBACK.has(u.hostname);
}

/** CORS for a browser client: it may read the answer and the headers MCP clients use. */
function allowOrigin(headers: Headers, origin: string): void {
  headers.set('access-control-allow-origin', origin);
  headers.append('vary', 'Origin');
  headers.set(
    'access-control-expose-headers',
    'mcp-session-id, mcp-protocol-version, www-authenticate, x-request-id',
  );
}

const PREFLIGHT = {
  'access-control-allow-methods': 'GET, POST, DELETE',
  'access-control-allow-headers':
    'authorization, content-type, accept, mcp-protocol-version, mcp-session-id, last-event-id, x-request-id',
  'access-control-max-age': '600',
};

/**
 * In front of `/mcp/*`, before authentication: refuses a `Host` or an `Origin` that is not
 * allowed (403 `host_not_allowed`, `origin_not_allowed`), answers CORS preflights, and lets
 * allowed origins read answers. What it answers itself goes on the request log like any route.
 */
export function mcpGuard(deps: Pick<Deps, 'config' | 'log'>): MiddlewareHandler {
  let cached: { config: Config; allowed: Allowed } | undefined;
  return async (c, next) => {
    // The config is replaced once the port is known: read it per request, parsed once per value.
    if (cached?.config !== deps.config) cached = { config: deps.config, allowed: allowedBy(deps.config) };
    const { allowed } = cached;
    const origin = c.req.header('origin');
    const host = c.req.header('host') ?? new URL(c.req.url).host;
    let refusal: ForbiddenError | undefined;
    if (!hostAllowed(host, allowed)) {
      refusal = new ForbiddenError(
        'host_not_allowed',
        "This MCP endpoint does not answer for that Host (DNS-rebinding protection). Use Paddock's public URL, or add the host to PADDOCK_MCP_ALLOWED_HOSTS.",
      );
    } else if (origin !== undefined && !originAllowed(origin, allowed)) {
      refusal = new ForbiddenError(
        'origin_not_allowed',
        'Browser pages of this origin may not call this MCP endpoint. An admin can add it to PADDOCK_MCP_ALLOWED_ORIGINS.',
      );
    }
    if (!refusal && c.req.method !== 'OPTIONS') {
      await next();
      // An MCP client that expects OAuth finds Paddock's sign-in from here (RFC 9728 §5.1).
      const challenge = c.res.status === 401 ? c.res.headers.get('www-authenticate') : null;
      if (challenge !== null) {
        c.res = new Response(c.res.body, c.res);
        c.res.headers.set(
          'www-authenticate',
          withResourceMetadata(challenge, deps.config.publicUrl, c.req.path),
        );
      }
      if (origin !== undefined) {
        c.res = new Response(c.res.body, c.res);
        allowOrigin(c.res.headers, origin);
      }
      return;
    }
    const started = performance.now();
    const requestId = requestIdOf(c);
    let res: Response;
    if (refusal) res = errorResponse(c, refusal, requestId);
    else {
      res = new Response(null, {
        status: 204,
        headers: { allow: 'GET, POST, DELETE, OPTIONS', 'x-request-id': requestId },
      });
      if (origin !== undefined) {
        for (const [k, v] of Object.entries(PREFLIGHT)) res.headers.set(k, v);
        allowOrigin(res.headers, origin);
      }
    }
    requestLogged(c);
    deps.log.info(
      {
        requestId,
        method: c.req.method,
        route: '/mcp/{org}',
        status: res.status,
        ms: Math.round(performance.now() - started),
      },
      'request',
    );
    return res;
  };
}

/** A client's answer may be larger than an API body (a sampling answer with an image); see `tooLarge`. */
export const MCP_MAX_BODY_BYTES = 4 * 1024 * 1024;

const McpMessages = z.union([
  JSONRPCMessageSchema.meta({ id: 'McpMessage' }),
  z.array(JSONRPCMessageSchema).min(1),
]);

/** The caller as the gate sees it: the agent, answerable to whoever issued its token. */
export function agentCaller(
  agent: AuthenticatedAgent,
  requestId: string,
  requestSpan: SpanContext | undefined,
): GateCaller {
  return {
    orgId: agent.orgId,
    agentId: agent.agentId,
    onBehalfOf: agent.createdBy,
    requestId,
    requestSpan,
    token: { id: agent.tokenId, issuedBy: agent.createdBy },
    standing: agent.standing,
  };
}

/** A single `initialize` request (a batch never opens a session: the transport refuses it). */
const isInitialize = (body: unknown): body is InitializeRequest & JSONRPCRequest =>
  !Array.isArray(body) && isInitializeRequest(body);

/** The headers of a JSON answer without a session, as the SDK's transport sends them. */
const JSON_ANSWER = { 'content-type': 'application/json' };

async function handle(
  deps: Deps,
  agent: AuthenticatedAgent,
  requestId: string,
  c: Context,
  body: unknown,
): Promise<Response> {
  const request = c.req.raw;
  // A client that goes away ends its calls; one that waits for a person pauses (the org's wait).
  const caller = agentCaller(agent, requestId, requestSpanOf(c));
  const conn = { caller, approval: 'pause' as const, signal: request.signal };
  const sessionId = request.headers.get('mcp-session-id');
  const plain = plainCall(request, body);
  if (plain) {
    const id = (body as JSONRPCRequest).id;
    if (sessionId === null)
      return answerPlainCall(
        deps,
        conn,
        id,
        plain,
        JSON_ANSWER,
        plainChannel(undefined, async () => {}),
      );
    const session = await deps.mcpSessions.forPlainAnswer(sessionId, conn);
    if (session instanceof Response) return session;
    // A client that may be asked something during the call is served on the SDK's stream.
    if (!mayBeAsked(session.capabilities)) {
      const inSession = { ...conn, sessionId: session.idHash };
      return answerPlainCallInSession(deps, inSession, id, plain, session.headers, session.capabilities);
    }
  }
  if (plainList(request, body)) {
    const id = (body as JSONRPCRequest).id;
    if (sessionId === null) return answerPlainList(deps, caller, id, JSON_ANSWER);
    const session = await deps.mcpSessions.forPlainAnswer(sessionId, conn);
    if (session instanceof Response) return session;
    return answerPlainList(deps, caller, id, session.headers);
  }
  if (sessionId !== null) return deps.mcpSessions.serve(sessionId, conn, request, body);
  if (request.method === 'GET') return sessionRequired('a GET stream belongs to a session');
  if (request.method === 'DELETE') return sessionRequired('DELETE ends the session it names');
  if (isInitialize(body)) return deps.mcpSessions.open(conn, request, body);
  // A client that never initialized (a script, curl): served as it asks, with JSON answers.
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  const done = await deps.mcpServers.serve(conn, transport);
  try {
    return await transport.handleRequest(request, body === undefined ? undefined : { parsedBody: body });
  } finally {
    void done();
  }
}

const raw = {
  status: 200,
  description: 'The JSON-RPC answer: an SSE stream in a session, JSON without one',
  contentTypes: ['text/event-stream', 'application/json'],
};

type McpInput = HandlerInput<unknown, unknown, unknown, 'agent'>;
const handler = async ({ deps, agent, requestId, c, body }: McpInput) =>
  tooLarge(c.req.raw, body)
    ? errorResponse(c, new PayloadTooLargeError(MAX_BODY_BYTES), requestId)
    : handle(deps, agent, requestId, c, body);

const isAnswer = (m: unknown) => isJSONRPCResultResponse(m) || isJSONRPCErrorResponse(m);

/**
 * Over the API's limit and not only a client's answers: a request's arguments go on record
 * (the audit trail, the approval inbox), so they keep the API's 64 kB; only answers (a sampling
 * result with an image) take the endpoint's larger limit.
 */
function tooLarge(request: Request, body: unknown): boolean {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (body === undefined || declared <= MAX_BODY_BYTES) return false;
  if ((Array.isArray(body) ? body : [body]).every(isAnswer)) return false;
  return (Number.isFinite(declared) ? declared : Buffer.byteLength(JSON.stringify(body))) > MAX_BODY_BYTES;
}

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
    maxJsonBytes: MCP_MAX_BODY_BYTES,
    raw,
    handler,
  }),
  defineRoute({
    method: 'get',
    path: '/mcp/{org}',
    summary:
      "MCP (Streamable HTTP): the session's event stream (Mcp-Session-Id required), resumable with Last-Event-ID",
    tag: 'mcp',
    access: 'agent',
    params: OrgParams,
    raw: {
      status: 200,
      description: 'Server-to-client messages of the session (text/event-stream)',
      contentTypes: ['text/event-stream'],
    },
    handler,
  }),
  defineRoute({
    method: 'delete',
    path: '/mcp/{org}',
    summary: 'MCP (Streamable HTTP): end the session named by Mcp-Session-Id',
    tag: 'mcp',
    access: 'agent',
    params: OrgParams,
    raw,
    handler,
  }),
];
