/**
 * What an agent's MCP sessions to its connections say back, relayed to the agent, governed:
 * log lines (at the level the agent chose, scrubbed, cut to size), progress under the agent's own
 * token, list changes (the connection is listed again, so changed definitions suspend their
 * grants, then the agent is told), updates of resources it subscribed to (while its grants still
 * allow reading them), and a server's requests of the agent — sampling its model, eliciting from
 * its person — each decided on the agent's grants and on record, refused with a JSON-RPC error in
 * words otherwise. A server's request rides on the agent's request in progress on that session
 * (stdio carries no link between them: the latest one is taken, and with calls of more than one
 * person in progress on a shared connection, none); with none, it is refused.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  CancelledNotificationSchema,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  type LoggingLevel,
  LoggingMessageNotificationSchema,
  McpError,
  type Progress,
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
  type ServerNotification,
  type ServerRequest,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { AuditTrail } from '../audit/index.ts';
import { PaddockError } from '../errors/index.ts';
import { newId } from '../ids/index.ts';
import type { Logger } from '../log/index.ts';
import { redactString } from '../redact/index.ts';
import type { AgentChannel, AgentDelivery, DeliveryTarget } from './agent-channel.ts';
import { REFUSED_CODE } from './refusals.ts';
import {
  atLeast,
  boundedData,
  boundedMessage,
  MAX_ASKS_WAITING,
  MAX_SUBSCRIPTIONS_PER_SESSION,
  MAX_URI_CHARS,
  mostVerbose,
  RateBound,
} from './relay-bounds.ts';
import type { GateCaller, GateRequest } from './request.ts';
import type { Outcome } from './steps/invoke.ts';

/** One agent's session to one connection. */
export interface Upstream {
  orgId: string;
  agentId: string;
  connectionId: string;
  /** The person a per-person (OAuth) connection's session acts for: what it says is theirs alone. */
  personId?: string | null | undefined;
}

/** What the gate gives the relays. */
export interface RelayDeps {
  audit: AuditTrail;
  log?: Logger | undefined;
  delivery: AgentDelivery;
  /**
   * Decides a server's request of the agent on its grants, on record: its allowed entry and how
   * to record its end, or the refusal (already recorded). `unable`: why it cannot be relayed
   * whatever the grants say.
   */
  decideAsk(
    req: GateRequest,
    unable: string | undefined,
  ): Promise<{ entry: string; done: (outcome: Outcome) => void }>;
  /** Whether the agent's grants allow reading `uri` now (no record: a check before relaying an update). */
  mayRead(up: Upstream, uri: string): Promise<boolean>;
  /** The namespace the agent knows the connection by. */
  namespaceOf(orgId: string, connectionId: string): Promise<string | undefined>;
  /**
   * Lists the connection again on this session (definitions recorded, changed ones' grants
   * suspended): whether anything changed from what is on record.
   */
  relist(up: Upstream, client: Client, scrub: <T>(c: T) => T): Promise<boolean>;
  /** The agents with a session open to the connection. */
  agentsOn(connectionId: string): string[];
  /** The agent's open sessions (each connection's client), for a log level chosen now. */
  clientsOf(agentId: string): Promise<Array<{ connectionId: string; client: Client }>>;
  /** The log levels the agent's stored client sessions chose, on every replica. */
  storedLevels(orgId: string, agentId: string): Promise<LoggingLevel[]>;
}

/** How long a relayed request may wait for the agent's client (a person may be answering). */
const ASK_TIMEOUT_MS = 10 * 60_000;
/** List changes of one connection coalesce over this long (a server may send a burst). */
const RELIST_AFTER_MS = 500;
/**
 * Listings again a session may have at once, and how often one more comes: each listing is on
 * record (and each changed definition), so a server that keeps saying its list changed would
 * otherwise flood the audit log.
 */
const RELIST_BURST = 5;
const RELIST_REFILL_MS = 10_000;
/** Audit records of dropped notifications per session, at most; the rest go to the log. */
const MAX_DROP_RECORDS = 20;

interface InFlight {
  caller: GateCaller;
  channel: AgentChannel;
  /** Ends with the request (the kill switch, the caller gone): a server's request riding on it ends too. */
  signal: AbortSignal | undefined;
}

interface Subscriber {
  caller: GateCaller;
  sessionId: string | undefined;
}

const key = (...parts: string[]) => parts.join('\u0000');

export class Relays {
  readonly #d: RelayDeps;
  /** The agent's requests in progress on each session, latest last. */
  readonly #inFlight = new Map<string, InFlight[]>();
  /**
   * The level each agent's servers are told (by org and agent): the most verbose any of its
   * clients chose (each client's own is held to at delivery).
   */
  readonly #levels = new Map<string, LoggingLevel>();
  /** Agents whose servers were opened here, by org and agent (told the level when it changes). */
  readonly #serving = new Set<string>();
  /** Each agent's level being worked out and told (by org and agent), the next waiting on it. */
  readonly #levelling = new Map<string, Promise<void>>();
  /** Levels chosen by clients with no stored session (in-process servers by their id; '' a sessionless request's, agent-wide). */
  readonly #chosenHere = new Map<string, Map<string, LoggingLevel>>();
  /** Subscribers of each (agent, connection, URI), by session ('' with none). */
  readonly #subs = new Map<string, Map<string, Subscriber>>();
  /** The lists said to have changed, by agent session, while listing again waits (and on which client). */
  readonly #relisting = new Map<
    string,
    { kinds: Set<'tools' | 'prompts' | 'resources'>; client: Client; scrub: <T>(c: T) => T }
  >();
  readonly #drops = new Map<string, number>();
  /** Each agent session's listings left (`RELIST_BURST` at most), as of `at`. */
  readonly #relistBudget = new Map<string, { left: number; at: number }>();

  constructor(d: RelayDeps) {
    this.#d = d;
  }

  /** Runs one of the agent's requests with its channel open to what the session says meanwhile. */
  async during<T>(call: GateRequest, run: () => Promise<T>): Promise<T> {
    if (!call.relay) return run();
    const k = key(call.caller.agentId, call.connectionId);
    const entry: InFlight = { caller: call.caller, channel: call.relay, signal: call.signal };
    const list = this.#inFlight.get(k) ?? [];
    list.push(entry);
    this.#inFlight.set(k, list);
    try {
      return await run();
    } finally {
      const i = list.indexOf(entry);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0 && this.#inFlight.get(k) === list) this.#inFlight.delete(k);
    }
  }

  /** The progress handler of a call: relayed under the agent's token, when it gave one. */
  progressOf(call: GateRequest, scrub: () => <T>(c: T) => T): (p: Progress) => void {
    // A server's progress flood reaches the agent at the rate its other notifications may.
    const rate = new RateBound();
    return (p) => {
      const token = call.relay?.progressToken;
      if (token === undefined) return;
      if (!rate.allow()) {
        if (rate.droppedThisSecond === 1)
          this.#dropped(
            { orgId: call.caller.orgId, agentId: call.caller.agentId, connectionId: call.connectionId },
            'progress',
            'more than 50 notifications in a second',
          );
        return;
      }
      const message = boundedMessage(typeof p.message === 'string' ? scrub()(p.message) : undefined);
      // A token's progress only grows: after a wait for approval (its seconds), the server's count starts past it.
      const sent = call.relay?.progressSent?.() ?? 0;
      const offset = sent > 0 ? Math.floor(sent) + 1 : 0;
      void call
        .relay!.notify({
          method: 'notifications/progress',
          params: {
            progressToken: token,
            progress: p.progress + offset,
            ...(typeof p.total === 'number' ? { total: p.total + offset } : {}),
            ...(message === undefined ? {} : { message }),
          },
        })
        .catch(() => undefined);
    };
  }

  /** Sets the relays on a session's client, before it connects (its requests need handlers by then). */
  attach(client: Client, up: Upstream, scrub: <T>(c: T) => T): void {
    const rate = new RateBound();
    const pass = (what: string) => {
      if (rate.allow()) return true;
      // One record per burst: the first drop of each second.
      if (rate.droppedThisSecond === 1) this.#dropped(up, what, 'more than 50 notifications in a second');
      return false;
    };
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      if (!pass('log message')) return;
      this.#logLine(up, n.params, scrub);
    });
    const changed = (kind: 'tools' | 'prompts' | 'resources') => () => {
      if (pass(`${kind} list change`)) this.#listChanged(up, client, scrub, kind);
    };
    client.setNotificationHandler(ToolListChangedNotificationSchema, changed('tools'));
    client.setNotificationHandler(PromptListChangedNotificationSchema, changed('prompts'));
    client.setNotificationHandler(ResourceListChangedNotificationSchema, changed('resources'));
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      if (pass('resource update')) void this.#updated(up, n.params.uri);
    });
    // The SDK ignores a cancellation of request id 0 (a falsy id): the server's requests are
    // cancellable here by any id.
    const asked = new Map<string | number, AbortController>();
    let waiting = 0;
    client.setNotificationHandler(CancelledNotificationSchema, (n) => {
      if (n.params.requestId !== undefined) asked.get(n.params.requestId)?.abort(n.params.reason);
    });
    const relay =
      (action: 'sample' | 'elicit') =>
      async (req: ServerRequest, extra: { requestId: string | number; signal: AbortSignal }) => {
        // Each waits up to ten minutes on the agent's client, on record: a flood is cut to a few at once.
        // Counted, not read off `asked`: a server may reuse a request id.
        if (waiting >= MAX_ASKS_WAITING) {
          if (pass(`${action} request`)) this.#dropped(up, `${action} request`, 'too many already waiting');
          throw new McpError(
            REFUSED_CODE,
            `Refused: ${MAX_ASKS_WAITING} of this server's requests of the agent are already waiting for an answer.`,
            { code: 'too_many_requests' },
          );
        }
        const mine = new AbortController();
        asked.set(extra.requestId, mine);
        waiting++;
        try {
          return await this.#ask(up, scrub, action, req, AbortSignal.any([extra.signal, mine.signal]));
        } finally {
          waiting--;
          if (asked.get(extra.requestId) === mine) asked.delete(extra.requestId);
        }
      };
    client.setRequestHandler(CreateMessageRequestSchema, (req, extra) =>
      relay('sample')(req as ServerRequest, extra),
    );
    client.setRequestHandler(ElicitRequestSchema, (req, extra) =>
      relay('elicit')(req as ServerRequest, extra),
    );
    // What the SDK could not parse (a malformed notification) is dropped, on record.
    client.onerror = (err) =>
      this.#dropped(up, 'malformed message', redactString(scrub(err.message)).slice(0, 300));
  }

  /** Applies the level the agent's clients chose (read now: another replica may have changed it) to a server session just opened. */
  async opened(client: Client, orgId: string, agentId: string): Promise<void> {
    const k = key(orgId, agentId);
    this.#serving.add(k);
    if (!client.getServerCapabilities()?.logging) return;
    const level = await this.#wanted(orgId, agentId);
    if (!level) return;
    this.#levels.set(k, level);
    await client.setLoggingLevel(level).catch(() => undefined);
  }

  /**
   * A client with no stored session chose a level: an in-process server (`holder`, its id; its
   * own deliveries are held to it where it is attached), or a sessionless request ('': kept for
   * the agent until it is stopped, it can only make the agent's servers more verbose).
   */
  async levelChosen(orgId: string, agentId: string, holder: string, level: LoggingLevel): Promise<void> {
    const k = key(orgId, agentId);
    const here = this.#chosenHere.get(k) ?? new Map<string, LoggingLevel>();
    this.#chosenHere.set(k, here);
    here.set(holder, level);
    await this.levelsChanged(orgId, agentId);
  }

  /**
   * What the agent's clients chose changed (a stored session chose one, here or on another
   * replica): its open servers are told the most verbose, if it changed. One at a time per agent,
   * so an older reading never lands after a newer one.
   */
  levelsChanged(orgId: string, agentId: string): Promise<void> {
    const k = key(orgId, agentId);
    const next = (this.#levelling.get(k) ?? Promise.resolve())
      .then(() => this.#tellLevel(orgId, agentId))
      .finally(() => {
        if (this.#levelling.get(k) === next) this.#levelling.delete(k);
      });
    this.#levelling.set(k, next);
    return next;
  }

  async #tellLevel(orgId: string, agentId: string): Promise<void> {
    const k = key(orgId, agentId);
    const level = await this.#wanted(orgId, agentId);
    if (level === this.#levels.get(k)) return;
    // With none left, servers keep the last level told (MCP has no way to unset it); each client is held to its own.
    if (level === undefined) {
      this.#levels.delete(k);
      return;
    }
    this.#levels.set(k, level);
    const open = await this.#d.clientsOf(agentId);
    await Promise.all(
      open
        .filter((s) => s.client.getServerCapabilities()?.logging)
        .map((s) => s.client.setLoggingLevel(level).catch(() => undefined)),
    );
  }

  /**
   * Sessions ended (closed, idle, on any replica): each agent whose servers were told a level is
   * told again what its clients left want — quieter, when the most verbose one went.
   */
  async recheckLevels(): Promise<void> {
    await Promise.all(
      [...this.#levels.keys()].map((k) => {
        const [orgId, agentId] = k.split('\u0000') as [string, string];
        return this.levelsChanged(orgId, agentId);
      }),
    );
  }

  /** Whether the org's agent's servers run here (a level its clients choose anywhere is theirs to be told). */
  servesAgent(orgId: string, agentId: string): boolean {
    return this.#serving.has(key(orgId, agentId));
  }

  /** The most verbose level the agent's clients chose: its stored sessions' and those chosen here. */
  async #wanted(orgId: string, agentId: string): Promise<LoggingLevel | undefined> {
    const stored = await this.#d.storedLevels(orgId, agentId);
    return mostVerbose([...stored, ...(this.#chosenHere.get(key(orgId, agentId))?.values() ?? [])]);
  }

  /** A subscription the gate allowed (and the server took): the session is told of its updates. */
  subscribed(caller: GateCaller, connectionId: string, uri: string, sessionId: string | undefined): void {
    const k = key(caller.agentId, connectionId, uri);
    const subs = this.#subs.get(k) ?? new Map<string, Subscriber>();
    subs.set(sessionId ?? '', { caller, sessionId });
    this.#subs.set(k, subs);
  }

  /** Whether the session may hold one more subscription (at most `MAX_SUBSCRIPTIONS_PER_SESSION`; one it holds already is no more). */
  maySubscribe(agentId: string, connectionId: string, uri: string, sessionId: string | undefined): boolean {
    const s = sessionId ?? '';
    if (this.#subs.get(key(agentId, connectionId, uri))?.has(s)) return true;
    let n = 0;
    for (const subs of this.#subs.values()) if (subs.has(s) && subs.get(s)!.caller.agentId === agentId) n++;
    return n < MAX_SUBSCRIPTIONS_PER_SESSION;
  }

  /** Ends a session's subscription; whether the agent has none left on that URI (the server is then told). */
  unsubscribed(agentId: string, connectionId: string, uri: string, sessionId: string | undefined): boolean {
    const k = key(agentId, connectionId, uri);
    const subs = this.#subs.get(k);
    subs?.delete(sessionId ?? '');
    if (subs && subs.size > 0) return false;
    this.#subs.delete(k);
    return true;
  }

  /** Ends subscriptions: an agent's or an org's (stopped), or one client session's (closed). */
  end(which: { agentId: string } | { orgId: string } | { sessionId: string }): void {
    for (const [k, subs] of this.#subs) {
      for (const [s, sub] of subs) {
        const ends =
          'agentId' in which
            ? sub.caller.agentId === which.agentId
            : 'orgId' in which
              ? sub.caller.orgId === which.orgId
              : sub.sessionId === which.sessionId;
        if (ends) subs.delete(s);
      }
      if (subs.size === 0) this.#subs.delete(k);
    }
    if ('sessionId' in which) for (const here of this.#chosenHere.values()) here.delete(which.sessionId);
    // The levels, by org and agent: an agent's (stopped) or an org's.
    const levelled = (k: string) =>
      'agentId' in which
        ? k.endsWith(`\u0000${which.agentId}`)
        : 'orgId' in which && k.startsWith(`${which.orgId}\u0000`);
    for (const m of [this.#levels, this.#chosenHere]) for (const k of m.keys()) if (levelled(k)) m.delete(k);
    for (const k of this.#serving) if (levelled(k)) this.#serving.delete(k);
    if ('agentId' in which) {
      for (const k of this.#drops.keys()) if (k.startsWith(`${which.agentId}\u0000`)) this.#drops.delete(k);
      for (const k of this.#relistBudget.keys())
        if (k.startsWith(`${which.agentId}\u0000`)) this.#relistBudget.delete(k);
    }
  }

  /** How many subscriptions are open (for tests and metrics). */
  get subscriptions(): number {
    let n = 0;
    for (const subs of this.#subs.values()) n += subs.size;
    return n;
  }

  /** The latest of the agent's requests in progress on the session, if any. */
  #current(up: Upstream): InFlight | undefined {
    const list = this.#inFlight.get(key(up.agentId, up.connectionId));
    // A per-person session's server speaks for its person: only that person's call may carry it.
    if (!up.personId) return list?.at(-1);
    return list?.findLast((f) => f.caller.onBehalfOf === up.personId);
  }

  /**
   * How many people's calls are in progress on a shared session: a server's request could belong to
   * any of them (stdio links it to none), so with more than one it is refused rather than guessed.
   */
  #peopleInFlight(up: Upstream): number {
    if (up.personId) return 1;
    const list = this.#inFlight.get(key(up.agentId, up.connectionId)) ?? [];
    return new Set(list.map((f) => f.caller.onBehalfOf)).size;
  }

  #logLine(
    up: Upstream,
    params: { level: LoggingLevel; logger?: string | undefined; data?: unknown },
    scrub: <T>(c: T) => T,
  ): void {
    // A server that ignores the level is held to it here (to the most verbose any client chose;
    // each client is held to its own where it is delivered).
    if (!atLeast(params.level, this.#levels.get(key(up.orgId, up.agentId)))) return;
    const { data, cutChars } = boundedData(params.data);
    if (cutChars > 0) this.#dropped(up, 'log message cut', `${cutChars} characters over the limit`);
    const logger = typeof params.logger === 'string' ? params.logger.slice(0, 200) : undefined;
    const n: ServerNotification = {
      method: 'notifications/message',
      params: scrub({ level: params.level, ...(logger === undefined ? {} : { logger }), data }),
    };
    this.#send(up, n);
  }

  /** On the agent's request in progress on the session, if any; otherwise to its open client sessions. */
  #send(up: Upstream, n: ServerNotification): void {
    const current = this.#current(up);
    if (current) void current.channel.notify(n).catch(() => undefined);
    else this.#d.delivery.deliver(this.#target(up), n);
  }

  /** Whom a delivery from the session is for: the agent's sessions, its person's only on a per-person connection. */
  #target(up: Upstream): DeliveryTarget {
    return { orgId: up.orgId, agentId: up.agentId, ...(up.personId ? { personId: up.personId } : {}) };
  }

  /** A list changed: the connection is listed again (once per burst), then its agents are told. */
  #listChanged(up: Upstream, client: Client, scrub: <T>(c: T) => T, kind: 'tools' | 'prompts' | 'resources') {
    // Per agent session: a burst coalesces, listed on the latest session that said it (an
    // earlier one may have closed meanwhile).
    const k = key(up.agentId, up.connectionId);
    const pending = this.#relisting.get(k);
    if (pending) {
      pending.kinds.add(kind);
      Object.assign(pending, { client, scrub });
      return;
    }
    const burst = { kinds: new Set([kind]), client, scrub };
    this.#relisting.set(k, burst);
    const left = this.#relistsLeft(k);
    const wait = left >= 1 ? RELIST_AFTER_MS : Math.max(RELIST_AFTER_MS, (1 - left) * RELIST_REFILL_MS);
    const timer = setTimeout(() => {
      this.#relisting.delete(k);
      this.#relistBudget.set(k, { left: this.#relistsLeft(k) - 1, at: Date.now() });
      this.#d
        .relist(up, burst.client, burst.scrub)
        .catch((err: unknown) => {
          this.#d.log?.warn(
            { err, connectionId: up.connectionId },
            'listing a connection again after its server said its list changed failed',
          );
          return true;
        })
        .then((changed) => {
          // The agent whose server said so is told, as directly; the others only of a change on record.
          const others = changed ? this.#d.agentsOn(up.connectionId) : [];
          for (const agentId of new Set([up.agentId, ...others]))
            for (const k of burst.kinds)
              this.#d.delivery.deliver(
                { orgId: up.orgId, agentId },
                { method: `notifications/${k}/list_changed` },
              );
        });
    }, wait);
    timer.unref();
  }

  /** How many listings again the agent session has left now (refilled one per `RELIST_REFILL_MS`). */
  #relistsLeft(k: string): number {
    const b = this.#relistBudget.get(k);
    if (!b) return RELIST_BURST;
    return Math.min(RELIST_BURST, b.left + (Date.now() - b.at) / RELIST_REFILL_MS);
  }

  /** A resource changed: its subscribers are told, each only while its grants still allow reading it. */
  async #updated(up: Upstream, uri: string): Promise<void> {
    if (typeof uri !== 'string' || uri.length > MAX_URI_CHARS) {
      this.#dropped(up, 'resource update', 'its URI is too long');
      return;
    }
    const subs = this.#subs.get(key(up.agentId, up.connectionId, uri));
    if (!subs) return;
    if (!(await this.#d.mayRead(up, uri))) {
      this.#subs.delete(key(up.agentId, up.connectionId, uri));
      this.#d.log?.info({ ...up }, 'a subscription ended: the grant no longer allows reading the resource');
      return;
    }
    const ns = await this.#d.namespaceOf(up.orgId, up.connectionId);
    if (!ns) return;
    for (const sub of subs.values()) {
      // A per-person session's update is its person's: another person's subscription hears it from their own.
      if (up.personId && sub.caller.onBehalfOf !== up.personId) continue;
      this.#d.delivery.deliver(
        { ...this.#target(up), sessionId: sub.sessionId },
        { method: 'notifications/resources/updated', params: { uri: `${ns}+${uri}` } },
      );
    }
  }

  /** A server's request of the agent: decided, on record, relayed on the agent's request in progress. */
  async #ask(
    up: Upstream,
    scrub: <T>(c: T) => T,
    action: 'sample' | 'elicit',
    req: ServerRequest,
    signal: AbortSignal,
  ): Promise<Record<string, unknown>> {
    const current = this.#current(up);
    const what = action === 'sample' ? 'sampling' : 'elicitation';
    const caller: GateCaller = current?.caller ?? {
      orgId: up.orgId,
      agentId: up.agentId,
      onBehalfOf: null,
      requestId: newId('req'),
    };
    const unable = !current
      ? `no request of the agent is in progress on this connection to carry the ${what} request`
      : this.#peopleInFlight(up) > 1
        ? `calls of more than one person are in progress on this shared connection, and Paddock cannot tell whose call the ${what} request belongs to`
        : !current.channel.capabilities?.[what]
          ? `the agent's client did not declare ${what} (or its transport cannot carry a request to it)`
          : undefined;
    const call: GateRequest = {
      caller,
      connectionId: up.connectionId,
      action,
      tool: '*',
      // Sizes, never the text: what a server asks the model or the person is the agent's business.
      args: summaryOf(req),
      approval: 'return',
      signal,
    };
    let decided: { entry: string; done: (outcome: Outcome) => void };
    try {
      decided = await this.#d.decideAsk(call, unable);
    } catch (err) {
      throw asRpcError(err);
    }
    const started = performance.now();
    const outcome: Outcome = { durationMs: 0, scrub };
    try {
      // What the server says goes through its scrubber, as every answer of it does.
      const ends = current!.signal ? AbortSignal.any([signal, current!.signal]) : signal;
      const result = await current!.channel.request(scrub(withoutContext(req)), {
        signal: ends,
        timeoutMs: ASK_TIMEOUT_MS,
      });
      outcome.result = result;
      return result;
    } catch (err) {
      outcome.error = signal.aborted
        ? 'cancelled by the server'
        : current!.signal?.aborted
          ? `the agent's request ended: ${redactString(String((current!.signal.reason as Error)?.message ?? current!.signal.reason)).slice(0, 200)}`
          : redactString(err instanceof Error ? err.message : String(err)).slice(0, 500);
      throw err instanceof McpError
        ? err
        : new McpError(-32603, `The agent's client did not answer: ${outcome.error}`);
    } finally {
      outcome.durationMs = Math.round((performance.now() - started) * 100) / 100;
      decided.done(outcome);
    }
  }

  /** A notification dropped or cut, on record (the first few per session; then in the log). */
  #dropped(up: Upstream, what: string, why: string): void {
    const k = key(up.agentId, up.connectionId);
    const n = (this.#drops.get(k) ?? 0) + 1;
    this.#drops.set(k, n);
    if (n > MAX_DROP_RECORDS) {
      this.#d.log?.warn({ ...up, what, why }, 'a notification from an MCP server was dropped');
      return;
    }
    void this.#d.audit
      .appendWritten({
        orgId: up.orgId,
        actor: { type: 'system', id: 'connection-monitor' },
        target: { type: 'connection', id: up.connectionId },
        action: 'connection.notification.dropped',
        outcome: 'denied',
        details: {
          agentId: up.agentId,
          what,
          why,
          ...(n === MAX_DROP_RECORDS ? { more: 'further drops of this session go to the log' } : {}),
        },
      })
      .catch((err: unknown) => this.#d.log?.error({ err }, 'could not record a dropped notification'));
  }
}

/**
 * A sampling request asking for no context: to the agent's client, "this server" is Paddock —
 * every connection of the org — so one connection would be handed what the agent read from all
 * the others (and "all servers" more still). What it asked is on record (`summaryOf`).
 */
function withoutContext(req: ServerRequest): ServerRequest {
  const p = req.params as { includeContext?: unknown } | undefined;
  if (
    req.method !== 'sampling/createMessage' ||
    p?.includeContext === undefined ||
    p.includeContext === 'none'
  )
    return req;
  return { ...req, params: { ...req.params, includeContext: 'none' } } as ServerRequest;
}

/** What the record keeps of a server's request: its sizes and shape, never its text. */
function summaryOf(req: ServerRequest): Record<string, unknown> {
  const p = (req.params ?? {}) as Record<string, unknown>;
  const bytes = JSON.stringify(p).length;
  if (req.method === 'sampling/createMessage')
    return {
      bytes,
      messages: Array.isArray(p.messages) ? p.messages.length : 0,
      ...(typeof p.maxTokens === 'number' ? { maxTokens: p.maxTokens } : {}),
      ...(typeof p.includeContext === 'string' ? { includeContext: p.includeContext.slice(0, 20) } : {}),
    };
  const schema = p.requestedSchema as { properties?: Record<string, unknown> } | undefined;
  return {
    bytes,
    ...(typeof p.mode === 'string' ? { mode: p.mode.slice(0, 20) } : {}),
    fields: Object.keys(schema?.properties ?? {})
      .slice(0, 50)
      .map((f) => f.slice(0, 100)),
  };
}

/** The gate's refusal as the JSON-RPC error the server reads. */
function asRpcError(err: unknown): McpError {
  if (!PaddockError.isInstance(err))
    return new McpError(-32603, 'internal: the request could not be decided.');
  return new McpError(REFUSED_CODE, `${err.code}: ${redactString(err.message)}`, { code: err.code });
}
