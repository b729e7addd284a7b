/**
 * An org's activity over time, for the Overview's charts: tool calls decided, calls denied,
 * approvals asked for, model calls and stops, counted per hour or per day from the log's indexed
 * columns. Operational figures, not evidence: the compliance center's figures are recomputed
 * from the hashed leaves instead.
 *
 * Why it stays fast on a log of millions: each bucket's edge is one seek in the (log, time) index
 * to the first entry at or after it, and each count walks only the (log, action) index between
 * two edges (SQLite keeps the row id in every index), never the entries themselves. An entry
 * therefore counts in the bucket of its place in the log, which follows its time to within the
 * writer's group commit (milliseconds).
 */
import { sql } from 'kysely';
import type { Db, OrgScope } from '../store/index.ts';

/** The series, each the actions it counts. */
export const ACTIVITY_SERIES = {
  toolCalls: ['tool.call.allowed', 'tool.call.denied'],
  denied: ['tool.call.denied'],
  approvalsRequested: ['approval.requested'],
  modelCalls: ['model.called'],
  stops: ['agent.stopped', 'org.agents.stopped'],
} as const;
export type ActivitySeries = keyof typeof ACTIVITY_SERIES;

export type ActivityUnit = 'hour' | 'day';
const UNIT_MS: Record<ActivityUnit, number> = { hour: 3_600_000, day: 86_400_000 };

export interface ActivityBucket extends Record<ActivitySeries, number> {
  /** The bucket's start (UTC); it ends where the next begins, the last one now. */
  start: string;
}

/** The start of the bucket holding `t`: the hour, or the day (UTC). */
function floorTo(t: number, unit: ActivityUnit): number {
  return Math.floor(t / UNIT_MS[unit]) * UNIT_MS[unit];
}

/** The log position (seq) of the first entry at or after `time`, or past the last entry. */
async function edge(db: Db, logId: string, time: string, end: number): Promise<number> {
  const row = await db
    .selectFrom('audit_entries')
    .select('seq')
    .where('log_id', '=', logId)
    .where('time', '>=', time)
    .orderBy('time')
    .limit(1)
    .executeTakeFirst();
  return row ? Number(row.seq) : end;
}

/**
 * The last `count` buckets of `unit` up to `now`, oldest first, each with its counts.
 *
 * @example
 *   const days = await activity(db, ctx.scope, { unit: 'day', count: 14 });
 *   days.at(-1); // { start: '2026-12-05T00:00:00.000Z', toolCalls: 312, denied: 4, … }
 */
export async function activity(
  db: Db,
  scope: OrgScope,
  opts: { unit: ActivityUnit; count: number; now?: Date },
): Promise<ActivityBucket[]> {
  const logId = scope.orgId;
  const now = (opts.now ?? new Date()).getTime();
  const first = floorTo(now, opts.unit) - (opts.count - 1) * UNIT_MS[opts.unit];
  const starts = Array.from({ length: opts.count }, (_, i) => first + i * UNIT_MS[opts.unit]);
  const last = await db
    .selectFrom('audit_entries')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .where('log_id', '=', logId)
    .executeTakeFirst();
  const end = Number(last?.seq ?? 0) + 1;
  const edges: number[] = [];
  for (const s of starts) edges.push(await edge(db, logId, new Date(s).toISOString(), end));
  edges.push(end);

  const actions = [...new Set(Object.values(ACTIVITY_SERIES).flat())];
  const buckets: ActivityBucket[] = [];
  for (let i = 0; i < starts.length; i++) {
    const counts = new Map<string, number>();
    if (edges[i]! < edges[i + 1]!) {
      const rows = await db
        .selectFrom('audit_entries')
        .select(['action', sql<number>`count(*)`.as('n')])
        .where('log_id', '=', logId)
        .where('action', 'in', actions)
        .where('seq', '>=', edges[i]!)
        .where('seq', '<', edges[i + 1]!)
        .groupBy('action')
        .execute();
      for (const r of rows) counts.set(r.action, Number(r.n));
    }
    const bucket = { start: new Date(starts[i]!).toISOString() } as ActivityBucket;
    for (const [name, acts] of Object.entries(ACTIVITY_SERIES) as [ActivitySeries, readonly string[]][])
      bucket[name] = acts.reduce((n, a) => n + (counts.get(a) ?? 0), 0);
    buckets.push(bucket);
  }
  return buckets;
}
