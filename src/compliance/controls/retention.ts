/**
 * PAD-RET-01 — retention and deletion. The org's policy (`auditRetentionDays`) erases the
 * details of older entries hourly, on record; its record policy (`runRetentionDays`,
 * `conversationRetentionDays`, `memoryRetentionDays`) deletes run records, conversations and
 * agents' memory daily, on record; deletion requests erase what they list, on record; headers
 * and proofs stay. Evidence: the policies, each retention job's latest run, and the erasure
 * records of the period from the log (each with its cutoff or list and its count).
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

interface JobState {
  lastJobRun: { startedAt: string; outcome: string } | null;
  lastSucceededAt: string | null;
}

interface Policy extends JobState {
  auditRetentionDays: number | null;
  runTextRecording: string;
  /** Run records, conversations and memory (absent in evidence collected before it was kept). */
  records?: JobState & {
    runRetentionDays: number | null;
    conversationRetentionDays: number | null;
    memoryRetentionDays: number | null;
  };
  asOf: string;
}

/** A retention job's latest run, and its latest good one. */
async function jobState(ctx: CollectorContext, job: string): Promise<JobState> {
  const runs = await ctx.db
    .selectFrom('job_runs')
    .select(['started_at', 'outcome'])
    .where('job', '=', job)
    .orderBy('seq', 'desc')
    .limit(50)
    .execute();
  const ok = runs.find((r) => r.outcome === 'succeeded');
  return {
    lastJobRun: runs[0] ? { startedAt: runs[0].started_at, outcome: runs[0].outcome } : null,
    lastSucceededAt: ok?.started_at ?? null,
  };
}

const late = (p: Pick<Policy, 'asOf'>, job: JobState) =>
  !job.lastSucceededAt || Date.parse(p.asOf) - Date.parse(job.lastSucceededAt) > RETENTION_LATE_MS;

/** The record policy in words, for the reason. */
function recordRules(r: NonNullable<Policy['records']>): string {
  const rules = [
    r.runRetentionDays ? `run records after ${r.runRetentionDays} days` : null,
    r.conversationRetentionDays ? `conversations after ${r.conversationRetentionDays} days` : null,
    r.memoryRetentionDays ? `agents’ memory after ${r.memoryRetentionDays} days` : null,
  ].filter(Boolean);
  return rules.length ? `deletes ${rules.join(', ')} daily` : 'keeps run records, conversations and memory';
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
    const settings = ctx.org.settings;
    return [
      stateDraft('retention.policy', {
        auditRetentionDays: settings.auditRetentionDays,
        runTextRecording: settings.runTextRecording,
        ...(await jobState(ctx, 'audit.retention')),
        records: {
          runRetentionDays: settings.runRetentionDays,
          conversationRetentionDays: settings.conversationRetentionDays,
          memoryRetentionDays: settings.memoryRetentionDays ?? null,
          ...(await jobState(ctx, 'records.retention')),
        },
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
    const r = p.records;
    const records = r ? ` The record policy ${recordRules(r)}.` : '';
    const recordsSet = r && (r.runRetentionDays || r.conversationRetentionDays || r.memoryRetentionDays);
    if (r && recordsSet && late(p, r)) {
      return {
        status: 'fail',
        reason: `Record retention has not run successfully ${r.lastSucceededAt ? `since ${r.lastSucceededAt}` : 'yet'}${r.lastJobRun ? ` (last run ${r.lastJobRun.outcome})` : ''}.${records}`,
      };
    }
    if (p.auditRetentionDays === null) {
      return {
        status: 'warning',
        reason: `No retention policy: audit details are kept with no limit (set auditRetentionDays). ${summary}.${records}`,
      };
    }
    if (late(p, p)) {
      return {
        status: 'fail',
        reason: `Retention (${p.auditRetentionDays} days) has not run successfully ${p.lastSucceededAt ? `since ${p.lastSucceededAt}` : 'yet'}${p.lastJobRun ? ` (last run ${p.lastJobRun.outcome})` : ''}.`,
      };
    }
    return {
      status: 'pass',
      reason: `Details older than ${p.auditRetentionDays} days are erased hourly; ${summary}.${records}`,
    };
  },
};
