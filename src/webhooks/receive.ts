/**
 * A delivery to `POST /hooks/{id}`, from an unauthenticated sender: the signature is the only
 * credential. One pipeline of named steps, each of which either passes or refuses:
 *
 *   headers → timestamp window → endpoint → signature → delivery id unused → start the run
 *
 * A refusal starts nothing, is answered with its own code, and is recorded in the endpoint's
 * org trail as `webhook.refused` with the reason (never the body or the signature). The answer
 * never depends on whether the endpoint exists before the signature is verified: an unknown
 * endpoint, a deleted one and a wrong signature all read `webhook_signature_invalid`, and the
 * record is written without the answer waiting for it. Refusals are limited per endpoint id;
 * past the limit they are answered 429 and recorded once per window, while deliveries that
 * verify still start runs (so a flood of forgeries cannot shut a real sender out).
 */
import type { AuditInput, AuditTrail } from '../audit/index.ts';
import {
  BadRequestError,
  ConflictError,
  PaddockError,
  RateLimitedError,
  UnauthenticatedError,
} from '../errors/index.ts';
import { AttemptLimiter } from '../identity/index.ts';
import type { Logger } from '../log/index.ts';
import type { StartInput, SystemStart } from '../runtime/index.ts';
import type { Db } from '../store/index.ts';
import type { WebhookTable } from '../store/schema.ts';
import type { Vault } from '../vault/index.ts';
import { type Claim, claimDelivery, releaseDelivery } from './deliveries.ts';
import { deliveryMessage } from './message.ts';
import { readHeaders, type SignedHeaders, signatureMatches, timestampProblem } from './signature.ts';

/** Refused deliveries an endpoint may get per window before they are only counted. */
export const REFUSALS_PER_WINDOW = 30;
export const REFUSAL_WINDOW_MS = 60_000;

/** What starts runs: the coordinator's path for trusted system callers. */
export interface RunStarter {
  startFor(who: SystemStart, input: StartInput): Promise<{ run: { id: string } }>;
}

export interface Delivery {
  /** The endpoint id from the path (anything a sender typed). */
  webhookId: string;
  header: (name: string) => string | undefined;
  body: Uint8Array;
  requestId: string;
  /** The sender's address, for the record. */
  from: string;
}

export interface Accepted {
  runId: string;
  deliveryId: string;
}

export interface ReceiverOptions {
  db: Db;
  vault: Vault;
  audit: AuditTrail;
  runs: RunStarter;
  log: Logger;
  /** Refusals per endpoint id (default: REFUSALS_PER_WINDOW per REFUSAL_WINDOW_MS). */
  limiter?: AttemptLimiter;
  /** Unix seconds now (tests move the clock). */
  nowSeconds?: () => number;
}

/**
 * Why a delivery was refused, as recorded: a step's reason (`headers_invalid`, `timestamp_too_old`,
 * `timestamp_too_new`, `endpoint_unknown`, `endpoint_deleted`, `signature_invalid`,
 * `delivery_replayed`, `rate_limited`) or, when the run could not start, the coordinator's code
 * (`agent_stopped`, `cells_unavailable`).
 */
type Reason = string;

/** A step's refusal: why (for the record) and what the sender is told. */
class Refusal extends Error {
  readonly reason: Reason;
  readonly answer: PaddockError;
  constructor(reason: Reason, answer: PaddockError) {
    super(reason);
    this.reason = reason;
    this.answer = answer;
  }
}

// One answer for every way a delivery fails to prove it comes from an endpoint's sender.
const unverified = () =>
  new UnauthenticatedError(
    'webhook_signature_invalid',
    'No webhook endpoint with this id accepts this signature.',
  );

const ANSWERS: Record<string, () => PaddockError> = {
  headers_invalid: () =>
    new BadRequestError(
      'webhook_headers_invalid',
      'A delivery needs the Standard Webhooks headers: webhook-id (visible ASCII, no dots, at most 256 characters), webhook-timestamp (Unix seconds) and webhook-signature (v1,<base64>).',
    ),
  timestamp_too_old: () =>
    new UnauthenticatedError(
      'webhook_timestamp_too_old',
      'The webhook-timestamp is more than 5 minutes in the past.',
    ),
  timestamp_too_new: () =>
    new UnauthenticatedError(
      'webhook_timestamp_too_new',
      'The webhook-timestamp is more than 5 minutes in the future.',
    ),
  endpoint_unknown: unverified,
  endpoint_deleted: unverified,
  signature_invalid: unverified,
  delivery_replayed: () =>
    new ConflictError('webhook_delivery_replayed', 'This webhook-id was already delivered to this endpoint.'),
};

const refuse = (reason: keyof typeof ANSWERS) => new Refusal(reason, ANSWERS[reason]!());

export class WebhookReceiver {
  readonly #o: ReceiverOptions;
  readonly #limiter: AttemptLimiter;

  constructor(opts: ReceiverOptions) {
    this.#o = opts;
    this.#limiter = opts.limiter ?? new AttemptLimiter(REFUSALS_PER_WINDOW, REFUSAL_WINDOW_MS);
  }

  /** Verifies a delivery and starts its run; a refusal throws the PaddockError to answer with. */
  async receive(d: Delivery): Promise<Accepted> {
    // Looked up first whatever the headers say, so that a refusal can be recorded in its org.
    const endpoint = await this.#endpoint(d.webhookId);
    let headers: SignedHeaders | null = null;
    try {
      headers = readHeaders(d.header);
      if (!headers) throw refuse('headers_invalid');
      const late = timestampProblem(headers.timestamp, this.#now());
      if (late) throw refuse(late);
      const live = this.#live(endpoint);
      const secret = await this.#o.vault.open(
        this.#o.db,
        { orgId: live.org_id, secretId: live.id, version: Number(live.secret_version) },
        live.secret!,
      );
      if (!signatureMatches(secret, headers, d.body)) throw refuse('signature_invalid');
      return await this.#start(live, headers, d);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      throw this.#refused(endpoint, headers, d, err);
    }
  }

  #now(): number {
    return this.#o.nowSeconds?.() ?? Math.floor(Date.now() / 1000);
  }

  /** The endpoint of any org with this id, deleted or not; undefined when there is none. */
  async #endpoint(id: string): Promise<WebhookTable | undefined> {
    return this.#o.db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
  }

  #live(endpoint: WebhookTable | undefined): WebhookTable {
    if (!endpoint) throw refuse('endpoint_unknown');
    if (endpoint.deleted_at !== null || endpoint.secret === null) throw refuse('endpoint_deleted');
    return endpoint;
  }

  /** Takes the delivery id, then starts the run; if the run cannot start, the id is given back. */
  async #start(endpoint: WebhookTable, headers: SignedHeaders, d: Delivery): Promise<Accepted> {
    const claim: Claim = {
      webhookId: endpoint.id,
      orgId: endpoint.org_id,
      deliveryId: headers.id,
      timestamp: headers.timestamp,
    };
    if (!(await claimDelivery(this.#o.db, claim))) throw refuse('delivery_replayed');
    const actor = { type: 'system' as const, id: `webhook:${endpoint.id}` };
    let runId: string;
    try {
      const message = deliveryMessage({
        endpoint: { id: endpoint.id, name: endpoint.name },
        deliveryId: headers.id,
        timestamp: headers.timestamp,
        contentType: d.header('content-type'),
        body: d.body,
      });
      const { run } = await this.#o.runs.startFor(
        { orgId: endpoint.org_id, agentId: endpoint.agent_id, personId: null, actor, requestId: d.requestId },
        { message, via: 'webhook' },
      );
      runId = run.id;
    } catch (err) {
      await releaseDelivery(this.#o.db, claim);
      // The coordinator's refusal (`agent_stopped`, `cells_unavailable`) is this delivery's.
      if (PaddockError.isInstance(err)) throw new Refusal(err.code, err);
      throw err;
    }
    // The run and its start are on record already; this adds the delivery it came from.
    const accepted = this.#o.audit.appendSoon({
      orgId: endpoint.org_id,
      runId,
      actor,
      action: 'webhook.accepted',
      target: { type: 'webhook', id: endpoint.id },
      requestId: d.requestId,
      details: {
        agentId: endpoint.agent_id,
        deliveryId: headers.id,
        timestamp: headers.timestamp,
        bytes: d.body.length,
        contentType: d.header('content-type')?.slice(0, 200) ?? null,
        from: d.from,
      },
    });
    await accepted.catch((err: unknown) => this.#o.log.error({ err, runId }, 'could not record a delivery'));
    return { runId, deliveryId: headers.id };
  }

  /**
   * Records a refusal in the endpoint's org (without waiting for it) and says what to answer:
   * the step's own answer, or 429 once the endpoint id has had too many refusals this window.
   */
  #refused(
    endpoint: WebhookTable | undefined,
    headers: SignedHeaders | null,
    d: Delivery,
    r: Refusal,
  ): PaddockError {
    const n = this.#limiter.count(d.webhookId);
    const limited = n > this.#limiter.max;
    // Past the limit, only the first refusal of the window is recorded, as the limit being reached.
    if (limited && n !== this.#limiter.max + 1) return tooMany();
    const reason = limited ? 'rate_limited' : r.reason;
    this.#o.log.info(
      { webhookId: d.webhookId.slice(0, 64), reason, requestId: d.requestId },
      'webhook delivery refused',
    );
    if (endpoint) {
      const entry: AuditInput = {
        orgId: endpoint.org_id,
        actor: { type: 'system', id: `webhook:${endpoint.id}` },
        action: 'webhook.refused',
        target: { type: 'webhook', id: endpoint.id },
        outcome: 'denied',
        requestId: d.requestId,
        details: {
          reason,
          agentId: endpoint.agent_id,
          deliveryId: headers?.id ?? null,
          timestamp: headers?.timestamp ?? null,
          from: d.from,
        },
      };
      void this.#o.audit
        .appendSoon(entry)
        .catch((err: unknown) => this.#o.log.error({ err }, 'could not record a refused webhook delivery'));
    }
    return limited ? tooMany() : r.answer;
  }
}

const tooMany = () =>
  new RateLimitedError('Too many refused deliveries to this endpoint. Try again in a minute.');
