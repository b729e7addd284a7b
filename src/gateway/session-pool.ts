/**
 * The agents' MCP sessions: one per agent and connection, opened on its first call (a stdio
 * server starts inside the org's sandbox), so stopping an agent ends its servers and nobody
 * else's. A session unused for a while closes, unless its agent has a call in flight; one whose
 * server exits (or fails to start) is dropped, and the next call opens it anew.
 */
import { type ConnectionToOpen, type OpenSession, secretsOf } from '../connections/index.ts';

export interface Session {
  orgId: string;
  agentId: string;
  connectionId: string;
  /** The person it acts for: set only on a per-person (OAuth) connection, whose sessions are kept per person. */
  personId: string | null;
  /** Vault secrets the server was given: changing one ends the session. */
  secretIds: string[];
  /** The client, and what scrubs the connection's own secrets from what its tools return. */
  ready: Promise<OpenSession>;
  lastUsed: number;
}

/** Which sessions to close: an agent's, an org's, a connection's, those holding a secret, or idle ones. */
export type SessionFilter =
  | { agentId: string }
  | { orgId: string }
  | { connectionId: string }
  | { secretId: string }
  /** A person's sessions on per-person connections (one connection's, or all). */
  | { personId: string; connectionId?: string | undefined }
  /** Unused this long, and their agent has no call in flight. */
  | { unusedForMs: number };

export interface SessionPoolOptions {
  /** Opens a session for an agent (stdio: in the org's sandbox, with the secrets it may have). */
  open: (conn: ConnectionToOpen, agentId: string, personId: string | null) => Promise<OpenSession>;
  /** Whether an agent has calls in flight (its sessions are then never idle). */
  busy: (agentId: string) => boolean;
  /** A session closes after this long unused (10 minutes by default). */
  idleMs?: number | undefined;
}

export class SessionPool {
  readonly #o: SessionPoolOptions;
  readonly #sessions = new Map<string, Session>();
  readonly #reaper: NodeJS.Timeout;

  constructor(o: SessionPoolOptions) {
    this.#o = o;
    this.#reaper = setInterval(() => void this.close({ unusedForMs: o.idleMs ?? 10 * 60_000 }), 60_000);
    this.#reaper.unref();
  }

  /** Open sessions (each an MCP server launched or connected), by org. */
  countByOrg(): Map<string, number> {
    const n = new Map<string, number>();
    for (const s of this.#sessions.values()) n.set(s.orgId, (n.get(s.orgId) ?? 0) + 1);
    return n;
  }

  /**
   * The agent's open session to the connection (for `personId` on a per-person connection),
   * marked used; undefined when there is none.
   */
  find(agentId: string, connectionId: string, personId: string | null = null): Session | undefined {
    const found =
      (personId === null ? undefined : this.#sessions.get(`${agentId}/${connectionId}/${personId}`)) ??
      this.#sessions.get(`${agentId}/${connectionId}`);
    if (found) found.lastUsed = Date.now();
    return found;
  }

  /** The agent's session to the connection: the open one, or one opened now. */
  open(agentId: string, conn: ConnectionToOpen, onBehalfOf: string | null = null): Session {
    // A per-person connection's session is the person's own: never shared with another person.
    const personId = conn.per_person ? onBehalfOf : null;
    const key = conn.per_person ? `${agentId}/${conn.id}/${personId ?? ''}` : `${agentId}/${conn.id}`;
    const found = this.#sessions.get(key);
    if (found) {
      found.lastUsed = Date.now();
      return found;
    }
    const ready = this.#o.open(conn, agentId, personId);
    const session: Session = {
      orgId: conn.org_id,
      agentId,
      connectionId: conn.id,
      personId,
      secretIds: secretsOf(conn),
      ready,
      lastUsed: Date.now(),
    };
    const drop = () => {
      if (this.#sessions.get(key) === session) this.#sessions.delete(key);
    };
    // A server that exits (or fails to start) takes its session with it; the next call opens anew.
    ready.then((r) => {
      r.client.onclose = drop;
    }, drop);
    this.#sessions.set(key, session);
    return session;
  }

  /** Closes the sessions `which` names, and waits until their servers have ended. */
  async close(which: SessionFilter): Promise<void> {
    const now = Date.now();
    const closing = [...this.#sessions].filter(([, s]) => {
      if ('agentId' in which) return s.agentId === which.agentId;
      if ('orgId' in which) return s.orgId === which.orgId;
      if ('personId' in which)
        return (
          s.personId === which.personId && (!which.connectionId || s.connectionId === which.connectionId)
        );
      if ('connectionId' in which) return s.connectionId === which.connectionId;
      if ('secretId' in which) return s.secretIds.includes(which.secretId);
      return now - s.lastUsed >= which.unusedForMs && !this.#o.busy(s.agentId);
    });
    await Promise.all(closing.map(([key]) => this.#closeOne(key)));
  }

  /** The agents with a session open to the connection. */
  agentsOn(connectionId: string): string[] {
    return [...this.#sessions.values()].filter((s) => s.connectionId === connectionId).map((s) => s.agentId);
  }

  /** The agent's sessions that are open (started and answering), each with its connection. */
  async clientsOf(agentId: string): Promise<Array<{ connectionId: string; client: OpenSession['client'] }>> {
    const mine = [...this.#sessions.values()].filter((s) => s.agentId === agentId);
    const open = await Promise.all(
      mine.map((s) =>
        s.ready.then(
          (r) => ({ connectionId: s.connectionId, client: r.client }),
          () => null,
        ),
      ),
    );
    return open.filter((s) => s !== null);
  }

  /** The agents that have sessions open. */
  agentIds(): string[] {
    return [...new Set([...this.#sessions.values()].map((s) => s.agentId))];
  }

  /** Closes every session (the server is closing). */
  async closeAll(): Promise<void> {
    clearInterval(this.#reaper);
    await Promise.all([...this.#sessions.keys()].map((k) => this.#closeOne(k)));
  }

  async #closeOne(key: string): Promise<void> {
    const s = this.#sessions.get(key);
    if (!s) return;
    this.#sessions.delete(key);
    await s.ready.then((r) => r.client.close()).catch(() => undefined);
  }
}
