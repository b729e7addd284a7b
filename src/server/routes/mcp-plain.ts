/**
 * Plain answers: most POSTs to `/mcp/{org}` are one `tools/call` whose answer can only be its
 * result — no progress asked for, no server request the client could take (it declared neither
 * sampling nor elicitation, or has no session) — or one `tools/list`. Those are answered straight
 * from the gate, with the bytes the MCP SDK's transport would send: building the transport and
 * running the SDK's machinery cost about as much CPU as the gate's own decision, and a list of a
 * thousand tools serialized anew each time cost more than the rest of its request. Anything else
 * (a batch, a notification, another method, a progress token, an unusual header) takes the SDK's
 * path.
 *
 * @example
 *   const params = plainCall(request, body);
 *   if (params) return answerPlainCall(deps, conn, body.id, params, headers, plainChannel(caps, notify));
 *   if (plainList(request, body)) return answerPlainList(deps, caller, body.id, headers);
 */
import {
  CallToolResultSchema,
  ErrorCode,
  type JSONRPCRequest,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/sdk/types.js';
import type { AgentChannel } from '../../gateway/agent-channel.ts';
import type { GateCaller } from '../../gateway/index.ts';
import { type AgentConnection, callTool, mayBeShown } from '../../gateway/mcp-server.ts';
import type { Deps } from '../deps.ts';

/** Off only in the tests that compare its answers with the SDK's. */
export const plainAnswers = { on: true };

/** What a plain call carries: a tool name and its arguments. */
export interface PlainCallParams {
  name: string;
  arguments?: Record<string, unknown> | undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Request `_meta` keys the SDK acts on (progress, tasks): a request with one takes its path. */
const actedOn = (key: string) => key === 'progressToken' || key.startsWith('io.modelcontextprotocol/');

/** A request's `_meta`: none, or one without a key the SDK acts on. */
const plainMeta = (meta: unknown) =>
  meta === undefined || (isObject(meta) && !Object.keys(meta).some(actedOn));

/** One POSTed request of `method`, with an id, answered here only while the plain path is on. */
const oneRequest = (request: Request, body: unknown, method: string): body is Record<string, unknown> =>
  plainAnswers.on &&
  request.method === 'POST' &&
  isObject(body) &&
  body.method === method &&
  body.id !== undefined &&
  body.id !== null;

/**
 * The headers the SDK checks pass its checks (the same Accept, Content-Type and protocol
 * version, and no stream to resume), so every refusal stays the SDK's.
 */
function plainHeaders(h: Headers): boolean {
  const accept = h.get('accept');
  if (!accept?.includes('application/json') || !accept.includes('text/event-stream')) return false;
  if (h.get('content-type')?.split(';')[0]?.trim().toLowerCase() !== 'application/json') return false;
  const version = h.get('mcp-protocol-version');
  if (version !== null && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) return false;
  return !h.has('last-event-id');
}

/**
 * The call's params when the request is a plain `tools/call` the SDK would take and answer with
 * its result alone; undefined otherwise.
 */
export function plainCall(request: Request, body: unknown): PlainCallParams | undefined {
  if (!oneRequest(request, body, 'tools/call')) return undefined;
  const params = body.params;
  if (!isObject(params) || typeof params.name !== 'string') return undefined;
  for (const key of Object.keys(params)) if (key !== 'name' && key !== 'arguments' && key !== '_meta') return;
  if (params.arguments !== undefined && !isObject(params.arguments)) return undefined;
  if (!plainMeta(params._meta) || !plainHeaders(request.headers)) return undefined;
  return params as unknown as PlainCallParams;
}

/**
 * The request is a plain `tools/list` the SDK would take: no params but a cursor (the list is one
 * page, as the SDK's handler gives it) and a `_meta` it does not act on.
 */
export function plainList(request: Request, body: unknown): boolean {
  if (!oneRequest(request, body, 'tools/list')) return false;
  const params = body.params;
  if (params !== undefined) {
    if (!isObject(params)) return false;
    for (const key of Object.keys(params)) if (key !== 'cursor' && key !== '_meta') return false;
    if (params.cursor !== undefined && typeof params.cursor !== 'string') return false;
    if (!plainMeta(params._meta)) return false;
  }
  return plainHeaders(request.headers);
}

const LIST_HEAD = Buffer.from('{"result":{"tools":');
const NO_TOOLS = Buffer.from('[]');

/**
 * A plain `tools/list`, answered as the SDK would (`{ result: { tools }, jsonrpc, id }` as JSON):
 * the tools the agent's grants allow, sent from the list's JSON the gate keeps with it; nothing
 * for a stopped agent or org.
 */
export async function answerPlainList(
  deps: Pick<Deps, 'gateway' | 'store'>,
  caller: GateCaller,
  id: JSONRPCRequest['id'],
  headers: Record<string, string>,
): Promise<Response> {
  const tools = (await mayBeShown(deps.store.db, caller))
    ? await deps.gateway.listedToolsJson(caller.orgId, caller.agentId)
    : NO_TOOLS;
  const tail = Buffer.from(`},"jsonrpc":"2.0","id":${JSON.stringify(id)}}`);
  // Sent in three parts, the list's own bytes as they are kept: joined, each answer copied them.
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(LIST_HEAD);
      c.enqueue(tools);
      c.enqueue(tail);
      c.close();
    },
  });
  const length = LIST_HEAD.length + tools.length + tail.length;
  return new Response(body, { status: 200, headers: { ...headers, 'content-length': String(length) } });
}

/** A client that can take a server's request (sampling, elicitation) during a call gets the SDK's stream. */
export const mayBeAsked = (capabilities: Record<string, unknown>) =>
  capabilities.sampling !== undefined || capabilities.elicitation !== undefined;

/**
 * The call's side for what its server says meanwhile, as the SDK's path would give it: what the
 * client declared (so a server's sampling or elicitation request is refused in the same words),
 * no progress token; a log line goes to `notify` (none without a session: the SDK's JSON answer
 * drops it too; in a session, on the call's own answer: see `answerPlainCallInSession`).
 */
export const plainChannel = (
  capabilities: Record<string, unknown> | undefined,
  notify: AgentChannel['notify'],
): AgentChannel => ({
  capabilities,
  notify,
  // Never reached: the client declared neither sampling nor elicitation, so none is relayed to it.
  request: () => Promise.reject(new Error('this request has no stream to carry a server’s request')),
});

type PlainDeps = Pick<Deps, 'gateway' | 'store' | 'cancellations' | 'log'>;

/**
 * Runs the call through the gate and answers as the SDK would: its result checked against the
 * MCP schema (an invalid one is the SDK's -32602), `{ result, jsonrpc, id }` as JSON.
 */
export async function answerPlainCall(
  deps: PlainDeps,
  conn: AgentConnection,
  id: JSONRPCRequest['id'],
  params: PlainCallParams,
  headers: Record<string, string>,
  relay: AgentChannel,
): Promise<Response> {
  return new Response(await plainAnswer(deps, conn, id, params, relay), { status: 200, headers });
}

const encoder = new TextEncoder();
const sseEvent = (json: string) => encoder.encode(`event: message\ndata: ${json}\n\n`);

/**
 * A session's plain call: what its server says during it (a log line) relates to the call, so
 * it goes on the call's own answer, as the SDK's stream carries it (the spec keeps the GET
 * stream for messages unrelated to a request in progress). The answer is plain JSON unless the
 * server says something first; then it becomes an SSE stream: those messages as they come,
 * then the result, then the end.
 */
export async function answerPlainCallInSession(
  deps: PlainDeps,
  conn: AgentConnection,
  id: JSONRPCRequest['id'],
  params: PlainCallParams,
  headers: Record<string, string>,
  capabilities: Record<string, unknown>,
): Promise<Response> {
  const early: string[] = [];
  let said!: () => void;
  const saidFirst = new Promise<undefined>((r) => {
    said = () => r(undefined);
  });
  let send: ((json: string) => void) | undefined;
  const relay = plainChannel(capabilities, async (n) => {
    const json = JSON.stringify({ ...n, jsonrpc: '2.0' });
    if (send) send(json);
    else {
      early.push(json);
      said();
    }
  });
  const answer = plainAnswer(deps, conn, id, params, relay);
  const first = await Promise.race([answer, saidFirst]);
  if (first !== undefined) return new Response(first, { status: 200, headers });
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (const json of early) c.enqueue(sseEvent(json));
      send = (json) => c.enqueue(sseEvent(json));
      answer.then(
        (json) => {
          // What the server says after its result has no call left to ride on.
          send = () => undefined;
          c.enqueue(sseEvent(json));
          c.close();
        },
        (err: unknown) => {
          send = () => undefined;
          c.error(err);
        },
      );
    },
    cancel() {
      send = () => undefined;
    },
  });
  return new Response(body, { status: 200, headers: { ...headers, 'content-type': 'text/event-stream' } });
}

/** The call's JSON-RPC answer, as the SDK would write it. */
async function plainAnswer(
  deps: PlainDeps,
  conn: AgentConnection,
  id: JSONRPCRequest['id'],
  params: PlainCallParams,
  relay: AgentChannel,
): Promise<string> {
  const result = await callTool(
    { gate: deps.gateway, db: deps.store.db, cancellations: deps.cancellations, log: deps.log },
    conn,
    params,
    { id, relay },
  );
  const checked = CallToolResultSchema.safeParse(result);
  const message = checked.success
    ? { result: checked.data, jsonrpc: '2.0', id }
    : {
        jsonrpc: '2.0',
        id,
        error: {
          code: ErrorCode.InvalidParams,
          message: `Invalid tools/call result: ${checked.error.message}`,
        },
      };
  return JSON.stringify(message);
}
