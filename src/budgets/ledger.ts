/**
 * Usage counters in the database, so that a budget holds across replicas: a reservation is one
 * conditional update (`used + reserved + amount <= limit`), atomic on either engine — SQLite
 * writes one at a time, PostgreSQL re-checks the condition on the row it locked. Settling moves
 * a reservation to what was actually used.
 */
import { sql } from 'kysely';
import type { Db } from '../store/index.ts';
import type { UsageCounterTable } from '../store/schema.ts';

export interface CounterKey {
  orgId: string;
  agentId: string;
  kind: UsageCounterTable['kind'];
  period: string;
}

/** The counter's row, as an update. */
const update = (db: Db, k: CounterKey) =>
  db
    .updateTable('usage_counters')
    .where('org_id', '=', k.orgId)
    .where('agent_id', '=', k.agentId)
    .where('kind', '=', k.kind)
    .where('period', '=', k.period);

async function ensureRow(db: Db, k: CounterKey): Promise<void> {
  await db
    .insertInto('usage_counters')
    .values({ org_id: k.orgId, agent_id: k.agentId, kind: k.kind, period: k.period, used: 0, reserved: 0 })
    .onConflict((oc) => oc.columns(['org_id', 'agent_id', 'kind', 'period']).doNothing())
    .execute();
}

/**
 * Reserves `amount` if it fits under `limit` with what is used and reserved; `used` counts it as
 * used at once (a run started). False, changing nothing, when it does not fit.
 */
export async function reserve(
  db: Db,
  k: CounterKey,
  amount: number,
  limit: number,
  opts: { used?: boolean } = {},
): Promise<boolean> {
  await ensureRow(db, k);
  const column = opts.used ? 'used' : 'reserved';
  const r = await update(db, k)
    .set({ [column]: sql`${sql.ref(column)} + ${amount}` })
    .where(sql<boolean>`used + reserved + ${amount} <= ${limit}`)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** A reservation settled: `reserved` released, `actual` counted as used. */
export async function settle(db: Db, k: CounterKey, reserved: number, actual: number): Promise<void> {
  await ensureRow(db, k);
  await update(db, k)
    .set({ reserved: sql`reserved - ${reserved}`, used: sql`used + ${actual}` })
    .execute();
}

/** What one counter holds now. */
export async function counter(db: Db, k: CounterKey): Promise<{ used: number; reserved: number }> {
  const row = await db
    .selectFrom('usage_counters')
    .select(['used', 'reserved'])
    .where('org_id', '=', k.orgId)
    .where('agent_id', '=', k.agentId)
    .where('kind', '=', k.kind)
    .where('period', '=', k.period)
    .executeTakeFirst();
  return { used: Number(row?.used ?? 0), reserved: Number(row?.reserved ?? 0) };
}
