/**
 * PAD-OPS-01 — agent activity monitoring. Every run and model call is on record with its
 * agent, status, provider and model. Evidence: runs of the period by status, run entries and
 * model calls (population per provider and model) from the log. Many failed runs warn.
 */
import { count, dataOf, figureDraft, type PaddockControl, stateDraft } from './context.ts';

/** Failing runs above this share (with at least `MIN_RUNS` runs) warn. */
export const FAILURE_SHARE = 0.25;
export const MIN_RUNS = 10;

export const activity: PaddockControl = {
  id: 'PAD-OPS-01',
  title: 'Agent activity monitoring',
  description:
    'Every agent run (who started it, by which channel, its status and steps) and every model call (provider, model, tokens, latency) is recorded in the organization’s log and counted here, so failures and unusual use show.',
  criteria: ['CC7.2', 'PI1.3', 'A1.1'],
  async collect(ctx) {
    const rows = await ctx.db
      .selectFrom('runs')
      .select((eb) => ['status', eb.fn.countAll<number>().as('n')])
      .where('org_id', '=', ctx.orgId)
      .where('created_at', '>=', ctx.period.from)
      .where('created_at', '<', ctx.period.to)
      .groupBy('status')
      .execute();
    const byStatus = Object.fromEntries(
      rows.map((r) => [r.status, Number(r.n)] as const).sort(([a], [b]) => a.localeCompare(b)),
    );
    return [
      stateDraft('runs.by_status', { byStatus }),
      figureDraft(ctx, 'runs.entries', {
        name: 'run entries by action',
        where: { prefix: 'run.' },
        by: 'action',
      }),
      figureDraft(ctx, 'model_calls.by_model', {
        name: 'model calls by provider and model',
        where: { actions: ['model.called'] },
        by: 'target',
      }),
    ];
  },
  test(evidence) {
    const runs = dataOf<{ byStatus: Record<string, number> }>(evidence, 'runs.by_status');
    const calls = dataOf<{ value: Record<string, number> }>(evidence, 'model_calls.by_model');
    if (!runs || !calls) return { status: 'fail', reason: 'The activity evidence is missing.' };
    const total = Object.values(runs.byStatus).reduce((a, b) => a + b, 0);
    const failed = runs.byStatus.failed ?? 0;
    const modelCalls = Object.values(calls.value).reduce((a, b) => a + b, 0);
    const summary = `${count(total, 'run')} in the period (${
      Object.entries(runs.byStatus)
        .map(([s, n]) => `${n} ${s}`)
        .join(', ') || 'none'
    }); ${count(modelCalls, 'model call')} to ${count(Object.keys(calls.value).length, 'model')}`;
    if (total >= MIN_RUNS && failed / total > FAILURE_SHARE) {
      return { status: 'warning', reason: `${failed} of ${total} runs failed. ${summary}.` };
    }
    return { status: 'pass', reason: `${summary}.` };
  },
};
