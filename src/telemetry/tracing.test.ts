/**
 * Run spans and message text, as the GenAI semantic conventions name them: a run's text (the
 * person's message, the answer) goes into its `invoke_agent` span only when the platform allows
 * it and the org records run text in full — never in model or tool spans, never otherwise; and
 * a run resumed on another replica (another tracer) continues its trace, under its root span.
 * The end-to-end path (a real cell, the OTLP wire) is in telemetry.test.ts; these drive the
 * tracer's run observer directly and read the spans it finishes.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { runTrace } from '../ids/index.ts';
import type { RunRef } from '../runtime/index.ts';
import { Telemetry, type TelemetryOptions } from './index.ts';
import { genAiProvider, Tracing } from './tracing.ts';

const MESSAGE = 'summarise the periwinkle report';
const ANSWER = 'The periwinkle report says all is well.';

function tracer(content: boolean) {
  const exporter = new InMemorySpanExporter();
  const tracing = new Tracing({ endpoint: 'http://127.0.0.1:9/v1/traces', content, version: 't', exporter });
  const spans = async () => {
    await tracing.flush();
    return exporter.getFinishedSpans();
  };
  return { tracing, spans };
}

const ref = (runId: string): RunRef => ({ orgId: 'org_t', agentId: 'agt_t', runId });
const step = {
  step: 1,
  provider: 'openai.chat',
  model: 'gpt-test',
  inputTokens: 12,
  outputTokens: 7,
  latencyMs: 40,
  finishReason: 'stop',
  toolCalls: [],
};
const ended = (runId: string, status: 'completed' | 'waiting_approval' = 'completed') => ({
  id: runId,
  agentId: 'agt_t',
  conversationId: 'cnv_t',
  personId: null,
  via: 'api',
  status,
  input: MESSAGE,
  output: status === 'completed' ? ANSWER : null,
  steps: 1,
  usage: { inputTokens: 12, outputTokens: 7 },
  error: null,
  waitingFor: [],
  createdAt: new Date().toISOString(),
  endedAt: null,
});

/** One run, started, one model step, ended; its spans. */
async function oneRun(content: boolean, textRecording: string, runId: string): Promise<ReadableSpan[]> {
  const t = tracer(content);
  t.tracing.runs.started({ ...ref(runId), via: 'api', message: MESSAGE, textRecording });
  t.tracing.runs.step(ref(runId), step);
  t.tracing.runs.ended(ref(runId), ended(runId));
  const spans = await t.spans();
  await t.tracing.close();
  return spans;
}

const text = (spans: ReadableSpan[]) => JSON.stringify(spans.map((s) => s.attributes));

test('run text is in the run span only when the platform allows it and the org records it in full', async () => {
  const allowed = await oneRun(true, 'full', 'run_content_1');
  const root = allowed.find((s) => s.attributes['gen_ai.operation.name'] === 'invoke_agent')!;
  const input = JSON.parse(String(root.attributes['gen_ai.input.messages']));
  assert.deepEqual(input, [{ role: 'user', parts: [{ type: 'text', content: MESSAGE }] }]);
  const output = JSON.parse(String(root.attributes['gen_ai.output.messages']));
  assert.equal(output[0].role, 'assistant');
  assert.equal(output[0].parts[0].content, ANSWER);
  const chat = allowed.find((s) => s.attributes['gen_ai.operation.name'] === 'chat')!;
  assert.ok(!text([chat]).includes('periwinkle'), 'never in a model span');

  for (const [content, recording] of [
    [false, 'full'],
    [true, 'redacted'],
    [true, 'digest'],
  ] as const) {
    const spans = await oneRun(content, recording, `run_content_${recording}_${content}`);
    assert.equal(spans.length, 2);
    assert.ok(!text(spans).includes('periwinkle'), `no text with content=${content}, recording=${recording}`);
    assert.ok(!text(spans).includes('gen_ai.input.messages'));
  }
});

test('spans follow the GenAI conventions: invoke_agent the root with ids from the run, chat under it with the model and usage', async () => {
  const runId = 'run_conventions_1';
  const spans = await oneRun(false, 'full', runId);
  const ids = runTrace(runId);
  const root = spans.find((s) => s.name === 'invoke_agent agt_t')!;
  const chat = spans.find((s) => s.name === 'chat gpt-test')!;
  assert.equal(root.spanContext().traceId, ids.traceId);
  assert.equal(root.spanContext().spanId, ids.spanId);
  assert.equal(root.parentSpanContext, undefined);
  assert.equal(chat.parentSpanContext?.spanId, ids.spanId);
  assert.equal(chat.kind, 2, 'a model call is a client span');
  assert.deepEqual(
    {
      op: chat.attributes['gen_ai.operation.name'],
      provider: chat.attributes['gen_ai.provider.name'],
      model: chat.attributes['gen_ai.request.model'],
      input: chat.attributes['gen_ai.usage.input_tokens'],
      output: chat.attributes['gen_ai.usage.output_tokens'],
      finish: chat.attributes['gen_ai.response.finish_reasons'],
    },
    { op: 'chat', provider: 'openai', model: 'gpt-test', input: 12, output: 7, finish: ['stop'] },
  );
  assert.equal(root.attributes['paddock.run.status'], 'completed');
  assert.equal(root.attributes['gen_ai.provider.name'], 'openai');
  for (const [sdk, convention] of [
    ['anthropic.messages', 'anthropic'],
    ['google.generative-ai', 'gcp.gemini'],
    ['openai-compatible.chat', 'openai-compatible'],
    ['constructor', 'constructor'],
  ])
    assert.equal(genAiProvider(sdk!), convention);
  for (const s of spans)
    for (const key of Object.keys(s.attributes))
      assert.match(key, /^(gen_ai|paddock|error)\./, `${key}: a GenAI convention or Paddock's own`);
});

test('a run paused for approval and resumed on another replica continues the same trace under its root', async () => {
  const runId = 'run_resumed_1';
  const ids = runTrace(runId);
  const first = tracer(false);
  first.tracing.runs.started({ ...ref(runId), via: 'api', message: MESSAGE, textRecording: 'full' });
  first.tracing.runs.ended(ref(runId), ended(runId, 'waiting_approval'));
  const [paused] = await first.spans();
  await first.tracing.close();
  const second = tracer(true);
  second.tracing.runs.resumed(ref(runId));
  second.tracing.runs.step(ref(runId), step);
  second.tracing.runs.ended(ref(runId), ended(runId));
  const later = await second.spans();
  await second.tracing.close();
  assert.equal(paused!.attributes['paddock.run.status'], 'waiting_approval');
  for (const s of later) assert.equal(s.spanContext().traceId, ids.traceId);
  const part = later.find((s) => s.attributes['gen_ai.operation.name'] === 'invoke_agent')!;
  assert.equal(part.parentSpanContext?.spanId, ids.spanId, 'the resumed part hangs under the root');
  assert.ok(!text(later).includes('periwinkle'), 'a resumed part carries no text');
});

test('the sampler decides: always_off keeps no span, a ratio of 0 none, always_on every one', async () => {
  const requests = async (sampler: TelemetryOptions['traceSampler'], traceparent?: string) => {
    const exporter = new InMemorySpanExporter();
    const telemetry = new Telemetry({
      metrics: false,
      tracesEndpoint: 'http://127.0.0.1:9/v1/traces',
      traceContent: false,
      version: 't',
      exporter,
      traceSampler: sampler,
    });
    const tracing = telemetry.tracing!;
    const header = (name: string) => (name === 'traceparent' ? traceparent : undefined);
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      const span = telemetry.requestStarted(header, started);
      telemetry.requestEnded(span, 'POST', '/mcp/{org}', 200, started, performance.now());
    }
    await tracing.flush();
    const spans = exporter.getFinishedSpans();
    await tracing.close(); // (which empties the in-memory exporter)
    return spans;
  };
  assert.equal((await requests(undefined)).length, 20);
  assert.equal((await requests({ name: 'always_off', parentBased: false, ratio: 1 })).length, 0);
  assert.equal((await requests({ name: 'traceidratio', parentBased: true, ratio: 0 })).length, 0);
  // Parent-based: a caller's sampled traceparent is followed even at a ratio of 0, and continued.
  const parent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const followed = await requests({ name: 'traceidratio', parentBased: true, ratio: 0 }, parent);
  assert.equal(followed.length, 20);
  assert.equal(followed[0]!.spanContext().traceId, '0af7651916cd43dd8448eb211c80319c');
});

test('a run is sampled whole: its parts made on another replica follow its root’s decision', async () => {
  const parts = async (ratio: number) => {
    const exporter = new InMemorySpanExporter();
    const sampler = { name: 'traceidratio', parentBased: true, ratio } as const;
    const tracing = new Tracing({
      endpoint: 'http://127.0.0.1:9/v1/traces',
      content: false,
      version: 't',
      exporter,
      sampler,
    });
    // Resumed here (its root made elsewhere): the resumed span and a model step.
    tracing.runs.resumed(ref('run_sampled_1'));
    tracing.runs.step(ref('run_sampled_1'), step);
    tracing.runs.ended(ref('run_sampled_1'), ended('run_sampled_1'));
    await tracing.flush();
    const spans = exporter.getFinishedSpans();
    await tracing.close();
    return spans;
  };
  assert.equal((await parts(0)).length, 0, 'a run not kept leaves no orphan spans');
  const kept = await parts(1);
  assert.equal(kept.length, 2);
  assert.ok(kept.every((s) => s.spanContext().traceId === runTrace('run_sampled_1').traceId));
});

test('closing with spans buffered and the collector refusing them loses them but does not fail', async () => {
  // A collector that refuses every export (a wrong token, say): not retried, so at once.
  const refusing = createServer((q, r) => {
    q.resume();
    q.on('end', () => r.writeHead(401).end());
  });
  await new Promise<void>((r) => refusing.listen(0, '127.0.0.1', r));
  const port = (refusing.address() as AddressInfo).port;
  try {
    const tracing = new Tracing({
      endpoint: `http://127.0.0.1:${port}/v1/traces`,
      content: false,
      version: 't',
    });
    const run = (id: string) => {
      tracing.runs.started({ ...ref(id), via: 'api', message: MESSAGE, textRecording: 'full' });
      tracing.runs.ended(ref(id), ended(id) as never);
    };
    run('run_refused1');
    await assert.rejects(tracing.flush(), 'the export itself fails');
    run('run_refused2');
    await tracing.close();
  } finally {
    refusing.close();
  }
});
