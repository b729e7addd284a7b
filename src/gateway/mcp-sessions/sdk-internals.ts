/**
 * The MCP SDK's private state a session needs across replicas, in one place: the SDK offers no
 * way to restore a session on another process (what `initialize` negotiated, the transport's
 * "initialized" mark) nor to hand a server an answer that came in elsewhere (its pending
 * server → client requests). Every read or write of a private field is here; `checkSdkShape`
 * (and sdk-internals.test.ts) fail loudly when an SDK upgrade moves them.
 *
 * @example
 *   numberRequestsFrom(server, randomInt(2 ** 40));
 *   await restoreInitialized(server, transport, sessionId, { protocolVersion, capabilities, clientInfo });
 *   if (awaitsAnswer(server, answer.id)) takeAnswer(server, answer);
 */
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { InitializeRequest, JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/** The server's side (the SDK's `Protocol` and `Server`): pending requests, their numbering, `initialize`. */
interface ServerPrivates {
  _responseHandlers: Map<number, unknown>;
  _requestMessageId: number;
  _onresponse(message: JSONRPCMessage): void;
  _oninitialize(request: InitializeRequest): Promise<unknown>;
}

/** The transport's side: whether `initialize` ran, and the session id it gave (set by it, so not checked ahead). */
interface TransportPrivates {
  sessionId: string | undefined;
  _initialized: boolean;
}

const server = (s: Server) => s as unknown as ServerPrivates;
const transport = (t: WebStandardStreamableHTTPServerTransport) => t as unknown as TransportPrivates;

/** What is wrong with the SDK's shape for this module, or nothing (checked once per process). */
export function sdkShapeProblems(s: Server, t: WebStandardStreamableHTTPServerTransport): string[] {
  const p = server(s);
  const q = transport(t);
  const problems: string[] = [];
  if (!(p._responseHandlers instanceof Map)) problems.push('Protocol._responseHandlers is not a Map');
  if (typeof p._requestMessageId !== 'number') problems.push('Protocol._requestMessageId is not a number');
  if (typeof p._onresponse !== 'function') problems.push('Protocol._onresponse is not a function');
  if (typeof p._oninitialize !== 'function') problems.push('Server._oninitialize is not a function');
  if (typeof q._initialized !== 'boolean') problems.push('transport._initialized is not a boolean');
  return problems;
}

let checked = false;

/** Throws, naming what moved, if the SDK no longer has the private state used here. */
export function checkSdkShape(s: Server, t: WebStandardStreamableHTTPServerTransport): void {
  if (checked) return;
  const problems = sdkShapeProblems(s, t);
  if (problems.length > 0)
    throw new Error(
      `The MCP SDK changed shape (src/gateway/mcp-sessions/sdk-internals.ts needs updating): ${problems.join('; ')}`,
    );
  checked = true;
}

/** The server numbers its requests to the client from `start` (each replica's own range). */
export function numberRequestsFrom(s: Server, start: number): void {
  server(s)._requestMessageId = start;
}

/** Whether the server waits for an answer with this id (it asked the client, on this replica). */
export function awaitsAnswer(s: Server, id: number | string): boolean {
  return typeof id === 'number' && server(s)._responseHandlers.has(id);
}

/** Hands the server a client's answer that arrived on another replica. */
export function takeAnswer(s: Server, message: JSONRPCMessage): void {
  server(s)._onresponse(message);
}

/**
 * Makes a server and transport built on this replica carry on a session `initialize` opened
 * elsewhere: the transport takes `sessionId` as initialized, the server learns what was negotiated.
 */
export async function restoreInitialized(
  s: Server,
  t: WebStandardStreamableHTTPServerTransport,
  sessionId: string,
  params: InitializeRequest['params'],
): Promise<void> {
  const q = transport(t);
  q.sessionId = sessionId;
  q._initialized = true;
  await server(s)._oninitialize({ method: 'initialize', params });
}
