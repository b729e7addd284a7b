/**
 * The scheduler on both engines: jobs run at their interval and are recorded with their counts,
 * a failing job is recorded and the others keep going, a slow job is never started twice, close
 * waits for running jobs, history stays bounded. On PostgreSQL, two schedulers on one database
 * (two stores in this process, as two replicas would be) run a job on one at a time, and a holder
 * whose connection dies mid-run gives the job up to the other and cannot write after.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import pg from 'pg';
import { silentLogger } from '../log/index.ts';
import { openStore, type Store } from '../store/index.ts';
import { onCleanup, openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { until } from '../testing/until.ts';
import type { Job } from './job.ts';
import { beginRun, finishRun, recentRuns } from './runs.ts';
import { Scheduler, type SchedulerOptions } from './scheduler.ts';

/** A started scheduler with no start delay or jitter, closed with the store. */
function scheduler(t: TestStore, jobs: Job[], opts: Partial<SchedulerOptions> = {}, store = t.store) {
  const s = new Scheduler({
    store,
    databaseUrl: t.databaseUrl,
    jobs,
    log: silentLogger,
    firstRunAfterMs: 0,
    jitterMs: 0,
    ...opts,
  });
  onCleanup(t.store, () => s.close());
  s.start();
  return s;
}

async function here(s: Scheduler, job: string) {
  const status = await s.status();
  return status.find((j) => j.name === job)!.here;
}

for (const kind of STORE_KINDS) {
  describe(`scheduler [${kind}]`, () => {
    let t: TestStore;
    before(async () => {
      t = await openTestStore(kind);
    });
    after(() => t.cleanup());

    test('a job runs at its interval, and each run is recorded with the counts it returned', async () => {
      let n = 0;
      const s = scheduler(t, [{ name: 'test.counting', intervalMs: 150, run: async () => ({ n: ++n }) }], {
        replica: 'r1',
      });
      const runs = await until(
        async () => {
          const r = await recentRuns(t.store.db, 'test.counting', 10);
          return r.filter((x) => x.outcome === 'succeeded').length >= 3 && r;
        },
        { what: 'three recorded runs' },
      );
      const done = runs.filter((r) => r.outcome === 'succeeded').reverse();
      assert.deepEqual(
        done.slice(0, 3).map((r) => r.counts),
        [{ n: 1 }, { n: 2 }, { n: 3 }],
      );
      for (const r of done) {
        assert.equal(r.replica, 'r1');
        assert.ok(r.endedAt && r.endedAt >= r.startedAt);
      }
      // Never sooner than the interval allows (the slack is for jitter and clocks across replicas).
      for (let i = 1; i < done.length; i++) {
        const gap = Date.parse(done[i]!.startedAt) - Date.parse(done[i - 1]!.startedAt);
        assert.ok(gap >= 135, `runs ${gap} ms apart`);
      }
      const [status] = await s.status();
      assert.equal(status!.intervalMs, 150);
      assert.equal(status!.lastSucceededAt, status!.lastRun!.startedAt);
      await s.close();
    });

    test('a failing job is recorded failed with its error redacted, and the other jobs keep running', async () => {
      let fine = 0;
      const s = scheduler(t, [
        {
          name: 'test.failing',
          intervalMs: 60,
          run: async () => {
            throw new Error('upstream refused pdk_0123456789abcdefghijklmnop');
          },
        },
        {
          name: 'test.throws-anything',
          intervalMs: 60,
          run: () => {
            throw 'not even an Error';
          },
        },
        { name: 'test.fine', intervalMs: 60, run: async () => ({ fine: ++fine }) },
      ]);
      await until(
        async () => {
          const failed = (await recentRuns(t.store.db, 'test.failing', 10)).filter(
            (r) => r.outcome === 'failed',
          );
          return failed.length >= 2 && fine >= 3;
        },
        { what: 'the failing job retried while the fine one keeps running' },
      );
      // The newest run may be a next attempt still running: the newest that ended is the one to read.
      const failed = (await recentRuns(t.store.db, 'test.failing', 10)).find((r) => r.outcome !== 'running');
      assert.equal(failed!.outcome, 'failed');
      assert.equal(failed!.error, 'upstream refused [REDACTED]');
      assert.ok(failed!.endedAt);
      const [odd] = await until(async () => {
        const r = await recentRuns(t.store.db, 'test.throws-anything', 1);
        return r[0]?.outcome === 'failed' && r;
      });
      assert.equal(odd!.error, 'not even an Error');
      assert.ok((await here(s, 'test.failing')).failed >= 2);
      assert.equal((await here(s, 'test.fine')).failed, 0);
      await s.close();
    });

    test('a job still running at its next ticks is not started again', async () => {
      let active = 0;
      let most = 0;
      let started = 0;
      let release = false;
      const s = scheduler(t, [
        {
          name: 'test.slow',
          intervalMs: 20,
          run: async () => {
            started += 1;
            active += 1;
            most = Math.max(most, active);
            await until(() => release, { timeoutMs: 60_000 });
            active -= 1;
            return {};
          },
        },
      ]);
      await until(async () => (await here(s, 'test.slow')).skipped.busy >= 3, { what: 'three busy ticks' });
      assert.equal(started, 1);
      release = true;
      await until(async () => (await recentRuns(t.store.db, 'test.slow', 1))[0]?.outcome === 'succeeded');
      await s.close();
      assert.equal(most, 1);
    });

    test('close() stops the timers and waits for a running job to end and be recorded', async () => {
      let started = false;
      let runs = 0;
      const s = new Scheduler({
        store: t.store,
        databaseUrl: t.databaseUrl,
        log: silentLogger,
        firstRunAfterMs: 0,
        jitterMs: 0,
        jobs: [
          {
            name: 'test.closing',
            intervalMs: 20,
            run: async ({ signal }) => {
              runs += 1;
              started = true;
              await until(() => signal.aborted, { timeoutMs: 60_000 });
              return { stopped: 1 };
            },
          },
        ],
      });
      s.start();
      await until(() => started, { what: 'the job to start' });
      await s.close();
      const [run] = await recentRuns(t.store.db, 'test.closing', 5);
      assert.equal(run!.outcome, 'succeeded');
      assert.deepEqual(run!.counts, { stopped: 1 });
      assert.equal(runs, 1);
      assert.equal((await here(s, 'test.closing')).running, false);
    });

    test('each job keeps a bounded history of runs', async () => {
      let n = 0;
      const s = scheduler(t, [{ name: 'test.pruned', intervalMs: 10, run: async () => ({ n: ++n }) }], {
        keepRuns: 3,
      });
      await until(() => n >= 6, { what: 'six runs' });
      await s.close();
      const runs = await recentRuns(t.store.db, 'test.pruned', 100);
      assert.equal(runs.length, 3);
      assert.deepEqual(
        runs.map((r) => r.counts),
        [{ n }, { n: n - 1 }, { n: n - 2 }],
      );
    });

    test('a run left running by a process that died is marked abandoned, and the job runs again', async () => {
      await beginRun(t.store.db, 'test.crashed', 'gone#1', new Date().toISOString());
      let ran = 0;
      const s = scheduler(
        t,
        [{ name: 'test.crashed', intervalMs: 3_600_000, run: async () => ({ ran: ++ran }) }],
        {
          replica: 'r2',
        },
      );
      const runs = await until(async () => {
        const r = await recentRuns(t.store.db, 'test.crashed', 10);
        return r[0]?.outcome === 'succeeded' && r;
      });
      assert.deepEqual(
        runs.map((r) => [r.replica, r.outcome]),
        [
          ['r2', 'succeeded'],
          ['gone#1', 'abandoned'],
        ],
      );
      assert.equal(ran, 1);
      await s.close();
    });

    test('a job some replica ran within its interval is skipped until it is due', async () => {
      const now = Date.now();
      for (const [job, startedAt] of [
        ['test.recent', now - 60_000],
        ['test.stale', now - 2 * 3_600_000],
      ] as const) {
        const seq = await beginRun(t.store.db, job, 'other#1', new Date(startedAt).toISOString());
        await finishRun(t.store.db, seq, {
          outcome: 'succeeded',
          endedAt: new Date(startedAt).toISOString(),
        });
      }
      const ran: string[] = [];
      const job = (name: string): Job => ({
        name,
        intervalMs: 3_600_000,
        run: async () => {
          ran.push(name);
          return {};
        },
      });
      const s = scheduler(t, [job('test.recent'), job('test.stale')]);
      await until(
        async () => (await here(s, 'test.recent')).skipped.notDue === 1 && ran.includes('test.stale'),
      );
      assert.deepEqual(ran, ['test.stale']);
      await s.close();
    });
  });
}

describe('scheduler: two replicas on one PostgreSQL database', () => {
  let t: TestStore;
  let other: Store;
  before(async () => {
    t = await openTestStore('postgres');
    other = await openStore({ home: t.home, databaseUrl: t.databaseUrl });
    onCleanup(t.store, () => other.close());
  });
  after(() => t.cleanup());

  test('while one replica runs a job, the other skips it (held) and never starts it', async () => {
    const started: string[] = [];
    let release = false;
    const job = (who: string): Job => ({
      name: 'test.exclusive',
      intervalMs: 30,
      run: async () => {
        started.push(who);
        await until(() => release, { timeoutMs: 60_000 });
        return {};
      },
    });
    const a = scheduler(t, [job('a')], { replica: 'a' });
    await until(() => started.length === 1, { what: 'a to start the job' });
    const b = scheduler(t, [job('b')], { replica: 'b' }, other);
    await until(async () => (await here(b, 'test.exclusive')).skipped.held >= 3, {
      what: 'b to find it held',
    });
    assert.deepEqual(started, ['a']);
    release = true;
    await until(async () => (await recentRuns(t.store.db, 'test.exclusive', 1))[0]?.outcome === 'succeeded');
    await Promise.all([a.close(), b.close()]);
  });

  test('two replicas ticking a job slower than its interval never run it at the same time', async () => {
    const spans: Array<{ who: string; from: number; to: number }> = [];
    const job = (who: string): Job => ({
      name: 'test.contended',
      intervalMs: 25,
      run: async () => {
        const from = performance.now();
        await sleep(40); // the job's own work, not a wait for an event
        spans.push({ who, from, to: performance.now() });
        return {};
      },
    });
    const a = scheduler(t, [job('a')], { replica: 'a', jitterMs: 5 });
    const b = scheduler(t, [job('b')], { replica: 'b', jitterMs: 5 }, other);
    await until(() => spans.length >= 8, { what: 'eight runs', timeoutMs: 60_000 });
    await Promise.all([a.close(), b.close()]);
    spans.sort((x, y) => x.from - y.from);
    for (let i = 1; i < spans.length; i++) {
      assert.ok(
        spans[i]!.from >= spans[i - 1]!.to,
        `run ${i} (${spans[i]!.who}) began before run ${i - 1} ended`,
      );
    }
    const held =
      (await here(a, 'test.contended')).skipped.held + (await here(b, 'test.contended')).skipped.held;
    assert.ok(held > 0, 'the lock was contended');
    const recorded = await recentRuns(t.store.db, 'test.contended', 100);
    assert.equal(recorded.filter((r) => r.outcome === 'succeeded').length, spans.length);
  });

  test('a holder whose connection dies mid-run releases the job to the other, and cannot write after', async () => {
    let pid: number | undefined;
    let fenced: unknown;
    const a = scheduler(
      t,
      [
        {
          name: 'test.takeover',
          // One run only: a is not to take the job back once it lost it.
          intervalMs: 3_600_000,
          run: async ({ db, signal }) => {
            pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db)).rows[0]!.pid;
            await until(() => signal.aborted, { timeoutMs: 60_000 });
            try {
              await db
                .insertInto('job_runs')
                .values({
                  job: 'test.fence',
                  replica: 'a',
                  started_at: new Date().toISOString(),
                  outcome: 'late',
                })
                .execute();
            } catch (err) {
              fenced = err;
            }
            throw signal.reason;
          },
        },
      ],
      { replica: 'a' },
    );
    await until(() => pid, { what: 'a to hold the job' });
    const b = scheduler(
      t,
      [{ name: 'test.takeover', intervalMs: 30, run: async () => ({ took: 1 }) }],
      { replica: 'b' },
      other,
    );
    await until(async () => (await here(b, 'test.takeover')).skipped.held >= 1, {
      what: 'b to find it held',
    });

    const admin = new pg.Client({ connectionString: t.databaseUrl });
    await admin.connect();
    try {
      await admin.query('select pg_terminate_backend($1)', [pid]);
    } finally {
      await admin.end();
    }

    const runs = await until(
      async () => {
        const r = await recentRuns(t.store.db, 'test.takeover', 10);
        return r.some((x) => x.replica === 'b' && x.outcome === 'succeeded') && r;
      },
      { what: 'b to take the job over' },
    );
    await until(() => fenced, { what: "a's late write to fail" });
    assert.equal((await recentRuns(t.store.db, 'test.fence', 10)).length, 0, "a's late write did not land");
    const aRun = runs.find((r) => r.replica === 'a')!;
    assert.ok(['failed', 'abandoned'].includes(aRun.outcome), aRun.outcome);
    assert.equal((await here(a, 'test.takeover')).runs, 1);
    await a.close();
    await b.close();
  });
});
