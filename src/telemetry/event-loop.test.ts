import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { parsePrometheusText, total } from '../testing/prometheus-text.ts';
import { collectProcessMetrics, EVENT_LOOP_METRICS } from './event-loop.ts';

/** One scrape of `registry`, read as Prometheus reads it: a series' value by name and labels. */
async function scrape(
  registry: Registry,
): Promise<(name: string, labels?: Record<string, string>) => number> {
  const families = parsePrometheusText(await registry.metrics());
  return (name, labels = {}) => {
    assert.ok(
      families.some((f) => f.name === name),
      `${name} is exported`,
    );
    return total(families, name, labels);
  };
}

/** Keeps the event loop busy for `ms` (a long synchronous task, as a hot loop or a large JSON.parse is). */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

test("every one of prom-client's default series is exported, of the same type, plus the loop's time by state", async () => {
  const theirs = new Registry();
  collectDefaultMetrics({ register: theirs });
  const ours = new Registry();
  collectProcessMetrics(ours);
  const types = (r: Registry) =>
    new Map(
      (r.getMetricsAsArray() as unknown as Array<{ name: string; type: string }>).map((m) => [
        m.name,
        m.type,
      ]),
    );
  const [t, o] = [types(theirs), types(ours)];
  for (const [name, type] of t) assert.equal(o.get(name), type, `${name} is exported as a ${type}`);
  assert.deepEqual(
    [...o.keys()].filter((n) => !t.has(n)),
    [EVENT_LOOP_METRICS.time],
  );
});

test('the lag reads how late each sample ran: near 0 idle, a blocked loop by how long it was blocked, each scrape its own period', async () => {
  const registry = new Registry();
  const sampling = collectProcessMetrics(registry, 20);
  await sleep(300);
  let read = await scrape(registry);
  // prom-client's own reads ~0.02 s here (the interval), at p50 and at the least.
  assert.ok(read(EVENT_LOOP_METRICS.lagP50) < 0.01, `idle p50 ${read(EVENT_LOOP_METRICS.lagP50)} s`);
  const min = read(EVENT_LOOP_METRICS.lagMin);
  assert.ok(min < 0.005, `idle min ${min} s`);
  // A sample on time reads 0, not the histogram's floor of 1 ns.
  assert.ok(min === 0 || min >= 1e-6, `idle min ${min} s`);

  block(300);
  await sleep(60);
  read = await scrape(registry);
  const max = read(EVENT_LOOP_METRICS.lagMax);
  assert.ok(max >= 0.25 && max < 1, `a 300 ms block read as ${max} s at most`);
  assert.ok(read(EVENT_LOOP_METRICS.lagP99) >= 0.25, 'and at p99');

  // The next scrape starts a period of its own: the block is no longer in it.
  await sleep(200);
  read = await scrape(registry);
  assert.ok(
    read(EVENT_LOOP_METRICS.lagMax) < 0.1,
    `the next period's max ${read(EVENT_LOOP_METRICS.lagMax)} s`,
  );

  // Stopped (the server closing), it samples no more: a block is not seen, the period is empty.
  // (A sample may have run between the scrape above and the stop: a scrape first ends its period.)
  sampling.stop();
  await scrape(registry);
  block(100);
  await sleep(60);
  read = await scrape(registry);
  assert.equal(read(EVENT_LOOP_METRICS.lagMax), 0);
});

test("the loop's active and idle time are counted without sampling: a blocked loop adds active time, a waiting one idle time", async () => {
  const registry = new Registry();
  collectProcessMetrics(registry);
  const before = await scrape(registry);
  block(200);
  await sleep(200);
  const after = await scrape(registry);
  const grew = (state: string) =>
    after(EVENT_LOOP_METRICS.time, { state }) - before(EVENT_LOOP_METRICS.time, { state });
  assert.ok(grew('active') >= 0.19 && grew('active') < 0.4, `active grew ${grew('active')} s`);
  assert.ok(grew('idle') >= 0.15 && grew('idle') < 0.4, `idle grew ${grew('idle')} s`);
});
