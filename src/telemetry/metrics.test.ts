/**
 * The metrics' own rules, without a server: each refusal code of the gate counts as the outcome
 * an operator reads (a denial of a read or by a check is `denied`, not `failed`, which would page
 * someone), and a label value a cell or an agent chose (a model name, an error code) is bounded
 * in number and in what it may contain, so it can neither break the exposition nor grow it
 * without end.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Histogram, Registry } from 'prom-client';
import { ConflictError, PaddockError } from '../errors/index.ts';
import { parsePrometheusText, total } from '../testing/prometheus-text.ts';
import { gateOutcome, LABEL_VALUES, METRICS, Metrics } from './index.ts';

const err = (code: string) => new PaddockError(403, code, 'x');

test('each gate refusal is the outcome an operator reads; anything else failed', () => {
  const want: Record<string, string> = {
    tool_denied: 'denied',
    resource_denied: 'denied',
    prompt_denied: 'denied',
    completion_denied: 'denied',
    tool_args_blocked: 'denied',
    approval_denied: 'denied',
    connection_not_found: 'denied',
    approval_required: 'approval_required',
    agent_stopped: 'stopped',
    run_stopped: 'stopped',
    token_revoked: 'stopped',
    call_cancelled: 'cancelled',
    tool_failed: 'failed',
    internal: 'failed',
    constructor: 'failed',
  };
  for (const [code, outcome] of [...Object.entries(want), ['__proto__', 'failed']])
    assert.equal(gateOutcome(err(code!)), outcome, code);
  assert.equal(gateOutcome(new ConflictError('agent_stopped', 'x')), 'stopped');
  assert.equal(gateOutcome(new Error('boom')), 'failed');
  for (const outcome of new Set(Object.values(want)))
    assert.ok(LABEL_VALUES[METRICS.gateCalls]!.outcome!.includes(outcome), outcome);
});

test('model names and failure reasons a cell reports: bounded, and never able to break the exposition', async () => {
  const m = new Metrics();
  const run = { orgId: 'org_1', agentId: 'agt_1', runId: 'run_1' };
  const step = (model: string) =>
    m.runs.step(run, {
      step: 1,
      provider: 'openai',
      model,
      latencyMs: 10,
      inputTokens: 1,
      outputTokens: 1,
      finishReason: 'stop',
      toolCalls: [],
    });
  step('gpt-4o');
  step('evil"} 1\nfake_metric 1');
  for (let i = 0; i < 100; i++) step(`model-${i}`);
  const text = await m.scrape();
  const families = parsePrometheusText(text);
  const models = new Set(
    families.find((f) => f.name === METRICS.modelTokens)!.samples.map((s) => s.labels.model),
  );
  assert.ok(models.has('gpt-4o') && models.has('other'));
  assert.ok(models.size <= 65, `${models.size} model labels`);
  assert.ok(!text.includes('fake_metric'));
  assert.equal(total(families, METRICS.modelTokens, { kind: 'input' }), 102);
});

test('held histograms: every value counted across a flush and a scrape; a value not a number is refused where it is given and breaks no scrape', async () => {
  const m = new Metrics();
  for (let i = 0; i < 5000; i++) m.http('GET', '/a', 200, 0.001);
  m.trail.committed(3, 2);
  const count = async (name: string) => total(parsePrometheusText(await m.registry.metrics()), name);
  assert.equal(await count(METRICS.httpSeconds), 5000);
  assert.throws(() => m.http('GET', '/a', 200, Number.NaN), /not a valid number/);
  assert.throws(() => m.trail.committed(1, Number.POSITIVE_INFINITY), /not a valid number/);
  m.http('GET', '/a', 200, 0.002);
  assert.equal(await count(METRICS.httpSeconds), 5001);
  assert.equal(await count(METRICS.auditCommitSeconds), 1);
});

test('held histograms read exactly as prom-client’s own histogram given the same values (labelled or not; on a bound, past the last, below the first)', async () => {
  const m = new Metrics();
  /** What prom-client keeps of a histogram's configuration. */
  type Kept = Histogram & { labelNames: string[]; help: string; upperBounds: number[] };
  const bounds = (m.registry.getSingleMetric(METRICS.httpSeconds) as Kept).upperBounds;
  const values = [
    ...bounds,
    0,
    -1,
    1e-9,
    bounds.at(-1)! * 3,
    ...Array.from({ length: 500 }, (_, i) => (i % 97) / 37),
  ];
  const reference = new Registry();
  const like = (name: string) => {
    const h = m.registry.getSingleMetric(name) as Kept;
    return new Histogram({
      name,
      help: h.help,
      labelNames: h.labelNames,
      buckets: h.upperBounds,
      registers: [reference],
    });
  };
  const http = like(METRICS.httpSeconds);
  const commit = like(METRICS.auditCommitEvents);
  values.forEach((v, i) => {
    const route = ['/a', '/b/{id}', '/c'][i % 3]!;
    m.http('GET', route, 200, v);
    http.observe({ method: 'GET', route }, v);
    m.trail.committed(Math.abs(Math.round(v * 10)), 0.001);
    commit.observe(Math.abs(Math.round(v * 10)));
  });
  for (const name of [METRICS.httpSeconds, METRICS.auditCommitEvents]) {
    const ours = await m.registry.getSingleMetricAsString(name);
    assert.equal(ours, await reference.getSingleMetricAsString(name), name);
    assert.equal(await m.registry.getSingleMetricAsString(name), ours, `${name}, scraped twice`);
  }
});

test('a first value that is not a number leaves no series behind', async () => {
  const m = new Metrics();
  assert.throws(() => m.gateEnded('org_1', 'allowed', Number.NaN), /not a valid number/);
  const text = await m.registry.getSingleMetricAsString(METRICS.gateSeconds);
  assert.ok(!text.includes('outcome="allowed"'), text);
  assert.throws(() => m.http('GET', '/healthz', 200, Number.NaN), /not a valid number/);
  const http = await m.registry.getSingleMetricAsString(METRICS.httpSeconds);
  assert.ok(!http.includes('route="/healthz"'), http);
});

test('requests are counted apart by method and status on one route, and gate calls by org and outcome', async () => {
  const m = new Metrics();
  const calls: [string, number][] = [
    ['GET', 200],
    ['GET', 200],
    ['GET', 404],
    ['POST', 200],
    ['POST', 500],
    ['POST', 500],
    ['POST', 500],
  ];
  for (const [method, status] of calls) m.http(method, '/api/v1/orgs/{org}/agents', status, 0.002);
  m.http('GET', '/healthz', 200, 0.001);
  for (const [org, outcome] of [
    ['org_a', 'allowed'],
    ['org_a', 'denied'],
    ['org_a', 'allowed'],
    ['org_b', 'allowed'],
  ] as const) {
    m.gateStarted();
    m.gateEnded(org, outcome, 0.01);
  }
  m.unknownTool({ orgId: 'org_b' } as Parameters<typeof m.unknownTool>[0], 'not_shown');
  const text = parsePrometheusText(await m.registry.metrics());
  const route = '/api/v1/orgs/{org}/agents';
  const requests = (method: string, status: string) =>
    total(text, METRICS.httpRequests, { method, route, status });
  assert.deepEqual(
    [requests('GET', '200'), requests('GET', '404'), requests('POST', '200'), requests('POST', '500')],
    [2, 1, 1, 3],
  );
  assert.equal(total(text, METRICS.httpSeconds, { method: 'GET', route }), 3);
  assert.equal(total(text, METRICS.httpSeconds, { method: 'POST', route }), 4);
  assert.equal(total(text, METRICS.httpSeconds, { method: 'GET', route: '/healthz' }), 1);
  const gate = (org: string, outcome: string) => total(text, METRICS.gateCalls, { org, outcome });
  assert.deepEqual(
    [gate('org_a', 'allowed'), gate('org_a', 'denied'), gate('org_b', 'allowed'), gate('org_b', 'unknown')],
    [2, 1, 1, 1],
  );
  assert.equal(total(text, METRICS.gateSeconds, { outcome: 'allowed' }), 3);
  assert.equal(total(text, METRICS.gateSeconds, { outcome: 'denied' }), 1);
  assert.equal(total(text, METRICS.gateSeconds, { outcome: 'unknown' }), 0, 'an unknown tool has no latency');
});
