/**
 * PAD-AVAIL-01 — health monitoring and automatic restart. The supervisor checks each cell's
 * heartbeat and restarts a dead or silent cell with exponential backoff; orgs do not share
 * timers, so one org's crash loop does not slow another's. Evidence: the cell's health history
 * of the period (starts, exits, restarts, health changes) and its cell entries from the log.
 * A cell left down (unhealthy or backing off with no recovery for minutes) fails the control.
 */
import { count, dataOf, figureDraft, type PaddockControl, stateDraft } from './context.ts';

/** Down this long without a recovery: failing, not restarting. */
export const DOWN_AFTER_MS = 5 * 60_000;

interface Health {
  events: number;
  byState: Record<string, number>;
  restarts: number;
  last: { time: string; state: string } | null;
  downSince: string | null;
  asOf: string;
}

export const availability: PaddockControl = {
  id: 'PAD-AVAIL-01',
  title: 'Health monitoring and automatic restart',
  description:
    'Every organization’s cell is watched by heartbeat; a cell that dies or stops answering is restarted with exponential backoff, without touching other organizations. Its health history is kept and collected as evidence.',
  criteria: ['A1.1', 'A1.2', 'CC7.2', 'CC7.5'],
  async collect(ctx) {
    const rows = await ctx.db
      .selectFrom('cell_events')
      .select(['time', 'state'])
      .where('org_id', '=', ctx.orgId)
      .where('time', '>=', ctx.period.from)
      .where('time', '<', ctx.period.to)
      .orderBy('seq')
      .execute();
    const byState: Record<string, number> = {};
    let downSince: string | null = null;
    for (const r of rows) {
      byState[r.state] = (byState[r.state] ?? 0) + 1;
      if (r.state === 'unhealthy' || r.state === 'backoff') downSince ??= r.time;
      else if (r.state === 'ready' || r.state === 'stopped') downSince = null;
    }
    const last = rows.at(-1);
    return [
      stateDraft('cells.health', {
        events: rows.length,
        byState,
        restarts: byState.backoff ?? 0,
        last: last ? { time: last.time, state: last.state } : null,
        downSince,
        asOf: ctx.now.toISOString(),
        now: ctx.platform.cell?.(ctx.orgId) ?? null,
      } satisfies Health & { now: unknown }),
      figureDraft(ctx, 'cells.events', {
        name: 'cell entries by action',
        where: { prefix: 'cell.' },
        by: 'action',
      }),
    ];
  },
  test(evidence) {
    const h = dataOf<Health>(evidence, 'cells.health');
    if (!h) return { status: 'fail', reason: 'The health evidence is missing.' };
    if (h.downSince && Date.parse(h.asOf) - Date.parse(h.downSince) > DOWN_AFTER_MS) {
      return {
        status: 'fail',
        reason: `The cell has been down since ${h.downSince} (last state: ${h.last?.state}) with no recovery.`,
      };
    }
    if (h.events === 0)
      return { status: 'pass', reason: 'No cell events in the period: the cell did not fail.' };
    const ready = h.byState.ready ?? 0;
    if (h.restarts > 0) {
      return {
        status: 'warning',
        reason: `The cell restarted ${count(h.restarts, 'time')} in the period and recovered each time (${count(ready, 'ready state')} reached).`,
      };
    }
    return { status: 'pass', reason: `${count(h.events, 'cell event')} in the period, no restart needed.` };
  },
};
