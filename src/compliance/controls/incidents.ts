/**
 * PAD-INC-01 — incident register and exercises. Incidents are registered with severity,
 * timeline and actions; tabletop exercises rehearse the response. A high or critical incident
 * left open with no timeline entry for a week fails; no tabletop in a year warns. Evidence: the
 * register (incidents open or touched in the last year) and the tabletops of the last year.
 */
import { listExercises } from '../exercises.ts';
import { listIncidents } from '../incidents.ts';
import { count, DAY_MS, dataOf, type PaddockControl, some, stateDraft } from './context.ts';

export const STALLED_DAYS = 7;
export const TABLETOP_EVERY_DAYS = 365;

interface Register {
  incidents: Array<{ id: string; title: string; severity: string; status: string; lastUpdateAt: string }>;
  asOf: string;
}

interface Tabletops {
  tabletops: Array<{ id: string; heldAt: string; outcome: string }>;
}

export const incidents: PaddockControl = {
  id: 'PAD-INC-01',
  title: 'Incident register and exercises',
  description:
    'Security incidents are registered with severity, a timeline and actions until closed; tabletop exercises rehearse the response and are recorded with their findings. A serious incident left without an update fails the control.',
  criteria: ['CC7.3', 'CC7.4', 'CC7.5', 'P6.3'],
  async collect(ctx) {
    const since = new Date(ctx.now.getTime() - 365 * DAY_MS).toISOString();
    const all = await listIncidents(ctx.db, ctx.orgId);
    const exercises = await listExercises(ctx.db, ctx.orgId);
    return [
      stateDraft('incidents.register', {
        asOf: ctx.now.toISOString(),
        incidents: all
          .filter((i) => i.status !== 'closed' || i.updatedAt >= since)
          .map((i) => ({
            id: i.id,
            title: i.title,
            severity: i.severity,
            status: i.status,
            detectedAt: i.detectedAt,
            resolvedAt: i.resolvedAt,
            lastUpdateAt: i.timeline.at(-1)?.time ?? i.createdAt,
            timeline: i.timeline.length,
            actionsOpen: i.actions.filter((a) => !a.done).length,
          })),
      }),
      stateDraft('exercises.tabletop', {
        tabletops: exercises
          .filter((e) => e.kind === 'tabletop' && e.heldAt >= since)
          .map((e) => ({ id: e.id, title: e.title, heldAt: e.heldAt, outcome: e.outcome })),
      }),
    ];
  },
  test(evidence) {
    const r = dataOf<Register>(evidence, 'incidents.register');
    const t = dataOf<Tabletops>(evidence, 'exercises.tabletop');
    if (!r || !t) return { status: 'fail', reason: 'The incident evidence is missing.' };
    const now = Date.parse(r.asOf);
    const open = r.incidents.filter((i) => i.status === 'open' || i.status === 'contained');
    const stalled = open.filter(
      (i) =>
        (i.severity === 'high' || i.severity === 'critical') &&
        now - Date.parse(i.lastUpdateAt) > STALLED_DAYS * DAY_MS,
    );
    if (stalled.length > 0) {
      return {
        status: 'fail',
        reason: `${count(stalled.length, 'serious incident')} open with no update in ${STALLED_DAYS} days: ${some(stalled.map((i) => i.title))}.`,
      };
    }
    const summary = `${count(r.incidents.length, 'incident')} in the register (${open.length} open)`;
    if (t.tabletops.length === 0) {
      return {
        status: 'warning',
        reason: `No tabletop exercise in the last ${TABLETOP_EVERY_DAYS} days. ${summary}.`,
      };
    }
    return {
      status: 'pass',
      reason: `${summary}; ${count(t.tabletops.length, 'tabletop exercise')} in the last year (latest ${t.tabletops[0]!.heldAt.slice(0, 10)}).`,
    };
  },
};
