/**
 * The agent MCP servers of a stateless transport (the HTTP endpoint: one transport per request),
 * built once and reused: a server serves one request at a time, bound to that request's caller,
 * and goes back to the pool when the request is answered. Building a server per request cost
 * more CPU than the gate's own decision.
 *
 * @example
 *   const done = await pool.serve({ caller, approval: 'pause', signal }, transport);
 *   try { return await transport.handleRequest(request); } finally { void done(); }
 */
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { type AgentConnection, type AgentServerDeps, buildServer } from './mcp-server.ts';

/** Idle servers kept, at most (more are built while more requests are in flight, then dropped). */
const KEEP = 64;

interface Pooled {
  server: Server;
  conn: AgentConnection | undefined;
}

/** The SDK keeps what an `initialize` declared in private state, which `close()` leaves in place. */
interface Declared {
  _clientCapabilities: unknown;
  _clientVersion: unknown;
}

/**
 * What the last client declared (a stateless `initialize` reaches a pooled server too) is not the
 * next caller's: another agent's requests would be taken for a client that can be asked for a
 * sampling, which a request answered with JSON cannot carry.
 */
function forgetClient(server: Server): void {
  const d = server as unknown as Declared;
  d._clientCapabilities = undefined;
  d._clientVersion = undefined;
}

export class AgentServerPool {
  readonly #deps: AgentServerDeps;
  readonly #idle: Pooled[] = [];

  constructor(deps: AgentServerDeps) {
    this.#deps = deps;
  }

  /** Connects an idle server, bound to `conn`, to `transport`; call what it resolves with once answered. */
  async serve(conn: AgentConnection, transport: Transport): Promise<() => Promise<void>> {
    const p = this.#idle.pop() ?? this.#build();
    p.conn = conn;
    await p.server.connect(transport);
    return async () => {
      await p.server.close();
      p.conn = undefined;
      forgetClient(p.server);
      if (this.#idle.length < KEEP) this.#idle.push(p);
    };
  }

  #build(): Pooled {
    const p: Pooled = { server: undefined as unknown as Server, conn: undefined };
    p.server = buildServer(this.#deps, () => {
      if (!p.conn) throw new Error('a pooled MCP server was used outside a request');
      return p.conn;
    });
    return p;
  }
}
