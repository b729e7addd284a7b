/**
 * prom-client's process and Node.js figures, but the event loop's measured without waking an idle
 * server 20 times a second. prom-client samples the loop's delay with a timer (50 ms here, 10 ms
 * by its default); on a VM each wakeup costs ~0.1 ms of CPU, so an idle server spent 2 ms a
 * second on it, and a governed call at 180 calls a second ~1.3% of its CPU
 * (`bench/telemetry.bench.ts`). Here the loop's busy and idle time come from Node's own count
 * (`performance.eventLoopUtilization`: no sampling at all), and the delay is sampled four times
 * a second. prom-client's lag figures also count the sampling interval itself (an idle loop read
 * 50 ms at p50); these report only how late each sample ran.
 */
import { createRequire } from 'node:module';
import { createHistogram, performance } from 'node:perf_hooks';
import { setImmediate } from 'node:timers/promises';
import { Counter, collectDefaultMetrics, Gauge, type Registry } from 'prom-client';

/** How often the loop's delay is sampled: 60 samples a 15 s scrape, 4 wakeups a second idle. */
export const EVENT_LOOP_SAMPLE_MS = 250;

/** The event loop's series, by prom-client's names where it has one (dashboards for Node know them). */
export const EVENT_LOOP_METRICS = {
  time: 'nodejs_eventloop_time_seconds_total',
  lag: 'nodejs_eventloop_lag_seconds',
  lagMin: 'nodejs_eventloop_lag_min_seconds',
  lagMax: 'nodejs_eventloop_lag_max_seconds',
  lagMean: 'nodejs_eventloop_lag_mean_seconds',
  lagStddev: 'nodejs_eventloop_lag_stddev_seconds',
  lagP50: 'nodejs_eventloop_lag_p50_seconds',
  lagP90: 'nodejs_eventloop_lag_p90_seconds',
  lagP99: 'nodejs_eventloop_lag_p99_seconds',
} as const;

type DefaultMetric = (registry: Registry, config: object) => void;
const requireCjs = createRequire(import.meta.url);

/**
 * prom-client's defaults (its own list, so a version adding one brings it) but its event loop
 * lag, each registered as `collectDefaultMetrics` registers it; the event loop's own below, its
 * sampler stopped by `stop`.
 */
export function collectProcessMetrics(registry: Registry, sampleMs = EVENT_LOOP_SAMPLE_MS): { stop(): void } {
  for (const name of collectDefaultMetrics.metricsList) {
    if (name === 'eventLoopLag') continue;
    // The Node-version guard `collectDefaultMetrics` applies to this one.
    if (name === 'processResources' && typeof process.getActiveResourcesInfo !== 'function') continue;
    (requireCjs(`prom-client/lib/metrics/${name}`) as DefaultMetric)(registry, {});
  }
  return collectEventLoop(registry, sampleMs);
}

/** The event loop's time by state, and how late its samples ran since the last scrape. */
function collectEventLoop(registry: Registry, sampleMs: number): { stop(): void } {
  const registers = [registry];
  // A timer of our own, not Node's `monitorEventLoopDelay`: resetting that at each scrape drops
  // the sample after it, so a block begun just after a scrape went unseen.
  const late = createHistogram();
  let due = performance.now() + sampleMs;
  const sampler = setTimeout(function sample() {
    const now = performance.now();
    late.record(Math.max(1, Math.round((now - due) * 1e6)));
    due = now + sampleMs;
    sampler.refresh();
  }, sampleMs);
  sampler.unref();
  // A sample is recorded as at least 1 ns (the histogram's floor): that is on time, read as 0.
  const seconds = (ns: number) => (ns <= 1 ? 0 : ns / 1e9);
  const figures = {
    lagMin: () => seconds(late.min),
    lagMax: () => seconds(late.max),
    lagMean: () => seconds(late.mean),
    lagStddev: () => seconds(late.stddev),
    lagP50: () => seconds(late.percentile(50)),
    lagP90: () => seconds(late.percentile(90)),
    lagP99: () => seconds(late.percentile(99)),
  };
  // Registered first: a scrape reads the registry's metrics in order, each up to its first await,
  // so this one's reading sets the figures below before they are read, and starts the next period.
  const figureGauges: Array<{ read: () => number; gauge: Gauge }> = [];
  new Gauge({
    name: EVENT_LOOP_METRICS.lag,
    help: 'How long a callback queued at scrape time waited for the event loop, in seconds.',
    registers,
    async collect() {
      // An empty period (no sample since the last scrape: it came within a sample's interval) reads 0.
      const sampled = late.count > 0;
      for (const { read, gauge } of figureGauges) gauge.set(sampled ? read() : 0);
      late.reset();
      const t0 = performance.now();
      await setImmediate();
      this.set((performance.now() - t0) / 1000);
    },
  });
  for (const [key, read] of Object.entries(figures) as Array<[keyof typeof figures, () => number]>)
    figureGauges.push({
      read,
      gauge: new Gauge({ name: EVENT_LOOP_METRICS[key], help: HELP[key], registers }),
    });
  new Counter({
    name: EVENT_LOOP_METRICS.time,
    help: 'Time the event loop spent running callbacks (active) and waiting for work (idle), in seconds, since start: rate(active) over rate of both is its utilization.',
    labelNames: ['state'] as const,
    registers,
    collect() {
      const { active, idle } = performance.eventLoopUtilization();
      this.reset();
      this.inc({ state: 'active' }, active / 1000);
      this.inc({ state: 'idle' }, idle / 1000);
    },
  });
  return { stop: () => clearTimeout(sampler) };
}

const HELP = {
  lagMin: 'How late the least late sample of the event loop ran since the last scrape, in seconds.',
  lagMax: 'How late the latest sample of the event loop ran since the last scrape, in seconds.',
  lagMean: "The mean of how late the event loop's samples ran since the last scrape, in seconds.",
  lagStddev:
    "The standard deviation of how late the event loop's samples ran since the last scrape, in seconds.",
  lagP50: "The median of how late the event loop's samples ran since the last scrape, in seconds.",
  lagP90: "The 90th percentile of how late the event loop's samples ran since the last scrape, in seconds.",
  lagP99: "The 99th percentile of how late the event loop's samples ran since the last scrape, in seconds.",
};
