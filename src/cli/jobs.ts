/** `paddock jobs`: the platform's scheduled jobs and their last runs, as every replica recorded them, offline. */
import { type JobRun, jobStatus, recentRuns } from '../scheduler/index.ts';
import { PLATFORM_JOBS } from '../server/deps.ts';
import { openStore } from '../store/index.ts';
import type { Command } from './commands.ts';
import { parse, storeOptions } from './options.ts';
import { UsageError } from './output.ts';

/** 3600000 → `1h`, 90000 → `90s`: the largest unit that divides it. */
export function every(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

function took(run: JobRun): string {
  return run.endedAt ? `${Date.parse(run.endedAt) - Date.parse(run.startedAt)}ms` : '-';
}

/** A run's counts (`erased=12`), or its error when it failed. */
function result(run: JobRun): string {
  if (run.error) return run.error;
  const counts = Object.entries(run.counts ?? {});
  return counts.length ? counts.map(([k, n]) => `${k}=${n}`).join(' ') : '-';
}

export const jobs: Command = {
  summary: "List the scheduled jobs with their interval and last run, or one job's recent runs, offline",
  usage: `paddock jobs [--job <name> [--limit N]] [--home DIR] [--database-url URL]

  Without --job: each job, how often it runs, its last run (when, outcome, how long, which
  replica, its counts or error) and when it last succeeded. With --job: that job's recent runs,
  newest first (default 20). Reads what every replica recorded in the database.`,
  async run(args) {
    const v = parse(args, { job: { type: 'string' }, limit: { type: 'string' } });
    const limit = Number(v.limit ?? 20);
    if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit is a whole number, at least 1.');
    const name = v.job as string | undefined;
    if (name !== undefined && !PLATFORM_JOBS.some((j) => j.name === name))
      throw new UsageError(`No job "${name}". Jobs: ${PLATFORM_JOBS.map((j) => j.name).join(', ')}.`);
    const { opts } = storeOptions(v);
    const store = await openStore(opts);
    const out = (cells: string[]) => process.stdout.write(`${cells.join('\t')}\n`);
    try {
      if (name !== undefined) {
        out(['STARTED', 'OUTCOME', 'TOOK', 'REPLICA', 'RESULT']);
        for (const r of await recentRuns(store.db, name, limit))
          out([r.startedAt, r.outcome, took(r), r.replica, result(r)]);
        return;
      }
      out(['JOB', 'EVERY', 'LAST RUN', 'OUTCOME', 'TOOK', 'REPLICA', 'RESULT', 'LAST SUCCESS']);
      for (const s of await jobStatus(store.db, PLATFORM_JOBS)) {
        const r = s.lastRun;
        out(
          r
            ? [
                s.name,
                every(s.intervalMs),
                r.startedAt,
                r.outcome,
                took(r),
                r.replica,
                result(r),
                s.lastSucceededAt ?? 'never',
              ]
            : [s.name, every(s.intervalMs), 'never', '-', '-', '-', '-', 'never'],
        );
      }
    } finally {
      await store.close();
    }
  },
};
