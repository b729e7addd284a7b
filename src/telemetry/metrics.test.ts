/**
 * The metrics' own rules, without a server: each refusal code of the gate counts as the outcome
 * an operator reads (a denial of a read or by a check is `denied`, not `failed`, which would page
 * someone), and a label value a cell or an agent chose (a model name, an error code) is bounded
 * in number and in what it may contain, so it can neither break the exposition nor grow it
 * without end.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
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
