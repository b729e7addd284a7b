/**
 * PAD-RET-01 — retention and deletion. The org's policy (`auditRetentionDays`) erases the
 * details of older entries hourly, on record; deletion requests erase what they list, on
 * record; headers and proofs stay. Evidence: the policy, the retention job's latest run, and
 * the erasure records of the period from the log (each with its cutoff or list and its count).
 */
import { ERASURE } from '../../audit/index.ts';
import {
  type CollectorContext,
  count,
  DAY_MS,
  type Draft,
  dataOf,
  figureDraft,
  type PaddockControl,
  stateDraft,
} from './context.ts';

/** The retention job runs hourly; this long without a good run means it is not running. */
export const RETENTION_LATE_MS = 2 * DAY_MS;

interface Policy {
  auditRetentionDays: number | null;
  runTextRecording: string;
  lastJobRun: { startedAt: string; outcome: string } | null;
  lastSucceededAt: string | null;
  asOf: string;
}

interface Erasures {
  value: Record<string, number>;
  records: Array<{ index: number; action: string; count: number | null }>;
}

async function erasures(ctx: CollectorContext): Promise<Draft> {
  const [a, b] = ctx.log.snapshot.range;
  const rows = await ctx.db
    .selectFrom('audit_entries')
    .select(['idx', 'time', 'action', 'actor_id', 'details'])
    .where('log_id', '=', ctx.orgId)
    .where('action', 'in', [ERASURE.retention, ERASURE.request])
    .where('idx', '>=', a)
    .where('idx', '<', b)
    .orderBy('idx')
    .execute();
  return figureDraft(
    ctx,
    'retention.erasures',
    { name: 'erasures by kind', where: { actions: [ERASURE.retention, ERASURE.request] }, by: 'action' },
    {
      records: rows.map((r) => {
        const d = (r.details ? JSON.parse(r.details) : {}) as {
          count?: number;
          cutoff?: string;
          reason?: string;
        };
        return {
          index: Number(r.idx),
          time: r.time,
          action: r.action,
          by: r.actor_id,
          count: d.count ?? null,
          cutoff: d.cutoff ?? null,
        };
      }),
    },
  );
}

export const retention: PaddockControl = {
  id: 'PAD-RET-01',
  title: 'Retention and deletion',
  description:
    'Audit details older than the organization’s retention policy are erased hourly, and deletion requests erase a person’s data or an agent’s memory; each erasure is itself an entry naming what it erased, while headers and proofs stay verifiable.',
  criteria: ['C1.2', 'CC6.5', 'P4.2', 'P4.3'],
  async collect(ctx) {
    const runs = await ctx.db
      .selectFrom('job_runs')
      .select(['started_at', 'outcome'])
      .where('job', '=', 'audit.retention')
      .orderBy('seq', 'desc')
      .limit(50)
      .execute();
    const ok = runs.find((r) => r.outcome === 'succeeded');
    return [
      stateDraft('retention.policy', {
        auditRetentionDays: ctx.org.settings.auditRetentionDays,
        runTextRecording: ctx.org.settings.runTextRecording,
        lastJobRun: runs[0] ? { startedAt: runs[0].started_at, outcome: runs[0].outcome } : null,
        lastSucceededAt: ok?.started_at ?? null,
        asOf: ctx.now.toISOString(),
      } satisfies Policy),
      await erasures(ctx),
    ];
  },
  test(evidence) {
    const p = dataOf<Policy>(evidence, 'retention.policy');
    const e = dataOf<Erasures>(evidence, 'retention.erasures');
    if (!p || !e) return { status: 'fail', reason: 'The retention evidence is missing.' };
    const runs = e.value[ERASURE.retention] ?? 0;
    const requests = e.value[ERASURE.request] ?? 0;
    const erased = e.records.reduce((n, r) => n + (r.count ?? 0), 0);
    const summary = `${count(runs, 'retention run')} and ${count(requests, 'deletion request')} in the period, ${count(erased, 'payload')} erased on record`;
    if (p.auditRetentionDays === null) {
      return {
        status: 'warning',
        reason: `No retention policy: audit details are kept with no limit (set auditRetentionDays). ${summary}.`,
      };
    }
    const late = !p.lastSucceededAt || Date.parse(p.asOf) - Date.parse(p.lastSucceededAt) > RETENTION_LATE_MS;
    if (late) {
      return {
        status: 'fail',
        reason: `Retention (${p.auditRetentionDays} days) has not run successfully ${p.lastSucceededAt ? `since ${p.lastSucceededAt}` : 'yet'}${p.lastJobRun ? ` (last run ${p.lastJobRun.outcome})` : ''}.`,
      };
    }
    return {
      status: 'pass',
      reason: `Details older than ${p.auditRetentionDays} days are erased hourly; ${summary}.`,
    };
  },
};
