/**
 * Paddock's Slack app, one Bolt `App` per installed org, fed by `POST /slack/{org}/events` (the
 * Events API and interactivity both). A request passes, in order:
 *
 *   org installed → headers → timestamp window → signature → body → team → event id unused → Bolt
 *
 * An org installed with Socket Mode gets its events the other way in: Paddock opens a WebSocket
 * to Slack (`apps.connections.open` with the app-level token) and each envelope, acknowledged
 * once Bolt has, goes the same path from the team check on — one way of handling, two ways in.
 *
 * and any refusal changes nothing: it is answered with its own code and recorded in the org's
 * trail as `slack.refused` (never with the body). Verified, Bolt routes it: a mention in a bound
 * channel, or a direct message, starts a run as the person the Slack user is (see people.ts);
 * the answer goes to the thread, and a reply in that thread continues the run's conversation as
 * whoever wrote it (threads.ts). A call the run waits for posts an approval card to the org's
 * approvals channel; a click on it is honoured only from a Slack user explicitly linked to a
 * person who may decide it, and anything else is refused on record. However the approval is
 * decided, the run's answer is owed to its thread and posted once the run ends.
 */
import type { App, Logger as BoltLogger, Receiver, webApi } from '@slack/bolt';
import type { Kysely } from 'kysely';
import { decideApproval, whyEnded } from '../approvals/approvals.ts';
import type { Actor, AuditInput, AuditTrail } from '../audit/index.ts';
import {
  BadRequestError,
  ForbiddenError,
  PaddockError,
  RateLimitedError,
  UnauthenticatedError,
} from '../errors/index.ts';
import { AttemptLimiter, can } from '../identity/index.ts';
import type { Logger } from '../log/index.ts';
import { redactString } from '../redact/index.ts';
import { type RunCoordinator, type RunListener, toRun } from '../runtime/index.ts';
import type { Database } from '../store/index.ts';
import type { SlackInstallTable } from '../store/schema.ts';
import type { Vault } from '../vault/index.ts';
import { APPROVE, answerBlocks, cardBlocks, DENY, decidedBlocks, slackText } from './blocks.ts';
import {
  boundAgent,
  CHANNEL_ID,
  installOf,
  linkedPerson,
  openInstall,
  redeemLinkCode,
  SLACK_USER,
  socketModeOrgs,
} from './install.ts';
import { personContext, personFor } from './people.ts';
import {
  answersDue,
  newWaits,
  noteWait,
  orgsOwedAnswers,
  owedAnswer,
  rememberThread,
  type SlackThread,
  THREAD_TS,
  takeAnswer,
  threadOf,
} from './threads.ts';
import {
  bolt,
  parseBody,
  readHeaders,
  signatureValid,
  socketMode,
  teamOf,
  timestampProblem,
} from './verify.ts';

export interface SlackRequest {
  slug: string;
  header: (name: string) => string | undefined;
  body: Uint8Array;
  requestId: string;
  from: string;
}

/** Hears that an org's log grew (on any replica): a decision made elsewhere updates cards. */
export interface OrgSignals {
  subscribe(orgId: string, fn: () => void): () => void;
}

export interface SlackOptions {
  db: Kysely<Database>;
  vault: Vault;
  audit: AuditTrail;
  runs: Pick<RunCoordinator, 'start' | 'resumeDecided'>;
  log: Logger;
  signals: OrgSignals;
  /** Paddock's public URL (links on cards). */
  publicUrl: () => string;
  /** Slack's Web API base (`https://slack.com/api/` when undefined; tests point it at a fake). */
  slackApiUrl?: (() => string | undefined) | undefined;
  nowSeconds?: () => number;
  /** How long a new Socket Mode connection may take to say hello (default SOCKET_OPEN_MS). */
  socketOpenMs?: number;
  /** Refused requests per org URL (default: REFUSALS_PER_WINDOW per REFUSAL_WINDOW_MS). */
  limiter?: AttemptLimiter;
}

/**
 * Debug lines that carry whole envelopes or Web API bodies (what people wrote, what agents
 * answered): left out of Paddock's logs.
 */
const QUIET = /^(?:Received a message on the WebSocket|Calling ack\(\)|http request (?:body|result))/;

/** How long before a Socket Mode connection that could not be opened is tried again. */
export const SOCKET_RETRY_MS = 60_000;
/** How long a new connection may take to say hello before it counts as failed. */
export const SOCKET_OPEN_MS = 10_000;

/** Refused requests an org's URL may get per window before they are only counted. */
export const REFUSALS_PER_WINDOW = 30;
export const REFUSAL_WINDOW_MS = 60_000;

const tooMany = () =>
  new RateLimitedError('Too many refused Slack requests for this organization. Try again in a minute.');

class Refusal extends Error {
  readonly reason: string;
  readonly answer: PaddockError;
  constructor(reason: string, answer: PaddockError) {
    super(reason);
    this.reason = reason;
    this.answer = answer;
  }
}

const unverified = () =>
  new UnauthenticatedError('slack_signature_invalid', 'No Slack app installed here accepts this signature.');
const ANSWERS: Record<string, () => PaddockError> = {
  not_installed: unverified,
  signature_invalid: unverified,
  headers_invalid: () =>
    new BadRequestError(
      'slack_headers_invalid',
      'A Slack request needs X-Slack-Request-Timestamp (Unix seconds) and X-Slack-Signature (v0=<hex>).',
    ),
  timestamp_too_old: () =>
    new UnauthenticatedError(
      'slack_timestamp_too_old',
      'X-Slack-Request-Timestamp is more than 5 minutes old.',
    ),
  timestamp_too_new: () =>
    new UnauthenticatedError(
      'slack_timestamp_too_new',
      'X-Slack-Request-Timestamp is more than 5 minutes ahead.',
    ),
  payload_invalid: () =>
    new BadRequestError(
      'slack_payload_invalid',
      'The body is neither an Events API JSON object nor an interactivity payload (payload=<JSON>).',
    ),
  team_mismatch: () =>
    new ForbiddenError(
      'slack_team_mismatch',
      'This request comes from a workspace this organization did not install.',
    ),
};
const refuse = (reason: string) => new Refusal(reason, ANSWERS[reason]!());

/** A channel message that cannot be a follow-up: outside a thread, a bot's, or an edit or other subtype. */
function notForPaddock(event: unknown): boolean {
  if (!event || typeof event !== 'object') return false;
  const e = event as Record<string, unknown>;
  return (
    e.type === 'message' &&
    e.channel_type !== 'im' &&
    (typeof e.thread_ts !== 'string' || e.subtype !== undefined || e.bot_id !== undefined)
  );
}

/** The events route's "handled" signal, as Bolt hands it to a listener in its context. */
const acceptedOf = (context: Record<string, unknown>): (() => void) =>
  typeof context.accepted === 'function' ? (context.accepted as () => void) : () => undefined;

/** Slack waits 3 seconds for an answer; past this the event is left to its retry. */
const ANSWER_WITHIN_MS = 2500;
/** A taken event id not handled after this long was left by a failed or killed handler: a retry may take it. */
const CLAIM_STALE_MS = 30_000;
/** A card claimed and not said to have ended after this long was left by a kill or a Slack outage: the sweep takes it up. */
const UNREFRESHED_CLAIM_MS = 2 * 60_000;
/** The reason a decision made by a click on a card is recorded with. */
const SLACK_REASON = 'decided in Slack';
/** Slack answered and refused (an archived channel, a deleted message): asking again changes nothing. */
const refusedBySlack = (err: unknown) => (err as { code?: unknown }).code === 'slack_webapi_platform_error';
/** Said to Slack when it should deliver the event again later (it retries a 5xx, or an unacked envelope). */
const retryLater = (code: string, message: string) => new PaddockError(503, code, message);
const inProgress = () =>
  retryLater(
    'slack_event_in_progress',
    'This event is being handled already. Slack may deliver it again later.',
  );
const notHandled = () =>
  retryLater('slack_event_failed', 'This event could not be handled now. Slack may deliver it again later.');

interface OrgApp {
  version: number;
  install: SlackInstallTable;
  app: App;
}

/** A receiver that receives nothing itself: Paddock's route verifies and hands events to `processEvent`. */
const routeReceiver: Receiver = {
  init: () => undefined,
  start: async () => undefined,
  stop: async () => undefined,
};

export class SlackService {
  readonly #o: SlackOptions;
  readonly #apps = new Map<string, OrgApp>();
  readonly #watched = new Map<string, () => void>();
  readonly #limiter: AttemptLimiter;
  /** Open Socket Mode connections, by org, with the install version they were opened for. */
  readonly #sockets = new Map<string, { version: number; client: SocketClient }>();
  /** One sync per org at a time: an install and an uninstall in quick succession end in order. */
  readonly #syncing = new Map<string, Promise<void>>();
  #closed = false;
  readonly #retries = new Set<NodeJS.Timeout>();
  /** Unsubscribers of the orgs whose install this replica follows (those it holds a connection for). */
  readonly #installWatch = new Map<string, () => void>();
  /** Orgs with a sync already queued by a signal (a burst of entries makes one). */
  readonly #stale = new Set<string>();

  constructor(opts: SlackOptions) {
    this.#o = opts;
    this.#limiter = opts.limiter ?? new AttemptLimiter(REFUSALS_PER_WINDOW, REFUSAL_WINDOW_MS);
  }

  /** Checks a request from Slack and hands it to Bolt; a refusal throws the PaddockError to answer with. */
  async receive(r: SlackRequest): Promise<Record<string, unknown>> {
    const org = await this.#o.db
      .selectFrom('orgs')
      .select('id')
      .where('slug', '=', r.slug)
      .executeTakeFirst();
    const install = org ? await installOf(this.#o.db, org.id) : undefined;
    try {
      if (!install) throw refuse('not_installed');
      const signed = readHeaders(r.header);
      if (!signed) throw refuse('headers_invalid');
      const late = timestampProblem(signed.timestamp, this.#now());
      if (late) throw refuse(late);
      const { signingSecret } = await openInstall(this.#o.db, this.#o.vault, install);
      const text = new TextDecoder('utf-8', { fatal: false }).decode(r.body);
      if (!(await signatureValid(signingSecret, signed, text, this.#now())))
        throw refuse('signature_invalid');
      const body = parseBody(r.header('content-type'), text);
      if (!body) throw refuse('payload_invalid');
      if (body.type === 'url_verification') return { challenge: String(body.challenge ?? '').slice(0, 200) };
      return await this.#handle(install, body, r.requestId);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      throw this.#refused(install, r, err);
    }
  }

  /** A verified body, however it came: its team, its event id taken (once), then Bolt. */
  async #handle(install: SlackInstallTable, body: Record<string, unknown>, requestId: string) {
    if (teamOf(body) !== install.team_id) throw refuse('team_mismatch');
    if (body.type !== 'event_callback') return await this.#dispatch(install, body, requestId);
    const eventId = body.event_id;
    if (typeof eventId !== 'string' || eventId.length === 0 || eventId.length > 100)
      throw refuse('payload_invalid');
    // Once subscribed to channel messages Slack sends every one: those that can be no follow-up
    // are answered at once, with no id taken and nothing else done.
    if (notForPaddock(body.event)) return { ok: true };
    const claim = await this.#claim(install.org_id, eventId);
    if (claim === 'handled') return { ok: true, duplicate: true };
    if (claim === 'busy') throw inProgress();
    return await this.#dispatchEvent(install, body, requestId, eventId);
  }

  /** Forgets an org's app (after an install or uninstall): the next request builds it again. */
  forget(orgId: string): void {
    this.#apps.delete(orgId);
  }

  /**
   * Brings an org's Slack in line with its install (after an install or uninstall, or on start):
   * its app rebuilt on the next event, its Socket Mode connection opened, replaced or closed.
   */
  sync(orgId: string): Promise<void> {
    const next = (this.#syncing.get(orgId) ?? Promise.resolve()).then(() => this.#sync(orgId));
    const settled = next.catch(() => undefined);
    this.#syncing.set(orgId, settled);
    void settled.then(() => {
      if (this.#syncing.get(orgId) === settled) this.#syncing.delete(orgId);
    });
    return next;
  }

  async #sync(orgId: string): Promise<void> {
    // A signal from here on queues another sync: this one may read the install before it changed.
    this.#stale.delete(orgId);
    const install = await installOf(this.#o.db, orgId);
    if (!install || this.#apps.get(orgId)?.version !== Number(install.version)) this.forget(orgId);
    const want = install && Number(install.socket_mode) === 1 && !this.#closed ? install : undefined;
    this.#watchInstall(orgId, want !== undefined);
    const have = this.#sockets.get(orgId);
    if (have && want && have.version === Number(want.version)) return;
    if (have) {
      this.#sockets.delete(orgId);
      await have.client.disconnect().catch(() => undefined);
    }
    if (!want) return;
    const { appToken } = await openInstall(this.#o.db, this.#o.vault, want);
    if (!appToken) return;
    const { SocketModeClient } = await socketMode();
    const client: SocketClient = new SocketModeClient({
      appToken,
      clientOptions: this.#socketClientOptions(),
      logger: this.#boltLogger(),
    });
    client.on('slack_event', (e: Envelope) => {
      void this.#envelope(orgId, e).catch((err: unknown) =>
        this.#o.log.warn({ err }, 'a Slack Socket Mode envelope failed'),
      );
    });
    this.#sockets.set(orgId, { version: Number(want.version), client });
    let waited: NodeJS.Timeout | undefined;
    try {
      // Bounded: an install (and the API call making it) never waits on a Slack that never says hello.
      await Promise.race([
        client.start(),
        new Promise((_, reject) => {
          waited = setTimeout(
            () => reject(new Error('Slack did not say hello in time')),
            this.#o.socketOpenMs ?? SOCKET_OPEN_MS,
          );
        }),
      ]);
    } catch (err) {
      if (this.#sockets.get(orgId)?.client === client) this.#sockets.delete(orgId);
      await client.disconnect().catch(() => undefined);
      this.#o.log.warn(
        { err, org: orgId },
        'could not open the Slack Socket Mode connection; retrying in a minute',
      );
      const timer = setTimeout(() => {
        this.#retries.delete(timer);
        void this.sync(orgId).catch(() => undefined);
      }, SOCKET_RETRY_MS);
      timer.unref();
      this.#retries.add(timer);
    } finally {
      clearTimeout(waited);
    }
    // Shut down while it opened: let it go too.
    if (this.#closed && this.#sockets.get(orgId)?.client === client) {
      this.#sockets.delete(orgId);
      await client.disconnect().catch(() => undefined);
    }
  }

  /**
   * While this replica holds an org's connection it hears the org's log grow (on any replica):
   * an uninstall or re-install made elsewhere closes or replaces its connection too.
   */
  #watchInstall(orgId: string, on: boolean) {
    const have = this.#installWatch.get(orgId);
    if (on && !have)
      this.#installWatch.set(
        orgId,
        this.#o.signals.subscribe(orgId, () => {
          if (this.#stale.has(orgId)) return;
          this.#stale.add(orgId);
          void this.sync(orgId).catch((err: unknown) =>
            this.#o.log.warn({ err }, 'could not update a Slack Socket Mode connection'),
          );
        }),
      );
    if (!on && have) {
      this.#installWatch.delete(orgId);
      have();
    }
  }

  /** Opens a Socket Mode connection for every org installed with it (on start). */
  async openSockets(): Promise<{ opened: number }> {
    const orgs = await socketModeOrgs(this.#o.db);
    for (const orgId of orgs) await this.sync(orgId).catch(() => undefined);
    return { opened: this.#sockets.size };
  }

  /** Closes every Socket Mode connection (on shutdown). */
  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#retries) clearTimeout(timer);
    this.#retries.clear();
    for (const unsubscribe of this.#installWatch.values()) unsubscribe();
    this.#installWatch.clear();
    const open = [...this.#sockets.values()];
    this.#sockets.clear();
    await Promise.all(open.map((s) => s.client.disconnect().catch(() => undefined)));
  }

  /** The orgs this replica holds a Socket Mode connection for (for status and tests). */
  socketOrgs(): string[] {
    return [...this.#sockets.keys()];
  }

  /**
   * An envelope from a Socket Mode connection: events and clicks take the HTTP route's path from
   * the team check on, and are acknowledged when Bolt acknowledges them (or refused, on record).
   */
  async #envelope(orgId: string, e: Envelope): Promise<void> {
    const requestId = `slack_${String(e.envelope_id ?? '')
      .replace(/[^A-Za-z0-9-]/g, '')
      .slice(0, 60)}`;
    const install = await installOf(this.#o.db, orgId);
    if (e.type !== 'events_api' && e.type !== 'interactive') return e.ack();
    if (!install || Number(install.socket_mode) !== 1) {
      // Uninstalled (or switched to HTTP) on another replica: this connection is stale.
      await e.ack();
      return void this.sync(orgId).catch(() => undefined);
    }
    const body = e.body && typeof e.body === 'object' && !Array.isArray(e.body) ? e.body : null;
    try {
      if (!body) throw refuse('payload_invalid');
      await this.#handle(install, body, requestId);
    } catch (err) {
      // Not handled (failed, or still going): left unacknowledged, so Slack delivers it again.
      if (!(err instanceof Refusal)) throw err;
      this.#o.log.info({ org: orgId, reason: err.reason, requestId }, 'slack envelope refused');
      this.#record(orgId, requestId, err.reason, { from: 'socket_mode' });
    }
    await e.ack().catch(() => undefined);
  }

  /** Checks an app-level token with Slack (apps.connections.open answers only a valid one). */
  async checkAppToken(appToken: string): Promise<void> {
    const { webApi: web } = await bolt();
    const client = new web.WebClient(appToken, this.#clientOptions());
    const r = await client.apps.connections.open().catch((err: unknown) => {
      throw new BadRequestError(
        'slack_app_token_rejected',
        `Slack did not accept the app-level token (${(err as { data?: { error?: string } }).data?.error ?? 'no answer'}).`,
      );
    });
    if (!r.ok)
      throw new BadRequestError('slack_app_token_rejected', 'Slack did not accept the app-level token.');
  }

  #socketClientOptions() {
    const slackApiUrl = this.#o.slackApiUrl?.();
    return { ...(slackApiUrl ? { slackApiUrl } : {}), retryConfig: { retries: 0 } };
  }

  /** Checks a bot token with Slack (auth.test): its workspace and its bot user. */
  async checkToken(botToken: string): Promise<{ teamId: string; botUserId: string }> {
    const { webApi: web } = await bolt();
    const client = new web.WebClient(botToken, this.#clientOptions());
    const r = await client.auth.test().catch((err: unknown) => {
      throw new BadRequestError(
        'slack_token_rejected',
        `Slack did not accept the bot token (${(err as { data?: { error?: string } }).data?.error ?? 'no answer'}).`,
      );
    });
    if (!r.ok || typeof r.team_id !== 'string' || typeof r.user_id !== 'string')
      throw new BadRequestError('slack_token_rejected', 'Slack did not accept the bot token.');
    return { teamId: r.team_id, botUserId: r.user_id };
  }

  #clientOptions() {
    const slackApiUrl = this.#o.slackApiUrl?.();
    return {
      ...(slackApiUrl ? { slackApiUrl } : {}),
      retryConfig: { retries: 0 },
      logger: this.#boltLogger(),
    };
  }

  #now(): number {
    return this.#o.nowSeconds?.() ?? Math.floor(Date.now() / 1000);
  }

  /**
   * Takes an event id for this handler (Slack retries a delivery it thinks was lost): `taken`,
   * `handled` already, or `busy` (taken just now elsewhere). One taken but never handled — its
   * handler failed or was killed — is taken over once it is stale, so the retry is not lost.
   */
  async #claim(orgId: string, eventId: string): Promise<'taken' | 'handled' | 'busy'> {
    const db = this.#o.db;
    const now = new Date();
    const r = await db
      .insertInto('slack_events')
      .values({ org_id: orgId, event_id: eventId, received_at: now.toISOString(), handled_at: null })
      .onConflict((oc) => oc.columns(['org_id', 'event_id']).doNothing())
      .executeTakeFirst();
    if (Number(r.numInsertedOrUpdatedRows ?? 0) === 1) return 'taken';
    const row = await db
      .selectFrom('slack_events')
      .select(['received_at', 'handled_at'])
      .where('org_id', '=', orgId)
      .where('event_id', '=', eventId)
      .executeTakeFirst();
    if (!row) return 'busy';
    if (row.handled_at !== null) return 'handled';
    if (row.received_at > new Date(now.getTime() - CLAIM_STALE_MS).toISOString()) return 'busy';
    // Taken over only from the stale claim seen: of two retries racing for it, one wins.
    const over = await db
      .updateTable('slack_events')
      .set({ received_at: now.toISOString() })
      .where('org_id', '=', orgId)
      .where('event_id', '=', eventId)
      .where('handled_at', 'is', null)
      .where('received_at', '=', row.received_at)
      .executeTakeFirst();
    return Number(over.numUpdatedRows) === 1 ? 'taken' : 'busy';
  }

  /** The event was handled (its run started, or there was nothing to do): its id stays taken. */
  async #handled(orgId: string, eventId: string): Promise<void> {
    await this.#o.db
      .updateTable('slack_events')
      .set({ handled_at: new Date().toISOString() })
      .where('org_id', '=', orgId)
      .where('event_id', '=', eventId)
      .execute();
  }

  /** The event was not handled: its id is given back, so Slack's retry is handled. */
  async #release(orgId: string, eventId: string): Promise<void> {
    await this.#o.db
      .deleteFrom('slack_events')
      .where('org_id', '=', orgId)
      .where('event_id', '=', eventId)
      .where('handled_at', 'is', null)
      .execute();
  }

  /**
   * A refused request: recorded in its org (when there is one), and answered with the step's own
   * error, or 429 once the org's URL has had too many refusals this window (recorded once), so a
   * flood of forgeries cannot flood the trail.
   */
  #refused(install: SlackInstallTable | undefined, r: SlackRequest, err: Refusal): PaddockError {
    const n = this.#limiter.count(r.slug.slice(0, 100));
    const limited = n > this.#limiter.max;
    if (limited && n !== this.#limiter.max + 1) return tooMany();
    const reason = limited ? 'rate_limited' : err.reason;
    this.#o.log.info({ org: r.slug.slice(0, 64), reason, requestId: r.requestId }, 'slack request refused');
    if (install) this.#record(install.org_id, r.requestId, reason, { from: r.from });
    return limited ? tooMany() : err.answer;
  }

  /** Records a refusal (never a body or a message's text) without the caller waiting for it. */
  #record(orgId: string, requestId: string, reason: string, details: Record<string, unknown>, actor?: Actor) {
    const entry: AuditInput = {
      orgId,
      actor: actor ?? { type: 'system', id: 'slack' },
      action: 'slack.refused',
      target: { type: 'slack', id: orgId },
      outcome: 'denied',
      requestId,
      details: { reason, ...details },
    };
    void this.#o.audit
      .appendSoon(entry)
      .catch((err: unknown) => this.#o.log.error({ err }, 'could not record a refused Slack request'));
  }

  /**
   * Hands an event to the org's Bolt app and answers once it is handled — its run started (the
   * listener says so), or the listener ended having acknowledged it. An event Bolt cannot route
   * is refused; one whose handler fails, or is still going when Slack stops waiting, is answered
   * 503 so that Slack delivers it again. Either way its id is kept only if it was handled.
   */
  async #dispatchEvent(
    install: SlackInstallTable,
    body: Record<string, unknown>,
    requestId: string,
    eventId: string,
  ): Promise<{ ok: true }> {
    const orgId = install.org_id;
    let app: App;
    try {
      ({ app } = await this.#app(install));
    } catch (err) {
      await this.#release(orgId, eventId);
      throw err;
    }
    let acked = false;
    let accept: () => void = () => undefined;
    const accepted = new Promise<'accepted'>((resolve) => {
      accept = () => resolve('accepted');
    });
    const done = app
      .processEvent({
        body,
        ack: async () => {
          acked = true;
        },
        customProperties: { requestId, accepted: accept },
      })
      .then(
        () => 'finished' as const,
        (err: unknown) => {
          this.#o.log.warn({ err, requestId }, 'a Slack listener failed');
          return 'failed' as const;
        },
      );
    const settled = Promise.race([accepted, done]).then(async (how) => {
      const handled = how === 'accepted' || (how === 'finished' && acked);
      await (handled ? this.#handled(orgId, eventId) : this.#release(orgId, eventId));
      return handled ? ('handled' as const) : how;
    });
    settled.catch((err: unknown) =>
      this.#o.log.error({ err, requestId }, 'could not settle a Slack event id'),
    );
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), ANSWER_WITHIN_MS);
      timer.unref();
    });
    const outcome = await Promise.race([settled, late]).finally(() => clearTimeout(timer));
    if (outcome === 'handled') return { ok: true };
    // Bolt found nothing to route it to (no event type): not an event Slack sends.
    if (outcome === 'finished') throw refuse('payload_invalid');
    throw outcome === 'late' ? inProgress() : notHandled();
  }

  /** Hands a verified body (a click) to the org's Bolt app; answers once Bolt acknowledges it. */
  async #dispatch(install: SlackInstallTable, body: Record<string, unknown>, requestId: string) {
    const { app } = await this.#app(install);
    let acked: () => void = () => undefined;
    const ack = new Promise<void>((resolve) => {
      acked = resolve;
    });
    const done = app
      .processEvent({ body, ack: async () => acked(), customProperties: { requestId } })
      .catch((err: unknown) => this.#o.log.warn({ err, requestId }, 'a Slack listener failed'));
    await Promise.race([ack, done]);
    return { ok: true };
  }

  async #app(install: SlackInstallTable): Promise<OrgApp> {
    const have = this.#apps.get(install.org_id);
    if (have && have.version === Number(install.version)) return have;
    const { botToken } = await openInstall(this.#o.db, this.#o.vault, install);
    const { App } = await bolt();
    const app = new App({
      receiver: routeReceiver,
      // The token is known and was checked with auth.test at install: no call per event.
      authorize: async () => ({ botToken, botUserId: install.bot_user_id }),
      clientOptions: this.#clientOptions(),
      logger: this.#boltLogger(),
    });
    const orgId = install.org_id;
    app.event('app_mention', async ({ event, client, context }) => {
      await this.#message(
        orgId,
        install,
        event as unknown as SlackMessage,
        client,
        String(context.requestId ?? ''),
        acceptedOf(context),
      );
    });
    app.message(async ({ message, client, context }) => {
      const m = message as unknown as SlackMessage;
      // A message in a channel counts only as a follow-up in a thread Paddock answered; one that
      // mentions the app comes as an app_mention too, and is handled as that.
      if (m.channel_type !== 'im' && (!m.thread_ts || (m.text ?? '').includes(`<@${install.bot_user_id}>`)))
        return;
      await this.#message(
        orgId,
        install,
        m,
        client,
        String(context.requestId ?? ''),
        acceptedOf(context),
        m.channel_type !== 'im',
      );
    });
    for (const [id, decision] of [
      [APPROVE, 'approve'],
      [DENY, 'deny'],
    ] as const)
      app.action(id, async ({ ack, body, action, client, context }) => {
        await ack();
        const value = (action as { value?: unknown }).value;
        await this.#click(
          orgId,
          body as unknown as ClickBody,
          String(value ?? ''),
          decision,
          client,
          String(context.requestId ?? ''),
        );
      });
    const made = { version: Number(install.version), install, app };
    this.#apps.set(orgId, made);
    return made;
  }

  /** A mention or a direct message: the link command, or a run as the person who wrote it. */
  async #message(
    orgId: string,
    install: SlackInstallTable,
    m: SlackMessage,
    client: webApi.WebClient,
    requestId: string,
    /** Tells the events route the event is handled once its run has started. */
    accepted: () => void,
    /** A plain reply in a channel's thread: answered only in a thread Paddock answered, else ignored. */
    followUpOnly = false,
  ) {
    if (m.subtype || m.bot_id || typeof m.user !== 'string' || typeof m.channel !== 'string') return;
    if (m.user === install.bot_user_id || !CHANNEL_ID.test(m.channel)) return;
    const threadTs = m.thread_ts ?? m.ts;
    if (typeof threadTs !== 'string' || !THREAD_TS.test(threadTs)) return;
    const thread: SlackThread = { channel: m.channel, thread_ts: threadTs };
    // Only threads Paddock started or answered continue a conversation.
    const known = m.thread_ts ? await threadOf(this.#o.db, orgId, thread) : undefined;
    if (followUpOnly && !known) return;
    const reply = (text: string) => client.chat.postMessage({ ...thread, text });
    const text = (m.text ?? '')
      .replace(new RegExp(`<@${install.bot_user_id}>`, 'g'), '')
      .trim()
      .slice(0, 20_000);
    const isDm = m.channel_type === 'im';
    const link = /^link\s+([A-Za-z0-9_-]{1,64})$/.exec(text);
    if (isDm && link) {
      const person = SLACK_USER.test(m.user)
        ? await redeemLinkCode(this.#o.db, orgId, m.user, link[1]!, requestId)
        : null;
      await reply(
        person
          ? 'Your Slack account is now linked to your Paddock account.'
          : "That link code is not valid or has expired. Make a new one on Paddock's Slack page (Link my Slack account).",
      );
      return;
    }
    const agentId = await boundAgent(this.#o.db, orgId, isDm ? 'dm' : m.channel);
    // A thread whose channel now has another agent (or none) continues nothing.
    const continuing = known && known.agentId === agentId ? known : undefined;
    if (followUpOnly && !continuing) return;
    if (!agentId) {
      await reply('No agent answers here. An admin can bind one to this channel in Paddock.');
      return;
    }
    const who = SLACK_USER.test(m.user)
      ? await personFor(this.#o.db, orgId, m.user, client, install.team_id)
      : undefined;
    const ctx = who ? await personContext(this.#o.db, orgId, who.personId, requestId) : undefined;
    if (!ctx || !can(ctx.role, 'runs.start')) {
      this.#record(orgId, requestId, ctx ? 'not_allowed' : 'person_unknown', {
        slackUserId: m.user.slice(0, 40),
        channel: m.channel.slice(0, 40),
      });
      await reply(
        ctx
          ? 'Sorry — your role in Paddock does not let you talk to agents.'
          : "Sorry — I don't know who you are in Paddock. Ask an admin to add you, or link your account (Paddock's Slack page → Link my Slack account).",
      );
      return;
    }
    const lines: string[] = [];
    const tools = new Map<string, string>();
    const listener: RunListener = (e) => {
      if (e.kind === 'approval') {
        lines.push(`⏸ \`${slackText(e.call.toolName)}\` waits for an approval`);
        void this.#postCard(orgId, install, e.call.approvalId, runId, thread, client).catch((err: unknown) =>
          this.#o.log.error({ err }, 'could not post an approval card'),
        );
      }
      if (e.kind !== 'chunk') return;
      const c = e.chunk as { type: string; toolCallId?: string; toolName?: string };
      if (c.type === 'tool-input-available' && c.toolCallId && c.toolName) {
        tools.set(c.toolCallId, c.toolName);
        lines.push(`🔧 called \`${slackText(c.toolName)}\``);
      }
      if (c.type === 'tool-output-error' && c.toolCallId)
        lines.push(`⛔ \`${slackText(tools.get(c.toolCallId) ?? 'a tool')}\` was refused or failed`);
    };
    let runId = '';
    try {
      const start = (conversationId: string | undefined) =>
        this.#o.runs.start(
          ctx,
          agentId,
          {
            message: text || '(empty message)',
            via: 'slack',
            ...(conversationId ? { thread: { conversationId } } : {}),
          },
          listener,
        );
      // The thread's conversation may be gone (retention, a deletion): the thread starts a new one.
      const started = await start(continuing?.conversationId).catch((err: unknown) => {
        if (continuing && PaddockError.isInstance(err) && err.code === 'conversation_not_found')
          return start(undefined);
        throw err;
      });
      runId = started.run.id;
      // Not remembered, the thread only misses its follow-ups: the run has started all the same.
      if (started.run.conversationId !== continuing?.conversationId)
        await rememberThread(this.#o.db, orgId, thread, agentId, started.run.conversationId).catch(
          (err: unknown) => this.#o.log.error({ err }, 'could not remember a Slack thread'),
        );
      accepted();
      const run = await started.done;
      // Its answer is owed to the thread however the approval is decided (see answerOwed).
      if (run.status === 'waiting_approval') {
        await owedAnswer(this.#o.db, orgId, run.id, thread).catch((err: unknown) =>
          this.#o.log.error({ err }, 'could not note the answer a Slack thread is owed'),
        );
        this.#watch(orgId);
      }
      await this.#answer(client, thread, lines, run);
    } catch (err) {
      if (!PaddockError.isInstance(err)) throw err;
      await reply(`Sorry — the agent could not start: ${redactString(err.message)}`);
    }
  }

  /** The run's answer in the thread: what it checked and stored, or why there is none. */
  async #answer(
    client: webApi.WebClient,
    thread: { channel: string; thread_ts: string },
    lines: string[],
    run: { status: string; output: string | null; error: { code: string; message: string } | null },
  ) {
    let text: string;
    if (run.status === 'completed') text = run.output ?? '(no answer)';
    else if (run.status === 'waiting_approval')
      text = 'I am waiting for an approval; I will answer here once it is decided.';
    // What a provider or the cell said of the failure passes the one redaction layer here too.
    else text = `The run ${run.status}: ${redactString(run.error?.message ?? 'no reason given')}`;
    await client.chat.postMessage({
      ...thread,
      text: text.slice(0, 3000),
      blocks: answerBlocks(lines, text),
    });
  }

  async #postCard(
    orgId: string,
    install: SlackInstallTable,
    approvalId: string,
    runId: string,
    thread: { channel: string; thread_ts: string },
    client: webApi.WebClient,
  ) {
    if (!install.approvals_channel) return;
    const a = await this.#o.db
      .selectFrom('approvals as a')
      .innerJoin('agents as g', 'g.id', 'a.agent_id')
      .select(['a.tool', 'a.connection_id', 'a.requested_by', 'a.expires_at', 'g.name'])
      .where('a.org_id', '=', orgId)
      .where('a.id', '=', approvalId)
      .executeTakeFirst();
    if (!a) return;
    const slug = (
      await this.#o.db.selectFrom('orgs').select('slug').where('id', '=', orgId).executeTakeFirstOrThrow()
    ).slug;
    const requester = a.requested_by
      ? (
          await this.#o.db
            .selectFrom('users')
            .select('name')
            .where('id', '=', a.requested_by)
            .executeTakeFirst()
        )?.name
      : null;
    const posted = await client.chat.postMessage({
      channel: install.approvals_channel,
      text: `${a.name} waits for an approval to call ${a.tool}`,
      blocks: cardBlocks({
        approvalId,
        agentName: a.name,
        tool: a.tool,
        requestedBy: requester ?? null,
        expiresAt: a.expires_at,
        url: new URL(`/orgs/${slug}/approvals`, this.#o.publicUrl()).href,
      }),
    });
    if (!posted.ok || typeof posted.ts !== 'string') return;
    await this.#o.db
      .insertInto('slack_cards')
      .values({
        approval_id: approvalId,
        org_id: orgId,
        run_id: runId,
        channel_id: install.approvals_channel,
        ts: posted.ts,
        thread_channel: thread.channel,
        thread_ts: thread.thread_ts,
        closed_at: null,
        refreshed_at: null,
      })
      .onConflict((oc) => oc.column('approval_id').doNothing())
      .execute();
    this.#watch(orgId);
  }

  /** A decision made anywhere (API, dashboard, another replica) updates the org's open cards. */
  #watch(orgId: string) {
    if (this.#watched.has(orgId)) return;
    this.#watched.set(
      orgId,
      this.#o.signals.subscribe(orgId, () => {
        void this.refreshCards(orgId).catch((err: unknown) =>
          this.#o.log.error({ err }, 'could not update Slack cards'),
        );
        void this.answerOwed(orgId).catch((err: unknown) =>
          this.#o.log.error({ err }, 'could not post a Slack answer after an approval'),
        );
      }),
    );
  }

  /**
   * Every org's open cards checked and owed answers posted (the scheduled backstop: a replica
   * restarted since it posted them, or missed a signal).
   */
  async refreshAll(): Promise<{ closed: number; answered: number }> {
    const orgs = await this.#o.db
      .selectFrom('slack_cards')
      .select('org_id')
      .distinct()
      // Open, or claimed and not yet said to have ended.
      .where('refreshed_at', 'is', null)
      .execute();
    let closed = 0;
    for (const o of orgs) {
      this.#watch(o.org_id);
      closed += await this.refreshCards(o.org_id);
    }
    let answered = 0;
    for (const orgId of await orgsOwedAnswers(this.#o.db)) {
      this.#watch(orgId);
      // One org's Slack being unreachable does not hold up the others'.
      answered += await this.answerOwed(orgId).catch((err: unknown) => {
        this.#o.log.warn({ err, org: orgId }, 'could not post the answers owed to Slack threads');
        return 0;
      });
    }
    return { closed, answered };
  }

  /**
   * Posts the answers owed to threads whose run waited on an approval and has since ended —
   * decided in Slack, the dashboard or the API, on any replica, or expired. Each is taken before
   * it is posted, so it is posted once; the number posted.
   */
  async answerOwed(orgId: string): Promise<number> {
    const due = await answersDue(this.#o.db, orgId);
    const waits = await newWaits(this.#o.db, orgId);
    if (due.length === 0 && waits.length === 0) return 0;
    const install = await installOf(this.#o.db, orgId);
    const client = await this.#client(orgId);
    if (!client || !install) return 0;
    // Resumed and waiting again: cards for what it waits on now, and a word in its thread.
    for (const w of waits) {
      if (!(await noteWait(this.#o.db, orgId, w.runId, w.notedAt))) continue;
      for (const approvalId of w.approvalIds)
        await this.#postCard(orgId, install, approvalId, w.runId, w.thread, client);
      await client.chat.postMessage({
        ...w.thread,
        text: 'I am waiting for another approval; I will answer here once it is decided.',
      });
    }
    let posted = 0;
    for (const d of due) {
      if (!(await takeAnswer(this.#o.db, orgId, d.runId))) continue;
      const row = await this.#o.db
        .selectFrom('runs')
        .selectAll()
        .where('org_id', '=', orgId)
        .where('id', '=', d.runId)
        .executeTakeFirst();
      if (!row) continue;
      try {
        await this.#answer(client, d.thread, [], toRun(row));
      } catch (err) {
        // Slack unreachable: owed again, for the next signal or the scheduled job. Refused by
        // Slack itself (an archived channel, say), it would be refused again: dropped, logged.
        if (!refusedBySlack(err)) await owedAnswer(this.#o.db, orgId, d.runId, d.thread);
        throw err;
      }
      posted++;
    }
    return posted;
  }

  /**
   * Closes the org's open cards whose approval is no longer pending, and takes up claims whose
   * update never happened (a kill between claim and update, Slack unreachable); the number closed.
   */
  async refreshCards(orgId: string): Promise<number> {
    const now = new Date().toISOString();
    const stale = new Date(Date.now() - UNREFRESHED_CLAIM_MS).toISOString();
    const open = await this.#o.db
      .selectFrom('slack_cards as c')
      .innerJoin('approvals as a', 'a.id', 'c.approval_id')
      .leftJoin('users as u', 'u.id', 'a.decided_by')
      .select([
        'c.approval_id',
        'c.channel_id',
        'c.ts',
        'c.closed_at',
        'a.status',
        'a.tool',
        'a.expires_at',
        'a.reason',
        'a.ended_because',
        'u.name',
      ])
      .where('c.org_id', '=', orgId)
      .where((eb) =>
        eb.or([
          eb('c.closed_at', 'is', null),
          eb.and([eb('c.refreshed_at', 'is', null), eb('c.closed_at', '<=', stale)]),
        ]),
      )
      .execute();
    let closed = 0;
    for (const c of open) {
      // An approval used by now was approved: the card says what the person did.
      const status =
        c.status === 'pending'
          ? c.expires_at <= now
            ? 'expired'
            : null
          : c.status === 'used'
            ? 'approved'
            : c.status;
      if (!status || !(await this.#close(orgId, c.approval_id, c.closed_at))) continue;
      const client = await this.#client(orgId);
      if (!client) {
        // Slack uninstalled meanwhile: no card can be updated; not taken up again.
        await this.#refreshed(orgId, c.approval_id);
        continue;
      }
      try {
        await client.chat.update({
          channel: c.channel_id,
          ts: c.ts,
          text: `${c.tool}: ${status}`,
          blocks: decidedBlocks({
            approvalId: c.approval_id,
            tool: c.tool,
            status,
            by: c.name,
            // A claim taken up: a click in Slack decided it (its reason says so), not the sweep's
            // usual "decided elsewhere".
            where: c.reason === SLACK_REASON ? 'in Slack' : 'in Paddock',
            why: status === 'expired' ? whyEnded(c.ended_because) : undefined,
          }),
        });
      } catch (err) {
        // Refused by Slack itself (the message deleted, the channel archived), it would be
        // refused again: given up, logged. Unreachable: taken up again after a while.
        if (!refusedBySlack(err)) throw err;
        this.#o.log.warn({ err, approvalId: c.approval_id }, 'Slack refused to update an approval card');
      }
      await this.#refreshed(orgId, c.approval_id);
      closed++;
    }
    return closed;
  }

  /**
   * Claims a card to say how its approval ended; false when someone claimed it first (so it is
   * updated once). `seen`: a claim left unrefreshed, taken over only as it was seen.
   */
  async #close(orgId: string, approvalId: string, seen: string | null = null): Promise<boolean> {
    const r = await this.#o.db
      .updateTable('slack_cards')
      .set({ closed_at: new Date().toISOString() })
      .where('org_id', '=', orgId)
      .where('approval_id', '=', approvalId)
      .where('closed_at', seen === null ? 'is' : '=', seen)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** The card says how its approval ended: its claim is done. */
  async #refreshed(orgId: string, approvalId: string): Promise<void> {
    await this.#o.db
      .updateTable('slack_cards')
      .set({ refreshed_at: new Date().toISOString() })
      .where('org_id', '=', orgId)
      .where('approval_id', '=', approvalId)
      .execute();
  }

  /** Gives a card back to the sweep (a click that claimed it was refused). */
  async #reopen(orgId: string, approvalId: string): Promise<void> {
    await this.#o.db
      .updateTable('slack_cards')
      .set({ closed_at: null })
      .where('org_id', '=', orgId)
      .where('approval_id', '=', approvalId)
      .execute();
  }

  /** A Web API client with the org's bot token, or undefined once Slack is uninstalled. */
  async #client(orgId: string): Promise<webApi.WebClient | undefined> {
    const install = await installOf(this.#o.db, orgId);
    if (!install) return undefined;
    const { botToken } = await openInstall(this.#o.db, this.#o.vault, install);
    const { webApi: web } = await bolt();
    return new web.WebClient(botToken, this.#clientOptions());
  }

  /**
   * A click on a card. Honoured only from a Slack user explicitly linked to a person who may
   * decide approvals (an email match is not enough: it proves nothing the person confirmed);
   * the decision then goes through the approvals' own rules (two-person rule, stale grants).
   */
  async #click(
    orgId: string,
    body: ClickBody,
    approvalId: string,
    decision: 'approve' | 'deny',
    client: webApi.WebClient,
    requestId: string,
  ) {
    const slackUser = body.user?.id ?? '';
    const channel = body.channel?.id ?? body.container?.channel_id ?? '';
    const tell = (text: string) =>
      channel && SLACK_USER.test(slackUser)
        ? client.chat.postEphemeral({ channel, user: slackUser, text }).catch(() => undefined)
        : undefined;
    const refused = async (reason: string, message: string, actor?: Actor) => {
      this.#record(
        orgId,
        requestId,
        reason,
        { decision, approvalId: approvalId.slice(0, 40), slackUserId: slackUser.slice(0, 40) },
        actor,
      );
      await tell(message);
    };
    if (!/^apr_[A-Za-z0-9]{1,40}$/.test(approvalId))
      return refused('approval_unknown', 'That card names no approval.');
    const person = SLACK_USER.test(slackUser) ? await linkedPerson(this.#o.db, orgId, slackUser) : undefined;
    if (!person)
      return refused(
        'not_linked',
        'Only a Slack account linked to a Paddock approver can decide here. Link yours in Paddock first.',
      );
    const ctx = await personContext(this.#o.db, orgId, person, requestId);
    const actor: Actor = { type: 'person', id: person };
    if (!ctx || !can(ctx.role, 'approvals.decide'))
      return refused('not_allowed', 'Your role in Paddock does not let you decide approvals.', actor);
    // The card is this click's to update: claimed before the decision commits, so the sweep that
    // closes cards decided elsewhere cannot say "in Paddock" of it meanwhile (given back if refused).
    const card = await this.#o.db
      .selectFrom('slack_cards')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('approval_id', '=', approvalId)
      .executeTakeFirst();
    const claimed = card !== undefined && (await this.#close(orgId, approvalId));
    let decided: Awaited<ReturnType<typeof decideApproval>>;
    try {
      decided = await decideApproval(this.#o.db, ctx, approvalId, decision, SLACK_REASON);
    } catch (err) {
      if (claimed) await this.#reopen(orgId, approvalId);
      if (!PaddockError.isInstance(err)) throw err;
      return refused(err.code, `Not decided: ${err.message}`, actor);
    }
    if (card && claimed) {
      const name = (
        await this.#o.db.selectFrom('users').select('name').where('id', '=', person).executeTakeFirst()
      )?.name;
      await client.chat.update({
        channel: card.channel_id,
        ts: card.ts,
        text: `${decided.tool}: ${decided.status}`,
        blocks: decidedBlocks({
          approvalId,
          tool: decided.tool,
          status: decided.status,
          by: name ?? person,
          where: 'in Slack',
        }),
      });
      await this.#refreshed(orgId, approvalId);
    }
    // Its answer goes to the thread once it ends, as for a decision made anywhere (answerOwed).
    await this.#o.runs.resumeDecided(orgId, approvalId);
  }

  /** Bolt's, its WebClient's and the Socket Mode client's logger, into Paddock's, without QUIET lines. */
  #boltLogger() {
    const log = this.#o.log;
    let level = 'debug';
    const debug = (...m: unknown[]) => {
      const line = m.map(String).join(' ');
      if (!QUIET.test(line)) log.debug({ slack: line.slice(0, 500) }, 'bolt');
    };
    return {
      debug,
      info: debug,
      warn: (...m: unknown[]) => log.warn({ slack: m.map(String).join(' ').slice(0, 500) }, 'bolt'),
      error: (...m: unknown[]) => log.error({ slack: m.map(String).join(' ').slice(0, 500) }, 'bolt'),
      setLevel: (l: string) => {
        level = l;
      },
      getLevel: () => level,
      setName: () => undefined,
    } as unknown as BoltLogger;
  }
}

/** What a Socket Mode connection hands on: an envelope, and how to acknowledge it. */
interface Envelope {
  ack: (response?: Record<string, unknown>) => Promise<void>;
  envelope_id?: string;
  type: string;
  body: Record<string, unknown> | null;
}

type SocketClient = InstanceType<Awaited<ReturnType<typeof socketMode>>['SocketModeClient']>;

interface SlackMessage {
  type: string;
  subtype?: string;
  bot_id?: string;
  user?: string;
  channel?: string;
  channel_type?: string;
  text?: string;
  ts: string;
  thread_ts?: string;
}

interface ClickBody {
  user?: { id?: string };
  channel?: { id?: string };
  container?: { channel_id?: string };
}
