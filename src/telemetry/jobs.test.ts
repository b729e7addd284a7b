/**
 * Scheduled jobs in the metrics, from a real scheduler on both engines: one job that succeeds
 * and one that fails, each run once; the scrape (parsed as Prometheus would) counts each run by
 * its outcome once however often it is scraped, says which job is failing, how long since each
 * last succeeded (nothing for one that never has), and carries no error text.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../log/index.ts';
import { Scheduler } from '../scheduler/index.ts';
import { parsePrometheusText, total } from '../testing/prometheus-text.ts';
import { openTestStore, STORE_KINDS, type TestStore } from '../testing/stores.ts';
import { until } from '../testing/until.ts';
import { METRICS, Metrics } from './index.ts';

const HOUR = 3_600_000;
const SECRET_WORDS = 'the disk said no-7f3a9c';

for (const kind of STORE_KINDS) {
  describe(`scheduled jobs in the metrics [${kind}]`, () => {
    let t: TestStore;
    let scheduler: Scheduler;
    const metrics = new Metrics();

    before(async () => {
      t = await openTestStore(kind);
      scheduler = new Scheduler({
        store: t.store,
        databaseUrl: t.databaseUrl,
        log: silentLogger,
        firstRunAfterMs: 0,
        jitterMs: 0,
        jobs: [
          { name: 'test.tidy', intervalMs: HOUR, run: async () => ({ tidied: 3 }) },
          {
            name: 'test.broken',
            intervalMs: 2 * HOUR,
            run: async () => {
              throw new Error(SECRET_WORDS);
            },
          },
        ],
      });
      metrics.watch({
        db: t.store.db,
        cells: () => [],
        auditQueued: () => 0,
        runsInFlight: () => 0,
        mcpServers: () => new Map(),
        jobs: () => scheduler.status(),
      });
    });

    after(async () => {
      await scheduler?.close();
      await t?.cleanup();
    });

    test('before any run: each job with its interval, not failing, no age, no runs', async () => {
      const families = parsePrometheusText(await metrics.scrape());
      assert.equal(total(families, METRICS.jobInterval, { name: 'test.tidy' }), 3600);
      assert.equal(total(families, METRICS.jobInterval, { name: 'test.broken' }), 7200);
      assert.equal(total(families, METRICS.jobFailing), 0);
      assert.equal(total(families, METRICS.jobRuns), 0);
      assert.deepEqual(families.find((f) => f.name === METRICS.jobSuccessAge)?.samples, []);
    });

    test('after one run of each: runs by outcome (counted once over two scrapes), the failing job, the age of the last success', async () => {
      scheduler.start();
      await until(
        async () => {
          const s = await scheduler.status();
          return s.every((j) => j.lastRun?.endedAt) && s.every((j) => !j.here.running);
        },
        { what: 'both jobs to run' },
      );
      await metrics.scrape();
      const text = await metrics.scrape();
      const families = parsePrometheusText(text);
      const runs = (name: string, outcome: string) => total(families, METRICS.jobRuns, { name, outcome });
      assert.equal(runs('test.tidy', 'succeeded'), 1);
      assert.equal(runs('test.tidy', 'failed'), 0);
      assert.equal(runs('test.broken', 'failed'), 1);
      assert.equal(runs('test.broken', 'succeeded'), 0);
      assert.equal(total(families, METRICS.jobFailing, { name: 'test.broken' }), 1);
      assert.equal(total(families, METRICS.jobFailing, { name: 'test.tidy' }), 0);
      const age = families.find((f) => f.name === METRICS.jobSuccessAge)!.samples;
      assert.deepEqual(
        age.map((s) => s.labels.name),
        ['test.tidy'],
        'an age only for a job that has succeeded',
      );
      assert.ok(age[0]!.value >= 0 && age[0]!.value < 60, `${age[0]!.value} s since it ran`);
      assert.ok(!text.includes(SECRET_WORDS), 'no error text in the metrics');
    });
  });
}
