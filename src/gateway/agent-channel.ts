/**
 * How what an MCP server says reaches the agent: during one of the agent's requests, on that
 * request's own channel (progress, a log line, a sampling or elicitation request: the SDK's
 * `extra.sendNotification` / `extra.sendRequest`); otherwise, delivered to the agent's open
 * client sessions (log lines between calls, list changes, resource updates). The HTTP endpoint's
 * sessions give their own delivery; the in-process default serves long-lived servers (an
 * in-memory transport, the cell channel), which attach themselves.
 *
 * @example
 *   const delivery = new LocalDelivery();
 *   const detach = delivery.attach('agt_1', server);
 *   delivery.deliver({ orgId, agentId: 'agt_1' }, { method: 'notifications/tools/list_changed' });
 */
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type {
  ClientCapabilities,
  ServerNotification,
  ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';

/** The agent's side of one request in progress: how to reach its client while the request lasts. */
export interface AgentChannel {
  /** The agent's progress token for the request, when it gave one (progress is relayed under it). */
  progressToken?: string | number | undefined;
  /** The last progress already sent under that token (a wait for approval): relayed progress goes on past it. */
  progressSent?: (() => number) | undefined;
  /** What the agent's client declared it can do (sampling, elicitation); unknown on a stateless request. */
  capabilities?: ClientCapabilities | undefined;
  /** The client session the request came on, when the transport has sessions. */
  sessionId?: string | undefined;
  notify(notification: ServerNotification): Promise<void>;
  /** A request to the agent's client (a relayed sampling or elicitation): its answer, or why there is none. */
  request(
    request: ServerRequest,
    options: { signal: AbortSignal; timeoutMs: number },
  ): Promise<Record<string, unknown>>;
}

/** Whom a delivery is for: an agent's open sessions, or one of them (the `sessionId` its requests carried). */
export interface DeliveryTarget {
  orgId: string;
  agentId: string;
  sessionId?: string | undefined;
  /** Only the sessions this person's token opened (what a per-person connection says is theirs). */
  personId?: string | undefined;
}

/** Delivers traffic not tied to one of the agent's requests to its open client sessions. */
export interface AgentDelivery {
  /** To every open session of the agent, or only to `sessionId`'s when given. Never throws. */
  deliver(to: DeliveryTarget, notification: ServerNotification): void;
}

/** Each of `deliveries` gets every delivery (the in-process servers and the HTTP endpoint's sessions). */
export function everyDelivery(...deliveries: AgentDelivery[]): AgentDelivery {
  return {
    deliver: (to, n) => {
      for (const d of deliveries) d.deliver(to, n);
    },
  };
}

interface Attached {
  server: Pick<Server, 'notification'>;
  sessionId: string | undefined;
  /** The person its calls are for (its caller's `onBehalfOf`). */
  personId: string | null | undefined;
  /** Whether its client hears a notification (a log line at or above the level it chose). */
  hears: (n: ServerNotification) => boolean;
}

/** The in-process delivery: to the long-lived agent servers of this process that attached themselves. */
export class LocalDelivery implements AgentDelivery {
  readonly #byAgent = new Map<string, Set<Attached>>();

  /** Attaches a server serving the agent; call what it returns when the server closes. */
  attach(
    agentId: string,
    server: Pick<Server, 'notification'>,
    sessionId?: string,
    personId?: string | null,
    hears: (n: ServerNotification) => boolean = () => true,
  ): () => void {
    const entry: Attached = { server, sessionId, personId, hears };
    const set = this.#byAgent.get(agentId) ?? new Set<Attached>();
    this.#byAgent.set(agentId, set);
    set.add(entry);
    return () => {
      set.delete(entry);
      if (set.size === 0 && this.#byAgent.get(agentId) === set) this.#byAgent.delete(agentId);
    };
  }

  deliver({ agentId, sessionId, personId }: DeliveryTarget, notification: ServerNotification): void {
    for (const a of this.#byAgent.get(agentId) ?? []) {
      if (sessionId !== undefined && a.sessionId !== sessionId) continue;
      // One person's traffic (a per-person connection's) reaches servers acting for that person only.
      if (personId !== undefined && a.personId !== personId) continue;
      // A log line below the level its client chose.
      if (!a.hears(notification)) continue;
      // A client gone meanwhile loses the notification, as it would directly.
      a.server.notification(notification).catch(() => undefined);
    }
  }
}
