/**
 * Streams committed entries to each org's SIEM webhook as JSON lines, in index order, from a
 * stored cursor: restarts resume where they stopped, failures retry with backoff, and the log
 * writer never waits for it.
 */
import type { Logger } from '../log/index.ts';
import type { Store } from '../store/index.ts';
import { toAuditEvent } from './query.ts';

const SINK = 'siem';
const BATCH = 500;
/** Commits within this long of each other go out as one delivery (and one settings read). */
const GATHER_MS = 25;
/**
 * An org found with no SIEM webhook is not asked again for this long: most orgs have none, and
 * reading its settings after every batch of commits cost a governed call ~8 µs. One set up later
 * starts streaming within this long, from its cursor (nothing is skipped).
 */
const NONE_KEPT_MS = 1_000;

export class SiemStreamer {
  readonly #store: Store;
  readonly #log: Logger;
  readonly #running = new Set<string>();
  readonly #again = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #soon = new Map<string, NodeJS.Timeout>();
  /** Orgs found without a SIEM webhook, and when. */
  readonly #none = new Map<string, number>();
  #closed = false;

  readonly #openSecret: (orgId: string, secretId: string) => Promise<string>;

  /** `openSecret` opens the org's vault secret that authenticates Paddock to its SIEM. */
  constructor(store: Store, log: Logger, openSecret: (orgId: string, secretId: string) => Promise<string>) {
    this.#store = store;
    this.#log = log;
    this.#openSecret = openSecret;
  }

  /** Called after a commit with the logs that grew. */
  notify(logIds: string[]): void {
    for (const id of logIds) {
      if (id === 'platform' || this.#soon.has(id)) continue;
      // An org lately found without a webhook is asked again once that is stale, not before.
      const none = this.#none.get(id);
      const wait =
        none === undefined ? GATHER_MS : Math.max(GATHER_MS, NONE_KEPT_MS - (performance.now() - none));
      const timer = setTimeout(() => {
        this.#soon.delete(id);
        this.#run(id);
      }, wait);
      timer.unref();
      this.#soon.set(id, timer);
    }
  }

  close(): void {
    this.#closed = true;
    for (const t of this.#soon.values()) clearTimeout(t);
    this.#soon.clear();
  }

  #run(logId: string): void {
    if (this.#closed) return;
    if (this.#running.has(logId)) {
      this.#again.add(logId);
      return;
    }
    this.#running.add(logId);
    this.#deliver(logId)
      .then((more) => {
        this.#failures.delete(logId);
        this.#running.delete(logId);
        if (more || this.#again.delete(logId)) this.#run(logId);
      })
      .catch((err) => {
        this.#running.delete(logId);
        const n = (this.#failures.get(logId) ?? 0) + 1;
        this.#failures.set(logId, n);
        this.#log.warn({ err, logId, attempt: n }, 'SIEM delivery failed; will retry');
        setTimeout(() => this.#run(logId), Math.min(60_000, 500 * 2 ** Math.min(n, 7))).unref();
      });
  }

  /** Sends the next batch; true when more may be waiting. */
  async #deliver(logId: string): Promise<boolean> {
    this.#none.delete(logId);
    const db = this.#store.db;
    const org = await db.selectFrom('orgs').select('settings').where('id', '=', logId).executeTakeFirst();
    const settings = org
      ? (JSON.parse(org.settings) as { siemWebhookUrl?: string | null; siemWebhookSecret?: string | null })
      : {};
    const url = settings.siemWebhookUrl;
    if (!url) {
      this.#none.set(logId, performance.now());
      return false;
    }
    const cursor = await db
      .selectFrom('audit_cursors')
      .select('position')
      .where('sink', '=', SINK)
      .where('log_id', '=', logId)
      .executeTakeFirst();
    const from = cursor ? Number(cursor.position) : 0;
    const rows = await db
      .selectFrom('audit_entries')
      .selectAll()
      .where('log_id', '=', logId)
      .where('idx', '>=', from)
      .orderBy('idx')
      .limit(BATCH)
      .execute();
    if (rows.length === 0) return false;
    // What leaves the machine is durable here first: a placement committed with no sync of its own
    // (its record durable in the audit journal) may be placed again after a power cut, elsewhere in
    // the log — the SIEM would hold indexes the log does not.
    await this.#store.sync?.();
    const body = rows.map((r) => `${JSON.stringify({ log: logId, ...toAuditEvent(r) })}\n`).join('');
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-ndjson',
        ...(settings.siemWebhookSecret
          ? { authorization: await this.#openSecret(logId, settings.siemWebhookSecret) }
          : {}),
      },
      body,
      signal: AbortSignal.timeout(15_000),
    });
    if (!res.ok) throw new Error(`SIEM webhook answered HTTP ${res.status}`);
    const next = Number(rows.at(-1)!.idx) + 1;
    await db
      .insertInto('audit_cursors')
      .values({ sink: SINK, log_id: logId, position: next })
      .onConflict((oc) => oc.columns(['sink', 'log_id']).doUpdateSet({ position: next }))
      .execute();
    return rows.length === BATCH;
  }
}
