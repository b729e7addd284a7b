/**
 * Erasing entry details on record. A payload (an entry's details and the salt of their digest)
 * may be erased only by a retention run or a deletion request, and each is itself an entry of
 * the same log naming its rule or the entries it erased, with counts; every erased row points
 * at it (`erased_by`), and `verify` checks each erasure against it. The hashed header of an
 * entry is never erased. Erasure records (`audit.*`) are never erased themselves.
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Database, Db } from '../store/index.ts';
import { type Actor, prepareEntry } from './entry.ts';
import { writeOutbox } from './outbox.ts';

export const ERASURE = {
  /** A retention run: details of entries older than `cutoff`, under the org's policy. */
  retention: 'audit.retention.applied',
  /** A deletion request: the details of the listed entries. */
  request: 'audit.payloads.erased',
  /** Format v1 entries whose payload was already erased when the log moved to format v2. */
  upgrade: 'audit.format.upgraded',
} as const;

/** Index ranges `[first, last]` (inclusive), the compact way erasure records list entries. */
export type IndexRanges = Array<[number, number]>;

export function toRanges(indexes: number[]): IndexRanges {
  const out: IndexRanges = [];
  for (const i of [...indexes].sort((a, b) => a - b)) {
    const last = out.at(-1);
    if (last && i === last[1] + 1) last[1] = i;
    else if (!last || i > last[1]) out.push([i, i]);
  }
  return out;
}

export function inRanges(ranges: IndexRanges, i: number): boolean {
  return ranges.some(([a, b]) => i >= a && i <= b);
}

/** Writes the erasure record in the transaction and returns its id (the writer places it). */
async function record(
  trx: Db,
  logId: string,
  actor: Actor,
  action: string,
  details: Record<string, unknown>,
  requestId?: string,
): Promise<string> {
  const e = prepareEntry({
    orgId: logId === 'platform' ? null : logId,
    actor,
    action,
    target: { type: 'log', id: logId },
    requestId,
    details,
  });
  return writeOutbox(trx, e);
}

/** Erases the selected rows' payloads, pointing them at the record that erased them. */
function erase(trx: Db, logId: string, by: string, now: string) {
  return trx
    .updateTable('audit_entries')
    .set({
      details: null,
      salt: null,
      // A v1 leaf holds the details itself: it goes whole (its hash stays in the tree).
      leaf: sql<string | null>`case when format = 1 then null else leaf end`,
      erased_at: now,
      erased_by: by,
    })
    .where('log_id', '=', logId)
    .where('erased_at', 'is', null)
    .where('action', 'not like', 'audit.%');
}

/**
 * Applies each org's retention policy (`auditRetentionDays`): the details of entries older than
 * that are erased, on record. Returns how many payloads were erased.
 */
export async function applyRetention(db: Kysely<Database>, now = new Date()): Promise<number> {
  const orgs = await db.selectFrom('orgs').select(['id', 'settings']).execute();
  let erased = 0;
  for (const org of orgs) {
    const days = (JSON.parse(org.settings) as { auditRetentionDays?: number | null }).auditRetentionDays;
    if (!days) continue;
    const cutoff = new Date(now.getTime() - days * 86_400_000).toISOString();
    erased += await db.transaction().execute(async (trx) => {
      const span = await trx
        .selectFrom('audit_entries')
        .select((eb) => [
          eb.fn.countAll<number>().as('n'),
          eb.fn.min('idx').as('lo'),
          eb.fn.max('idx').as('hi'),
        ])
        .where('log_id', '=', org.id)
        .where('erased_at', 'is', null)
        .where('action', 'not like', 'audit.%')
        .where('time', '<', cutoff)
        .executeTakeFirstOrThrow();
      const count = Number(span.n);
      if (count === 0) return 0;
      const by = await record(trx, org.id, { type: 'system', id: 'retention' }, ERASURE.retention, {
        rule: { auditRetentionDays: days },
        cutoff,
        count,
        firstIndex: Number(span.lo),
        lastIndex: Number(span.hi),
      });
      const r = await erase(trx, org.id, by, now.toISOString()).where('time', '<', cutoff).executeTakeFirst();
      return Number(r.numUpdatedRows);
    });
  }
  return erased;
}

/**
 * A deletion request: erases the details of these entries of the caller's org log (a person's
 * data, an agent's memory), recorded as one entry listing them. Entries already erased and
 * erasure records are left out. Returns the indexes erased.
 *
 * @example
 *   await eraseEntries(db, ctx, [12, 13, 40], 'deletion request from sam@acme.test');
 */
export async function eraseEntries(
  db: Kysely<Database>,
  ctx: { scope: { orgId: string }; actor: Actor; requestId: string },
  indexes: number[],
  reason: string,
): Promise<number[]> {
  const logId = ctx.scope.orgId;
  return db.transaction().execute(async (trx) => {
    const rows = indexes.length
      ? await trx
          .selectFrom('audit_entries')
          .select('idx')
          .where('log_id', '=', logId)
          .where('idx', 'in', indexes)
          .where('erased_at', 'is', null)
          .where('action', 'not like', 'audit.%')
          .execute()
      : [];
    const found = rows.map((r) => Number(r.idx));
    if (found.length === 0) return [];
    const by = await record(
      trx,
      logId,
      ctx.actor,
      ERASURE.request,
      { reason, entries: toRanges(found), count: found.length },
      ctx.requestId,
    );
    await erase(trx, logId, by, new Date().toISOString()).where('idx', 'in', found).execute();
    return found.sort((a, b) => a - b);
  });
}

/**
 * Once per log, when it holds format v1 entries: records which of them had their payload erased
 * before erasures were recorded (they can only be reported as such), so any later unrecorded
 * erasure of a v1 entry is caught like one of a v2 entry.
 */
export async function recordFormatUpgrade(db: Kysely<Database>): Promise<number> {
  const logs = await db
    .selectFrom('audit_entries')
    .select('log_id')
    .distinct()
    .where('format', '=', sql.lit(1))
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('audit_entries as u')
            .select('u.idx')
            .whereRef('u.log_id', '=', 'audit_entries.log_id')
            .where('u.action', '=', ERASURE.upgrade),
        ),
      ),
    )
    .execute();
  for (const { log_id: logId } of logs) {
    await db.transaction().execute(async (trx) => {
      const pending = await trx
        .selectFrom('audit_outbox')
        .select('seq')
        .where('log_id', '=', logId)
        .where('action', '=', ERASURE.upgrade)
        .executeTakeFirst();
      if (pending) return;
      const erased = await trx
        .selectFrom('audit_entries')
        .select('idx')
        .where('log_id', '=', logId)
        .where('format', '=', sql.lit(1))
        .where('leaf', 'is', null)
        .execute();
      const indexes = erased.map((r) => Number(r.idx));
      const by = await record(trx, logId, { type: 'system', id: 'audit-upgrade' }, ERASURE.upgrade, {
        fromFormat: 1,
        toFormat: 2,
        erasedBefore: { entries: toRanges(indexes), count: indexes.length },
      });
      if (indexes.length > 0)
        await trx
          .updateTable('audit_entries')
          .set({ erased_by: by })
          .where('log_id', '=', logId)
          .where('idx', 'in', indexes)
          .execute();
    });
  }
  return logs.length;
}
