/**
 * PAD-MON-01 — continuous control monitoring. The compliance center itself: every control is
 * evaluated at each collection (daily on the scheduler, and on request), its result and
 * evidence kept, failures shown to owners and admins. Evidence: the collections of the last 30
 * days and the controls that failed at the previous one.
 */
import { count, DAY_MS, dataOf, type PaddockControl, some, stateDraft } from './context.ts';

/** Collections run daily; a gap longer than this warns. */
export const GAP_LIMIT_MS = 2 * DAY_MS;

interface History {
  collections: number;
  previousAt: string | null;
  previouslyFailing: string[];
  asOf: string;
}

export const monitoring: PaddockControl = {
  id: 'PAD-MON-01',
  title: 'Continuous control monitoring',
  description:
    'Every control is tested at each evidence collection — daily on the scheduler and on request — with its result, reason and evidence kept; failing controls are shown to owners and admins on the compliance page.',
  criteria: ['CC4.1', 'CC4.2'],
  async collect(ctx) {
    const since = new Date(ctx.now.getTime() - 30 * DAY_MS).toISOString();
    const recent = await ctx.db
      .selectFrom('compliance_collections')
      .select(['id', 'started_at'])
      .where('org_id', '=', ctx.orgId)
      .where('started_at', '>=', since)
      .orderBy('started_at', 'desc')
      .execute();
    const previous = recent[0];
    const failing = previous
      ? await ctx.db
          .selectFrom('compliance_results')
          .select('control_id')
          .where('org_id', '=', ctx.orgId)
          .where('collection_id', '=', previous.id)
          .where('status', '=', 'fail')
          .orderBy('control_id')
          .execute()
      : [];
    return [
      stateDraft('collections.history', {
        collections: recent.length,
        previousAt: previous?.started_at ?? null,
        previouslyFailing: failing.map((f) => f.control_id),
        asOf: ctx.now.toISOString(),
      } satisfies History),
    ];
  },
  test(evidence) {
    const h = dataOf<History>(evidence, 'collections.history');
    if (!h) return { status: 'fail', reason: 'The collection history is missing.' };
    const failing = h.previouslyFailing.length
      ? `; failing at the previous one: ${some(h.previouslyFailing)}`
      : '';
    if (h.previousAt && Date.parse(h.asOf) - Date.parse(h.previousAt) > GAP_LIMIT_MS) {
      return {
        status: 'warning',
        reason: `No collection between ${h.previousAt} and this one: controls went untested for ${Math.floor((Date.parse(h.asOf) - Date.parse(h.previousAt)) / DAY_MS)} days${failing}.`,
      };
    }
    if (!h.previousAt) return { status: 'pass', reason: 'The first collection: every control tested.' };
    return {
      status: 'pass',
      reason: `${count(h.collections, 'earlier collection')} in 30 days, every control tested at each${failing}.`,
    };
  },
};
