/**
 * PAD-CHG-01 — configuration change history. Every change (people, roles, agents, grants,
 * connections, secrets, settings) writes its audit entry in its own transaction; agents keep
 * every version. Evidence: all entries of the period by action (the changes among them), the
 * agent versions made in the period, and changes whose entries still wait for their place in
 * the tree (there must be none older than a few minutes: the log's writer would be stuck).
 */
import { count, dataOf, figureDraft, type PaddockControl, stateDraft } from './context.ts';

/** Actions of agents at work and of the platform, not configuration changes. */
const ACTIVITY = ['tool.', 'model.', 'run.', 'cell.', 'egress.', 'approval.', 'person.signed_in', 'audit.'];
export const STUCK_AFTER_MS = 5 * 60_000;

interface Pending {
  stuck: number;
  oldest: string | null;
}

export function isChange(action: string): boolean {
  return !ACTIVITY.some((p) => action.startsWith(p));
}

export const changes: PaddockControl = {
  id: 'PAD-CHG-01',
  title: 'Configuration change history',
  description:
    'Every configuration change is recorded with who, what, when and the before/after values, in the same transaction as the change (no change without its record); agents are versioned. The history is the audit log itself.',
  criteria: ['CC3.4', 'CC7.1', 'CC8.1'],
  async collect(ctx) {
    const cutoff = new Date(ctx.now.getTime() - STUCK_AFTER_MS).toISOString();
    const pending = await ctx.db
      .selectFrom('audit_outbox')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('time').as('oldest')])
      .where('log_id', '=', ctx.orgId)
      .where('time', '<', cutoff)
      .executeTakeFirstOrThrow();
    const versions = await ctx.db
      .selectFrom('agent_versions')
      .select(['agent_id', 'version', 'changed_by', 'changed_at'])
      .where('org_id', '=', ctx.orgId)
      .where('changed_at', '>=', ctx.period.from)
      .where('changed_at', '<', ctx.period.to)
      .orderBy('changed_at')
      .orderBy('agent_id')
      .execute();
    return [
      figureDraft(ctx, 'log.by_action', { name: 'entries by action', where: {}, by: 'action' }),
      stateDraft('agents.versions', {
        versions: versions.map((v) => ({
          agent: v.agent_id,
          version: v.version,
          changedBy: v.changed_by,
          changedAt: v.changed_at,
        })),
      }),
      stateDraft('changes.pending', {
        stuck: Number(pending.n),
        oldest: (pending.oldest as string | null) ?? null,
      } satisfies Pending),
    ];
  },
  test(evidence) {
    const byAction = dataOf<{ value: Record<string, number> }>(evidence, 'log.by_action');
    const pending = dataOf<Pending>(evidence, 'changes.pending');
    if (!byAction || !pending) return { status: 'fail', reason: 'The change history evidence is missing.' };
    if (pending.stuck > 0) {
      return {
        status: 'fail',
        reason: `${count(pending.stuck, 'recorded change')} waited more than ${STUCK_AFTER_MS / 60_000} minutes for its place in the log (oldest from ${pending.oldest}): the log’s writer is not placing entries.`,
      };
    }
    const n = Object.entries(byAction.value)
      .filter(([a]) => isChange(a))
      .reduce((x, [, v]) => x + v, 0);
    return {
      status: 'pass',
      reason: `${count(n, 'configuration change')} in the period, each in the log with who, what and when; none waiting.`,
    };
  },
};
