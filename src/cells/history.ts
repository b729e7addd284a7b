/** A cell's health history as the supervisor recorded it (starts, exits, restarts, health changes). */
import type { Db, OrgScope } from '../store/index.ts';

export interface CellEvent {
  time: string;
  state: string;
  detail: Record<string, unknown>;
}

/** The org's cell events, newest first. */
export async function cellHistory(db: Db, scope: OrgScope, limit: number): Promise<CellEvent[]> {
  const rows = await db
    .selectFrom('cell_events')
    .select(['time', 'state', 'detail'])
    .where('org_id', '=', scope.orgId)
    .orderBy('seq', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    time: r.time,
    state: r.state,
    detail: JSON.parse(r.detail) as Record<string, unknown>,
  }));
}
