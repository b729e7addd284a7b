/**
 * MCP sessions over Streamable HTTP: `initialize` opens one (`Mcp-Session-Id`, 256 random bits,
 * only its digest stored), bound to the org, the agent and the person whose agent token opened
 * it. Its transport and server live with it on each replica that serves it, so a request builds
 * nothing; its row in the database lets another replica carry it on (the negotiated protocol
 * version and the client's capabilities restored). It ends when the client DELETEs it, when it
 * has been idle `idleMs`, or when the kill switch or a token's end covers it — on every replica,
 * its open streams closed with it.
 *
 * Server → client messages not tied to a request go to an agent's sessions with `notifyAgent`,
 * on every replica (the stop bus's pattern on its own channel), and reach the client on its GET
 * stream (kept for `Last-Event-ID` resumption on the replica that sent them). The gate's relays
 * deliver through it (`deliver`): a session's requests carry its digest as their `sessionId`, so
 * a resource update reaches the session that subscribed, and a session that ends here ends its
 * subscriptions with it. A client's answer to a server → client request (a sampling result)
 * that reaches a replica which did not ask is passed on, on the same channel, to the one that did.
 *
 * @example
 *   const res = await sessions.open(conn, request, body);          // an initialize
 *   const res = await sessions.serve(sessionId, conn, request, body); // anything after it
 *   await sessions.notifyAgent({ orgId, agentId }, { method: 'notifications/tools/list_changed' });
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes, randomInt } from 'node:crypto';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import {
  type InitializeRequest,
  isJSONRPCErrorResponse,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  LATEST_PROTOCOL_VERSION,
  type LoggingLevel,
  type ServerNotification,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/sdk/types.js';
import { liveAgentTokenIds } from '../../agents/index.ts';
import type { AuditInput, AuditTrail } from '../../audit/index.ts';
import { hashSecret } from '../../identity/index.ts';
import type { Logger } from '../../log/index.ts';
import type { Store } from '../../store/index.ts';
import type { AgentDelivery, DeliveryTarget } from '../agent-channel.ts';
import type { BusSeal } from '../bus-seal.ts';
import { covers, type StopTarget } from '../kill-registry.ts';
import type { StopPart } from '../kill-switch.ts';
import {
  type AgentConnection,
  type AgentServerDeps,
  buildServer,
  hears,
  type LogLevelChoice,
} from '../mcp-server.ts';
import type { GateCaller } from '../request.ts';
import { type SessionEvent, type StopBus, stopBus } from '../stop-bus.ts';
import { plainWhenAlone } from './answers.ts';
import { EVENT_ID, SessionEvents } from './events.ts';
import { expireHeldNotifications, heldNotification, holdNotification } from './held-notifications.ts';
import { expireHeldAnswers, holdAnswer, sessionKey, takeHeldAnswer } from './passed-answers.ts';
import {
  deleteIdleSessions,
  deleteSession,
  deleteSessionsOf,
  findSession,
  insertSession,
  type SessionRow,
  setSessionLogLevel,
  storedSessions,
  touchSessions,
  trimSessions,
} from './rows.ts';
import {
  awaitsAnswer,
  checkSdkShape,
  numberRequestsFrom,
  restoreInitialized,
  takeAnswer,
} from './sdk-internals.ts';
import { type Foreign, GET_STREAM, SharedEvents } from './shared-events.ts';

/** How long a session may go unused before it ends (30 minutes by default). */
export const IDLE_MS = 30 * 60_000;

/** What an id this endpoint gave looks like (32 random bytes, base64url): anything else is unknown. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/** Open sessions an agent keeps for each person, at most (each holds a server on the replicas that serve it). */
export const MAX_PER_AGENT = 100;

/** What a session keeps of what the client declared, at most (it is stored with the session). */
const MAX_DECLARED_BYTES = 16 * 1024;

/** How long the answers of calls a stop ended have to go out before their session closes. */
const ENDING_MS = 2_000;

/** The bus's own channel: notifications for agents' sessions, and sessions ended elsewhere. */
const CHANNEL = 'paddock_mcp';

/** NOTIFY payloads stay under PostgreSQL's 8,000 bytes; a larger notification reaches this replica's sessions only. */
const MAX_BUS_BYTES = 7_500;

const encoder = new TextEncoder();

/** The headers of an SSE answer, as the SDK's transport sends them. */
const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

/** `from` names the replica that sent it: it acted already, and hears its own NOTIFY back. */
type BusEvent = { from: string } & (
  | {
      kind: 'notify';
      orgId: string;
      agentId: string;
      idHash?: string;
      personId?: string;
      notification: ServerNotification;
    }
  | { kind: 'ended'; idHash: string }
  /** A session's client chose a log level: its row says which (the event only names it, so a forged one changes nothing). */
  | { kind: 'level'; orgId: string; agentId: string; idHash: string }
  | { kind: 'answer'; orgId: string; idHash: string; message: JSONRPCMessage }
  /** An answer too large for NOTIFY, held in the database for the replica whose request has this id. */
  | { kind: 'answer-held'; idHash: string; id: number; ref: string }
);

/** A notification's route on the bus: whom it is for, not what it says. */
type NotifyRoute = Omit<Extract<BusEvent, { kind: 'notify' }>, 'notification' | 'kind'>;

/**
 * A bus event as it crosses between replicas: a notification's or an answer's content sealed
 * (`BusSeal`); a notification too large for NOTIFY is held in the database (`notify-held`).
 */
type WireEvent =
  | Exclude<BusEvent, { kind: 'notify' | 'answer' }>
  | (NotifyRoute & { kind: 'notify'; sealed: string })
  | (NotifyRoute & { kind: 'notify-held'; sealedRef: string })
  | (Omit<Extract<BusEvent, { kind: 'answer' }>, 'message'> & { sealed: string });

/** What a sealed notification is bound to: where it may be delivered. */
const notifyRoute = (e: { agentId: string; idHash?: string; personId?: string }) =>
  `notify|${e.agentId}|${e.idHash ?? ''}|${e.personId ?? ''}`;

/** What the reference to a held notification is bound to: its notification's route, marked as a reference. */
const heldRoute = (e: { agentId: string; idHash?: string; personId?: string }) => `held|${notifyRoute(e)}`;

/** A client's answer to a server → client request (a sampling or elicitation result, or its error). */
const isAnswer = (m: unknown): m is JSONRPCMessage & { id: number | string } =>
  isJSONRPCResultResponse(m) || isJSONRPCErrorResponse(m);

export interface McpSessionsOptions {
  /** What each session's MCP server is built with. */
  server: AgentServerDeps;
  store: Store;
  databaseUrl?: string | undefined;
  audit: AuditTrail;
  log: Logger;
  /** Seals what crosses to other replicas (an org's vault data key derives its key). */
  busSeal: BusSeal;
  idleMs?: number | undefined;
}

interface Live {
  idHash: string;
  row: SessionRow;
  transport: WebStandardStreamableHTTPServerTransport;
  server: Server;
  events: SessionEvents;
  /** The key its id gives (what this replica holds for it in the database is sealed with it). */
  key: Buffer;
  /** Whose requests the server serves outside any request (none should reach it). */
  fallback: AgentConnection;
  /** When it was opened (its row's time), in ms. */
  openedAt: number;
  usedAt: number;
  touchedAt: number;
  /** GET streams open on this replica. */
  streams: number;
  /** The token the open GET stream was asked with (any of the person's tokens may ask): it ends with that token. */
  streamToken?: { id: string; issuedBy: string } | undefined;
  /** The log level its client chose: kept in its row (`row.logLevel`), on every replica. */
  logLevel: LogLevelChoice;
}

/** The connection of the request being handled: each request brings its caller's fresh standing. */
const requestConn = new AsyncLocalStorage<AgentConnection>();

const json = (status: number, code: number, message: string, data?: Record<string, unknown>) =>
  new Response(
    JSON.stringify({ jsonrpc: '2.0', error: { code, message, ...(data ? { data } : {}) }, id: null }),
    {
      status,
      headers: { 'content-type': 'application/json' },
    },
  );

/** The answer to an unknown, ended or someone else's session: all alike, as the transport says (404). */
export const sessionNotFound = () =>
  json(
    404,
    -32001,
    'Session not found: it ended (closed, expired or stopped) or is not this agent’s. Start a new one with initialize.',
    { code: 'session_not_found' },
  );

/** A request that needs a session and named none (400, as the transport says). */
export const sessionRequired = (what: string) =>
  json(
    400,
    -32000,
    `Bad Request: Mcp-Session-Id header is required: ${what}. Send initialize first and give its Mcp-Session-Id.`,
    { code: 'session_required' },
  );

/** The person answerable for a caller's token, the session's binding. */
const tokenOf = (caller: GateCaller) =>
  caller.token ?? { id: caller.requestId, issuedBy: caller.onBehalfOf ?? '' };

export class McpSessions implements StopPart, AgentDelivery {
  readonly #o: McpSessionsOptions;
  readonly #idleMs: number;
  readonly #live = new Map<string, Live>();
  readonly #byAgent = new Map<string, Set<Live>>();
  readonly #restoring = new Map<string, Promise<Live | undefined>>();
  readonly #bus: StopBus<WireEvent>;
  readonly #sweeper: NodeJS.Timeout;
  readonly #self = randomBytes(8).toString('hex');
  /** Stops begun here whose end has not run yet; then, those ended here, until their echo (by time). */
  readonly #braked = new Set<string>();
  readonly #echoes = new Map<string, number>();
  /** Other replicas may exist: the store is PostgreSQL, reached by URL (one process otherwise). */
  get #replicated(): boolean {
    return this.#o.store.dialect === 'postgres' && this.#o.databaseUrl !== undefined;
  }
  /** The sessions' stream events where every replica reads them (PostgreSQL only: one process otherwise). */
  readonly #shared: SharedEvents | undefined;

  constructor(o: McpSessionsOptions) {
    this.#o = o;
    this.#idleMs = o.idleMs ?? IDLE_MS;
    this.#shared =
      o.store.dialect === 'postgres' && o.databaseUrl
        ? new SharedEvents(o.store.db, o.log, this.#self)
        : undefined;
    this.#bus = stopBus<WireEvent>(
      o.store,
      o.databaseUrl,
      async (e) => {
        if (e.from === this.#self || !this.#holds(e)) return;
        if (e.kind === 'ended' && !(await this.#gone(e.idHash)))
          return this.#o.log.warn({}, 'an MCP bus `ended` for a session still stored was ignored');
        const event = await this.#unseal(e);
        if (event) await this.#onBus(event);
        else
          this.#o.log.warn(
            { kind: e.kind },
            'an MCP bus event not sealed for its org (or naming nothing held) was ignored',
          );
      },
      o.log,
      { channel: CHANNEL },
    );
    this.#sweeper = setInterval(
      () => void this.sweep().catch((err: unknown) => o.log.warn({ err }, 'MCP session sweep failed')),
      Math.min(60_000, this.#idleMs / 4),
    );
    this.#sweeper.unref();
  }

  /** Opens a session for `initialize` (a single message) and answers it. */
  async open(conn: AgentConnection, request: Request, body: InitializeRequest): Promise<Response> {
    const declared = JSON.stringify([body.params.capabilities, body.params.clientInfo]);
    if (Buffer.byteLength(declared) > MAX_DECLARED_BYTES)
      return json(
        400,
        -32602,
        `Invalid initialize: the client's capabilities and clientInfo exceed ${MAX_DECLARED_BYTES / 1024} kB.`,
        { code: 'initialize_too_large' },
      );
    const id = randomBytes(32).toString('base64url');
    const { caller } = conn;
    const token = tokenOf(caller);
    const asked = body.params.protocolVersion;
    const row: SessionRow = {
      idHash: hashSecret(id),
      orgId: caller.orgId,
      agentId: caller.agentId,
      tokenId: token.id,
      issuedBy: token.issuedBy,
      protocolVersion: SUPPORTED_PROTOCOL_VERSIONS.includes(asked) ? asked : LATEST_PROTOCOL_VERSION,
      clientCapabilities: body.params.capabilities as Record<string, unknown>,
      clientInfo: body.params.clientInfo,
    };
    const live = await this.#build(id, row, async () => {
      // An agent keeps each person's most recently used sessions: a flood of initializes pushes out that person's oldest.
      for (const idHash of await trimSessions(
        this.#o.store.db,
        row.orgId,
        row.agentId,
        row.issuedBy,
        MAX_PER_AGENT - 1,
      )) {
        const old = this.#live.get(idHash);
        if (old) this.#drop(old);
        await this.#bus.publish({ from: this.#self, kind: 'ended', idHash });
      }
      const at = new Date();
      row.createdAt = at.toISOString();
      live.openedAt = at.getTime();
      await insertSession(this.#o.store.db, row, at);
      this.#add(live);
      // On the request log, not the audit trail: a session is a connection, its calls are what is audited.
      this.#o.log.info(
        {
          requestId: caller.requestId,
          orgId: row.orgId,
          agentId: row.agentId,
          session: row.idHash.slice(0, 16),
          protocolVersion: row.protocolVersion,
          client: `${String(row.clientInfo.name).slice(0, 100)} ${String(row.clientInfo.version).slice(0, 40)}`,
        },
        'MCP session opened',
      );
    });
    const res = await this.#handle(live, conn, request, body);
    // Refused before it began (a bad Accept header): nothing was stored, nothing stays open.
    if (!this.#live.has(live.idHash)) await live.server.close();
    return res;
  }

  /** Serves a request naming a session: its own, or a clear 404 that changes nothing. */
  async serve(sessionId: string, conn: AgentConnection, request: Request, body: unknown): Promise<Response> {
    const live = await this.#find(sessionId, conn.caller);
    if (live instanceof Response) return live;
    const last = request.headers.get('last-event-id');
    if (last !== null) {
      if (!EVENT_ID.test(last))
        return json(
          400,
          -32000,
          'Bad Request: Last-Event-ID is not an event id of this endpoint (a sequence number it sent on a stream).',
          { code: 'bad_last_event_id' },
        );
      if (!live.events.knows(last)) {
        // Sent by another replica: replayed from what it keeps for the others. Too long ago: the stream starts afresh.
        const foreign =
          request.method === 'GET' ? await this.#shared?.after(this.#answerSession(live), last) : undefined;
        const headers = new Headers(request.headers);
        headers.delete('last-event-id');
        request = new Request(request, { headers });
        if (foreign) return this.#resumeForeign(live, conn, request, foreign);
      }
    }
    return this.#handle(live, conn, request, body);
  }

  /**
   * Resumes a stream another replica sent: its events after the client's last one, then — for the
   * session's GET stream — this replica's own GET stream carries on in the same response; a
   * request's stream (its request ran there) ends after the replay.
   */
  async #resumeForeign(
    live: Live,
    conn: AgentConnection,
    request: Request,
    foreign: Foreign,
  ): Promise<Response> {
    const replayed = foreign.events.map((e) =>
      encoder.encode(`event: message\nid: ${e.id}\ndata: ${JSON.stringify(e.message)}\n\n`),
    );
    if (foreign.streamId !== GET_STREAM) {
      this.#used(live, conn);
      return new Response(
        new ReadableStream<Uint8Array>({
          start(c) {
            for (const chunk of replayed) c.enqueue(chunk);
            c.close();
          },
        }),
        {
          status: 200,
          headers: { ...SSE_HEADERS, 'mcp-session-id': request.headers.get('mcp-session-id')! },
        },
      );
    }
    const here = await this.#handle(live, conn, request, undefined);
    if (here.status !== 200 || !here.body) return here;
    const reader = here.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (const chunk of replayed) c.enqueue(chunk);
      },
      async pull(c) {
        const r = await reader.read();
        if (r.done) c.close();
        else c.enqueue(r.value);
      },
      cancel: (reason) => reader.cancel(reason),
    });
    return new Response(body, here);
  }

  /**
   * A session's POST the endpoint answers itself (a plain `tools/call` or `tools/list`): checked as `serve`
   * checks it (the same 404s and refusal records) and marked used. Gives what the answer needs
   * — the headers its stream would have had, and what the client declared — or the refusal.
   */
  async forPlainAnswer(
    sessionId: string,
    conn: AgentConnection,
  ): Promise<
    Response | { headers: Record<string, string>; capabilities: Record<string, unknown>; idHash: string }
  > {
    const live = await this.#find(sessionId, conn.caller);
    if (live instanceof Response) return live;
    this.#used(live, conn);
    return {
      headers: {
        'content-type': 'application/json',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'mcp-session-id': sessionId,
      },
      capabilities: live.row.clientCapabilities,
      idHash: live.idHash,
    };
  }

  /** The live session an id names for this caller, or the answer refusing it. */
  async #find(sessionId: string, caller: GateCaller): Promise<Live | Response> {
    if (!SESSION_ID.test(sessionId)) return sessionNotFound();
    const idHash = hashSecret(sessionId);
    let live = this.#live.get(idHash);
    // Idle here may be busy on another replica: the stored row says.
    if (live && Date.now() - live.usedAt > this.#idleMs && live.streams === 0) {
      this.#drop(live);
      live = undefined;
    }
    if (live) return this.#bound(live.row, caller) ? live : this.#refuse(live.row, caller);
    const row = await findSession(this.#o.store.db, idHash, new Date(Date.now() - this.#idleMs));
    if (!row) return sessionNotFound();
    if (!this.#bound(row, caller)) return this.#refuse(row, caller);
    return (await this.#restore(sessionId, row)) ?? sessionNotFound();
  }

  /**
   * Sends `notification` to the open sessions of an agent (or to one of them, by the id a
   * request's `extra.sessionId` gives), on every replica. Clients read it on their GET stream.
   */
  async notifyAgent(
    to: { orgId: string; agentId: string; sessionId?: string | undefined },
    notification: ServerNotification,
  ): Promise<void> {
    const event: BusEvent = {
      from: this.#self,
      kind: 'notify',
      orgId: to.orgId,
      agentId: to.agentId,
      ...(to.sessionId === undefined ? {} : { idHash: hashSecret(to.sessionId) }),
      notification,
    };
    await this.#sendEverywhere(event);
  }

  async #sendEverywhere(event: Extract<BusEvent, { kind: 'notify' }>): Promise<void> {
    await this.#onBus(event);
    // One process alone (SQLite): no other replica to seal it for.
    if (!this.#replicated) return;
    const { notification, kind, ...route } = event;
    const sealed = await this.#o.busSeal.seal(event.orgId, notifyRoute(event), notification);
    const wire: WireEvent = { ...route, kind, sealed };
    if (Buffer.byteLength(JSON.stringify(wire)) <= MAX_BUS_BYTES) return this.#bus.publish(wire);
    // Too large for NOTIFY (a long log line): held in the database, the NOTIFY naming it.
    const ref = await holdNotification(this.#o.store.db, event.orgId, event.agentId, sealed);
    if (ref !== undefined)
      return this.#bus.publish({
        ...route,
        kind: 'notify-held',
        sealedRef: await this.#o.busSeal.seal(event.orgId, heldRoute(event), ref),
      });
    this.#o.log.warn(
      { method: event.notification.method },
      'MCP notification not held for other replicas (too large, or too many held for the org); sent here only',
    );
  }

  /**
   * The relays' delivery: `to.sessionId`, when given, is the session's digest (what its requests
   * carry as their connection's `sessionId`). On every replica; never throws.
   */
  deliver(to: DeliveryTarget, notification: ServerNotification): void {
    const event: BusEvent = {
      from: this.#self,
      kind: 'notify',
      orgId: to.orgId,
      agentId: to.agentId,
      ...(to.sessionId === undefined ? {} : { idHash: to.sessionId }),
      ...(to.personId === undefined ? {} : { personId: to.personId }),
      notification,
    };
    void this.#sendEverywhere(event).catch((err: unknown) =>
      this.#o.log.warn({ err, method: notification.method }, 'MCP notification not delivered'),
    );
  }

  /** A session's MCP server on this replica, by the id a request's `extra.sessionId` gives. */
  serverOf(sessionId: string): Server | undefined {
    return this.#live.get(hashSecret(sessionId))?.server;
  }

  /** The protocol version a session negotiated, if it is open on this replica. */
  protocolVersionOf(sessionId: string): string | undefined {
    return this.#live.get(hashSecret(sessionId))?.row.protocolVersion;
  }

  /** How many GET streams a session has open on this replica (tests). */
  streamsOf(sessionId: string): number {
    return this.#live.get(hashSecret(sessionId))?.streams ?? 0;
  }

  /** Sessions open on this replica: all, or an agent's (metrics and tests). */
  count(agentId?: string): number {
    return agentId === undefined ? this.#live.size : (this.#byAgent.get(agentId)?.size ?? 0);
  }

  /**
   * Sessions end once the stop is committed (`end`): a stop that fails ends none. A stop begun
   * here is noted, so that its own NOTIFY, heard back later, ends only what it ended then.
   */
  brake(target: StopTarget): undefined {
    this.#braked.add(JSON.stringify(target));
    return undefined;
  }

  /**
   * A stop (or a token's end) on any replica: the sessions it covers, opened before it, end
   * here, and their rows go. (A session opened after it — a stopped agent initializing again,
   * or after a resume — is not ended by the stop's echo.)
   */
  async end(event: SessionEvent): Promise<void> {
    if (event.kind !== 'agent' && event.kind !== 'org' && event.kind !== 'agent-tokens') return;
    const key = JSON.stringify(event);
    const now = Date.now();
    for (const [k, at] of this.#echoes) if (now - at > 60_000) this.#echoes.delete(k);
    let before = now;
    if (this.#braked.delete(key)) this.#echoes.set(key, now);
    else if (this.#echoes.has(key)) {
      before = this.#echoes.get(key)!;
      this.#echoes.delete(key);
    }
    this.#endCovered(event, before);
    await deleteSessionsOf(
      this.#o.store.db,
      new Date(before),
      event.kind === 'agent'
        ? { orgId: event.orgId, agentId: event.agentId }
        : event.kind === 'org'
          ? { orgId: event.orgId }
          : 'issuedBy' in event
            ? { orgId: event.orgId, issuedBy: event.issuedBy }
            : { orgId: event.orgId, tokenIds: event.tokenIds },
    );
    // One its client came back to while the row was still there (taken up again from it) ends too.
    this.#endCovered(event, before);
  }

  /** Keeps sessions with an open stream alive, lets go of idle ones here, forgets idle rows. */
  async sweep(now = Date.now()): Promise<void> {
    const streaming: string[] = [];
    for (const live of this.#live.values()) {
      if (live.streams > 0) {
        live.usedAt = now;
        live.touchedAt = now;
        streaming.push(live.idHash);
      } else if (now - live.usedAt > this.#idleMs) this.#drop(live);
    }
    await touchSessions(this.#o.store.db, streaming, new Date(now));
    await this.#closeUnliveStreams();
    await deleteIdleSessions(this.#o.store.db, new Date(now - this.#idleMs));
    // The levels idle sessions chose no longer count (whichever replica's sweep deleted their rows).
    await this.#o.server.gate.relays.recheckLevels();
    await expireHeldAnswers(this.#o.store.db, now);
    await expireHeldNotifications(this.#o.store.db, now);
    await this.#shared?.expire(now);
    // Ended elsewhere while this replica did not hear it (a lost listener): its row is gone.
    const here = [...this.#live.keys()];
    const stored = new Set(await storedSessions(this.#o.store.db, here));
    for (const idHash of here) {
      const live = this.#live.get(idHash);
      if (live && !stored.has(idHash)) this.#drop(live);
    }
  }

  /** GET streams whose token expired (no event says so) or was revoked unheard close: a stream is no credential. */
  async #closeUnliveStreams(): Promise<void> {
    const asked = [...this.#live.values()].filter((l) => l.streamToken !== undefined);
    if (asked.length === 0) return;
    const live = await liveAgentTokenIds(this.#o.store.db, [...new Set(asked.map((l) => l.streamToken!.id))]);
    for (const l of asked)
      if (l.streamToken && !live.has(l.streamToken.id)) l.transport.closeStandaloneSSEStream();
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    await this.#shared?.flush();
    for (const live of [...this.#live.values()]) this.#drop(live);
    await this.#bus.close();
  }

  /** Resolves once other replicas' notifications reach this one. */
  listening(): Promise<void> {
    return this.#bus.listening();
  }

  async #build(id: string, row: SessionRow, opened?: () => Promise<void>): Promise<Live> {
    const session = { orgId: row.orgId, idHash: row.idHash, key: sessionKey(id) };
    const shared = this.#shared;
    // Each replica's copy numbers its events from its own random start: an id names the replica that sent it.
    const events = new SessionEvents(randomInt(2 ** 40), shared && ((e) => shared.keep(session, e)));
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      eventStore: events,
      ...(opened ? { onsessioninitialized: opened } : {}),
      onsessionclosed: async () => this.#closedByClient(live),
    });
    const caller: GateCaller = {
      orgId: row.orgId,
      agentId: row.agentId,
      onBehalfOf: row.issuedBy,
      requestId: 'session',
      token: { id: row.tokenId, issuedBy: row.issuedBy },
    };
    const now = Date.now();
    const live: Live = {
      idHash: row.idHash,
      row,
      transport,
      server: undefined as unknown as Server,
      events,
      key: session.key,
      openedAt: row.createdAt === undefined ? now : Date.parse(row.createdAt),
      fallback: { caller, approval: 'pause', sessionId: row.idHash },
      usedAt: now,
      touchedAt: now,
      streams: 0,
      logLevel: {
        current: () => live.row.logLevel,
        choose: (level) => this.#chooseLevel(live, level),
      },
    };
    live.fallback.logLevel = live.logLevel;
    live.server = buildServer(this.#o.server, () => requestConn.getStore() ?? live.fallback);
    // Each replica's copy numbers its requests to the client from its own random start, so an
    // answer names the one replica that asked (and is passed on to it, below).
    checkSdkShape(live.server, transport);
    numberRequestsFrom(live.server, randomInt(2 ** 40));
    await live.server.connect(transport);
    return live;
  }

  /**
   * The session's client chose a log level: kept in its row, every replica told (the one holding
   * its stream filters by it), and the agent's servers told the most verbose its clients chose.
   */
  async #chooseLevel(live: Live, level: LoggingLevel): Promise<void> {
    const { orgId, agentId } = live.row;
    await setSessionLogLevel(this.#o.store.db, live.row, level);
    live.row.logLevel = level;
    if (this.#replicated)
      await this.#bus.publish({ from: this.#self, kind: 'level', orgId, agentId, idHash: live.idHash });
    await this.#o.server.gate.relays.levelsChanged(orgId, agentId);
  }

  /** The session as this replica had not seen it: built from its row, as `initialize` left it. */
  #restore(id: string, row: SessionRow): Promise<Live | undefined> {
    const pending = this.#restoring.get(row.idHash);
    if (pending) return pending;
    const p = (async () => {
      const live = await this.#build(id, row);
      await restoreInitialized(live.server, live.transport, id, {
        protocolVersion: row.protocolVersion,
        capabilities: row.clientCapabilities,
        clientInfo: row.clientInfo,
      });
      this.#add(live);
      return live;
    })().finally(() => this.#restoring.delete(row.idHash));
    this.#restoring.set(row.idHash, p);
    return p;
  }

  async #handle(live: Live, conn: AgentConnection, request: Request, body: unknown): Promise<Response> {
    this.#used(live, conn);
    // A client's answer to a request another replica sent (a sampling result): passed on to it.
    if (
      request.method === 'POST' &&
      isAnswer(body) &&
      typeof body.id === 'number' &&
      !this.#asked(live, body.id)
    ) {
      await this.#passOn(live, body as JSONRPCMessage & { id: number });
      return new Response(null, { status: 202 });
    }
    // Its requests name the session by its digest (subscriptions, deliveries): never the secret id.
    const res = await requestConn.run({ ...conn, sessionId: live.idHash, logLevel: live.logLevel }, () =>
      live.transport.handleRequest(request, body === undefined ? undefined : { parsedBody: body }),
    );
    if (res.status !== 200 || !res.body) return res;
    if (request.method === 'GET') return this.#counted(live, res, conn.caller.token);
    return request.method === 'POST' ? plainWhenAlone(res) : res;
  }

  /** A request came on the session: it stays alive (its row learns of it now and then). */
  #used(live: Live, conn: AgentConnection): void {
    const now = Date.now();
    live.usedAt = now;
    live.fallback = {
      caller: conn.caller,
      approval: conn.approval,
      sessionId: live.idHash,
      logLevel: live.logLevel,
    };
    // The stored row learns of use at most every minute (or quarter of the idle time).
    if (now - live.touchedAt > Math.min(60_000, this.#idleMs / 4)) {
      live.touchedAt = now;
      void touchSessions(this.#o.store.db, [live.idHash], new Date(now)).catch((err: unknown) =>
        this.#o.log.warn({ err }, 'could not mark an MCP session used'),
      );
    }
  }

  /** A GET stream, counted while open (an open stream keeps its session alive). */
  #counted(live: Live, res: Response, token: Live['streamToken']): Response {
    live.streams += 1;
    live.streamToken = token;
    let open = true;
    const closed = () => {
      if (!open) return;
      open = false;
      live.streams -= 1;
      if (live.streamToken === token) live.streamToken = undefined;
      live.usedAt = Date.now();
    };
    const reader = res.body!.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        const r = await reader.read();
        if (!r.done) return c.enqueue(r.value);
        closed();
        c.close();
      },
      cancel(reason) {
        closed();
        return reader.cancel(reason);
      },
    });
    return new Response(body, res);
  }

  #bound(row: SessionRow, caller: GateCaller): boolean {
    return (
      row.orgId === caller.orgId &&
      row.agentId === caller.agentId &&
      row.issuedBy === tokenOf(caller).issuedBy
    );
  }

  /** Someone else's session presented: refused as unknown, and on record in the presenter's org. */
  #refuse(row: SessionRow, caller: GateCaller): Response {
    this.#record(
      { ...row, orgId: caller.orgId, agentId: caller.agentId },
      caller,
      'mcp.session.refused',
      'denied',
      {
        reason: 'the session was opened by another agent or person',
        tokenId: tokenOf(caller).id,
      },
    );
    return sessionNotFound();
  }

  async #closedByClient(live: Live): Promise<void> {
    this.#forget(live);
    await deleteSession(this.#o.store.db, live.idHash);
    await this.#shared?.forget(live.idHash);
    // The level it chose no longer counts: the agent's servers hear what its other clients want.
    if (live.row.logLevel) await this.#o.server.gate.relays.recheckLevels();
    this.#o.log.info(
      { session: live.idHash.slice(0, 16), agentId: live.row.agentId },
      'MCP session closed by the client',
    );
    await this.#bus.publish({ from: this.#self, kind: 'ended', idHash: live.idHash });
  }

  /** An answer for the replica that asked: on the bus, or held in the database when NOTIFY cannot carry it. */
  async #passOn(live: Live, message: JSONRPCMessage & { id: number }): Promise<void> {
    // One process alone (SQLite): no other replica asked.
    if (!this.#replicated) return;
    const orgId = live.row.orgId;
    const sealed = await this.#o.busSeal.seal(orgId, `answer|${live.idHash}`, message);
    const event: WireEvent = { from: this.#self, kind: 'answer', orgId, idHash: live.idHash, sealed };
    if (Buffer.byteLength(JSON.stringify(event)) <= MAX_BUS_BYTES) return this.#bus.publish(event);
    const ref = await holdAnswer(this.#o.store.db, this.#answerSession(live), message);
    if (ref === undefined)
      return this.#o.log.warn(
        { session: live.idHash.slice(0, 16) },
        'an answer for another replica was dropped: the session has too many held already',
      );
    await this.#bus.publish({
      from: this.#self,
      kind: 'answer-held',
      idHash: live.idHash,
      id: message.id,
      ref,
    });
  }

  #answerSession(live: Live) {
    return { orgId: live.row.orgId, idHash: live.idHash, key: live.key };
  }

  /** Whether this replica's copy of the session waits for an answer with this id. */
  #asked(live: Live, id: number | string): boolean {
    return awaitsAnswer(live.server, id);
  }

  /**
   * Whether a session this replica holds waits on the event (as `#onBus` decides): only then is
   * it opened. Anyone who can NOTIFY can put an event on the bus naming any org, and the vault
   * makes a data key for an org it has none for — a key row and a key held here per forged org.
   */
  #holds(e: WireEvent): boolean {
    if (e.kind === 'answer') return this.#live.get(e.idHash)?.row.orgId === e.orgId;
    // Anyone may NOTIFY: a level event's names are strings, or it is nothing held.
    if (e.kind === 'level' && ![e.orgId, e.agentId, e.idHash].every((v) => typeof v === 'string'))
      return false;
    if (e.kind === 'notify' || e.kind === 'notify-held' || e.kind === 'level')
      for (const live of this.#byAgent.get(e.agentId) ?? []) if (live.row.orgId === e.orgId) return true;
    // A level is also the business of a replica running the agent's servers (told the most verbose).
    if (e.kind === 'level') return this.#o.server.gate.relays.servesAgent(e.orgId, e.agentId);
    return e.kind !== 'notify' && e.kind !== 'notify-held';
  }

  /**
   * Whether the session is gone from the database, as its replica deletes it before it sends
   * `ended`: that event carries no secret, and anyone who can NOTIFY could send it.
   */
  async #gone(idHash: unknown): Promise<boolean> {
    return typeof idHash === 'string' && !(await findSession(this.#o.store.db, idHash, new Date(0)));
  }

  /** A bus event from another replica, its content opened; undefined when it does not open. */
  async #unseal(e: WireEvent): Promise<BusEvent | undefined> {
    if (e.kind === 'notify-held') {
      // The reference opens first: a forged one reads nothing from the database.
      const { sealedRef, ...route } = e;
      const ref = await this.#o.busSeal.open<string>(e.orgId, heldRoute(e), sealedRef);
      if (ref === undefined) return undefined;
      const sealed = await heldNotification(this.#o.store.db, e.orgId, e.agentId, ref);
      return sealed === undefined ? undefined : this.#unseal({ ...route, kind: 'notify', sealed });
    }
    if (e.kind === 'notify') {
      const { sealed, ...route } = e;
      const notification = await this.#o.busSeal.open<ServerNotification>(e.orgId, notifyRoute(e), sealed);
      return notification && { ...route, notification };
    }
    if (e.kind === 'answer') {
      const { sealed, ...route } = e;
      const message = await this.#o.busSeal.open<JSONRPCMessage>(e.orgId, `answer|${e.idHash}`, sealed);
      return message && { ...route, message };
    }
    return e;
  }

  async #onBus(e: BusEvent): Promise<void> {
    if (e.kind === 'answer') {
      const live = this.#live.get(e.idHash);
      if (live && live.row.orgId !== e.orgId) return;
      const id = (e.message as { id?: unknown }).id;
      if (live && isAnswer(e.message) && typeof id === 'number' && this.#asked(live, id))
        takeAnswer(live.server, e.message);
      return;
    }
    if (e.kind === 'answer-held') {
      // Only the replica that asked takes it (the id names one replica's range).
      const live = this.#live.get(e.idHash);
      if (!live || !this.#asked(live, e.id)) return;
      const message = await takeHeldAnswer(this.#o.store.db, this.#answerSession(live), e.ref);
      if (message && isAnswer(message) && message.id === e.id && this.#asked(live, e.id))
        takeAnswer(live.server, message);
      else
        this.#o.log.warn({ session: e.idHash.slice(0, 16) }, 'an answer held for this replica was not found');
      return;
    }
    if (e.kind === 'level') {
      // Its row says the level: read again by the replicas holding the session or the agent's servers.
      const live = this.#live.get(e.idHash);
      if (live && live.row.orgId === e.orgId && live.row.agentId === e.agentId) {
        const row = await findSession(this.#o.store.db, e.idHash, new Date(0));
        if (row) live.row.logLevel = row.logLevel;
      }
      await this.#o.server.gate.relays.levelsChanged(e.orgId, e.agentId);
      return;
    }
    if (e.kind === 'ended') {
      const live = this.#live.get(e.idHash);
      if (live) this.#drop(live);
      // Its subscriptions may live on this replica without the session (it moved on).
      else this.#o.server.gate.relays.end({ sessionId: e.idHash });
      // The level it chose no longer counts: the agent's servers here hear what is left.
      await this.#o.server.gate.relays.recheckLevels();
      return;
    }
    for (const live of this.#byAgent.get(e.agentId) ?? []) {
      if (live.row.orgId !== e.orgId || (e.idHash !== undefined && e.idHash !== live.idHash)) continue;
      // A per-person connection's traffic reaches the sessions its person's tokens opened only.
      if (e.personId !== undefined && e.personId !== live.row.issuedBy) continue;
      // A log line below the level the session's client chose.
      if (!hears(live.logLevel, e.notification)) continue;
      void live.server
        .notification(e.notification)
        .catch((err: unknown) => this.#o.log.debug({ err }, 'MCP notification not sent'));
    }
  }

  /**
   * Ends the sessions `target` covers here: no request reaches them from now on and their GET
   * streams close at once; the answers of calls the stop just ended (`agent_stopped`) still go
   * out on their own streams before the rest closes.
   */
  #endCovered(target: StopTarget, openedBy: number): void {
    const lives = 'agentId' in target ? (this.#byAgent.get(target.agentId) ?? []) : this.#live.values();
    for (const live of [...lives]) {
      const { orgId, agentId, tokenId, issuedBy } = live.row;
      // A stream asked with an ended token closes, though the session another of its person's tokens opened lives on.
      if (live.streamToken && covers(target, { orgId, agentId, token: live.streamToken }))
        live.transport.closeStandaloneSSEStream();
      if (live.openedAt > openedBy) continue;
      if (!covers(target, { orgId, agentId, token: { id: tokenId, issuedBy } })) continue;
      this.#forget(live);
      live.transport.closeStandaloneSSEStream();
      setTimeout(() => this.#drop(live), ENDING_MS).unref();
    }
  }

  #add(live: Live): void {
    this.#live.set(live.idHash, live);
    const set = this.#byAgent.get(live.row.agentId) ?? new Set();
    set.add(live);
    this.#byAgent.set(live.row.agentId, set);
  }

  /** No longer served here: its subscriptions on this replica end with it. */
  #forget(live: Live): void {
    this.#o.server.gate.relays.end({ sessionId: live.idHash });
    if (this.#live.get(live.idHash) === live) this.#live.delete(live.idHash);
    const set = this.#byAgent.get(live.row.agentId);
    set?.delete(live);
    if (set?.size === 0) this.#byAgent.delete(live.row.agentId);
  }

  /** Lets go of a session on this replica: its streams close (the row is the caller's business). */
  #drop(live: Live): void {
    this.#forget(live);
    void live.server.close().catch((err: unknown) => this.#o.log.debug({ err }, 'MCP session close failed'));
  }

  #record(
    row: Pick<SessionRow, 'orgId' | 'agentId' | 'idHash'>,
    caller: GateCaller,
    action: string,
    outcome: NonNullable<AuditInput['outcome']>,
    details: Record<string, unknown>,
  ): void {
    void this.#o.audit
      .appendSoon({
        orgId: row.orgId,
        actor: { type: 'agent', id: row.agentId },
        action,
        target: { type: 'mcp_session', id: row.idHash.slice(0, 16) },
        outcome,
        requestId: caller.requestId,
        details: { ...details, onBehalfOf: caller.onBehalfOf },
      })
      .catch((err: unknown) => this.#o.log.error({ err, action }, 'could not record an MCP session event'));
  }
}
