/**
 * The compliance center's trend: for each of the latest collections, how many controls passed,
 * warned or failed. Read from the stored results (never recomputed), so it costs the same on a
 * log of any size.
 */
import { sql } from 'kysely';
import type { Db } from '../store/index.ts';
import type { ControlStatus } from './types.ts';

export interface CollectionSummary {
  id: string;
  trigger: 'schedule' | 'request';
  startedAt: string;
  /** The log size the collection read up to (its signed checkpoint). */
  treeSize: number;
  counts: Record<ControlStatus, number>;
}

/**
 * The latest `limit` collections, oldest first, each with its results counted by status.
 *
 * @example
 *   const trend = await collectionTrend(db, orgId, 30);
 *   trend.at(-1)?.counts; // { pass: 15, warning: 2, fail: 1, not_applicable: 0 }
 */
export async function collectionTrend(db: Db, orgId: string, limit: number): Promise<CollectionSummary[]> {
  const collections = await db
    .selectFrom('compliance_collections')
    .select(['id', 'trigger', 'started_at', 'tree_size'])
    .where('org_id', '=', orgId)
    .orderBy('started_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  if (collections.length === 0) return [];
  const rows = await db
    .selectFrom('compliance_results')
    .select(['collection_id', 'status', sql<number>`count(*)`.as('n')])
    .where('org_id', '=', orgId)
    .where(
      'collection_id',
      'in',
      collections.map((c) => c.id),
    )
    .groupBy(['collection_id', 'status'])
    .execute();
  const byCollection = new Map<string, Record<ControlStatus, number>>();
  for (const c of collections) byCollection.set(c.id, { pass: 0, warning: 0, fail: 0, not_applicable: 0 });
  for (const r of rows) {
    const counts = byCollection.get(r.collection_id);
    if (counts && r.status in counts) counts[r.status as ControlStatus] = Number(r.n);
  }
  return collections.reverse().map((c) => ({
    id: c.id,
    trigger: c.trigger,
    startedAt: c.started_at,
    treeSize: Number(c.tree_size),
    counts: byCollection.get(c.id)!,
  }));
}
