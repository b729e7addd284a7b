/**
 * The call spans' own protobuf writer against the SDK's: for the spans a call makes (server and
 * tool spans, allowed, denied, failed, under a remote parent with trace state), the request's
 * bytes are the SDK serializer's exactly; spans it does not write (the SDK's own, attributes of
 * other kinds) still arrive whole, through the SDK's serializer.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type SpanContext, SpanKind, TraceFlags } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { decodeTraces } from '../testing/otlp.ts';
import { CallSpanEncoder } from './call-span-protobuf.ts';
import { type CallSpanStart, epochMs, FinishedSpan, newSpanId, newTraceId } from './call-spans.ts';

const resource = resourceFromAttributes({ 'service.name': 'paddock', 'service.version': '1.2.3' });
const from = { resource, scope: { name: 'paddock', version: '1.2.3' } };

function start(kind: SpanKind, parent?: SpanContext, flags = TraceFlags.SAMPLED): CallSpanStart {
  return {
    context: {
      traceId: parent?.traceId ?? newTraceId(),
      spanId: newSpanId(),
      traceFlags: flags,
      traceState: parent?.traceState,
    },
    parent,
    kind,
    startMs: epochMs() - Math.random() * 5,
  };
}

/** The spans of some calls: a request and its tool call, allowed, denied, failed; one under a caller's remote span. */
function callSpans(n: number): FinishedSpan[] {
  const out: FinishedSpan[] = [];
  for (let i = 0; i < n; i++) {
    const remote: SpanContext | undefined =
      i % 3 === 0
        ? {
            traceId: newTraceId(),
            spanId: newSpanId(),
            traceFlags: TraceFlags.SAMPLED,
            isRemote: true,
            traceState: i % 2 === 0 ? new TraceState('vendor=a1b2,other=x') : undefined,
          }
        : undefined;
    const request = start(SpanKind.SERVER, remote);
    const tool = start(SpanKind.INTERNAL, request.context);
    const outcome = ['allowed', 'denied', 'failed'][i % 3]!;
    out.push(
      new FinishedSpan(
        tool,
        `execute_tool tool_${i % 7}`,
        {
          'gen_ai.operation.name': 'execute_tool',
          'gen_ai.tool.name': `tool_${i % 7}`,
          'gen_ai.tool.type': 'extension',
          'gen_ai.agent.id': `agt_${i % 4}`,
          'mcp.method.name': 'tools/call',
          'paddock.org.id': 'org_1',
          'paddock.connection.id': 'con_1',
          'paddock.gate.outcome': outcome,
          ...(outcome === 'allowed' ? { 'paddock.audit.entry_id': `evt_${i}_${newSpanId()}` } : {}),
          ...(outcome === 'failed' ? { 'error.type': 'tool_error' } : {}),
          'paddock.run.id': `run_é${i}`,
        },
        outcome === 'failed',
        from,
      ),
      new FinishedSpan(
        request,
        'POST /mcp/{org}',
        {
          'http.request.method': 'POST',
          'http.route': '/mcp/{org}',
          'http.response.status_code': [200, 403, 500, 100_000][i % 4]!,
          'paddock.ratio': 0.25,
          'paddock.retried': i % 2 === 0,
        },
        i % 4 === 2,
        from,
      ),
    );
  }
  return out;
}

test('the call spans are the bytes the SDK writes, the second time from parts kept ready', () => {
  const encoder = new CallSpanEncoder();
  for (const n of [1, 3, 300, 300]) {
    const spans = callSpans(n);
    const ours = Buffer.from(encoder.serializeRequest(spans));
    const sdk = Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!);
    assert.equal(ours.length, sdk.length, `${n} calls: same length`);
    assert.ok(ours.equals(sdk), `${n} calls: same bytes`);
  }
});

test('spans it does not write go the SDK’s way, in the same request: nothing lost', () => {
  const encoder = new CallSpanEncoder();
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const run = provider.getTracer('paddock', '1.2.3').startSpan('invoke_agent agt_1', {
    attributes: { 'gen_ai.response.finish_reasons': ['stop'], 'gen_ai.usage.input_tokens': 70 },
  });
  run.end();
  const [sdkSpan] = exporter.getFinishedSpans();
  const calls = callSpans(4);
  // Attributes it leaves to the SDK: a negative number, an array.
  const odd = new FinishedSpan(start(SpanKind.INTERNAL), 'odd', { delta: -3, list: ['a', 'b'] }, false, from);
  const spans: ReadableSpan[] = [...calls.slice(0, 4), sdkSpan!, odd, ...calls.slice(4)];
  const got = decodeTraces(Buffer.from(encoder.serializeRequest(spans)));
  assert.equal(got.length, spans.length);
  const byId = new Map(got.map((s) => [s.spanId, s]));
  for (const s of spans) {
    const g = byId.get(s.spanContext().spanId);
    assert.ok(g, `${s.name} arrived`);
    assert.equal(g.name, s.name);
    assert.equal(g.traceId, s.spanContext().traceId);
    assert.deepEqual(g.attributes, s.attributes);
  }
});

test('a span the writer would get wrong (an id that is not hex): the whole batch goes the SDK’s way, nothing lost', () => {
  const spans = callSpans(3);
  const bad = new FinishedSpan(
    {
      ...start(SpanKind.INTERNAL),
      context: { traceId: 'zz'.repeat(16), spanId: newSpanId(), traceFlags: 1 },
    },
    'bad',
    {},
    false,
    from,
  );
  const batch = [...spans, bad];
  const ours = Buffer.from(new CallSpanEncoder().serializeRequest(batch));
  assert.ok(ours.equals(Buffer.from(ProtobufTraceSerializer.serializeRequest(batch)!)));
});

const sameAsSdk = (spans: ReadableSpan[], what: string) => {
  const ours = Buffer.from(new CallSpanEncoder().serializeRequest(spans));
  assert.ok(ours.equals(Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!)), what);
  return ours;
};

test('positive integers of 2^35 and more are written as the SDK writes them', () => {
  for (const v of [2 ** 35 - 1, 2 ** 35, Date.now(), Number.MAX_SAFE_INTEGER]) {
    const ours = sameAsSdk(
      [new FinishedSpan(start(SpanKind.INTERNAL), 'n', { t: v }, false, from)],
      String(v),
    );
    assert.equal(decodeTraces(ours)[0]!.attributes.t, v);
  }
});

test('a resource with attributes of other kinds, or a first batch under two resources: each span under its own, whole', () => {
  const odd = resourceFromAttributes({ 'service.name': 'p', 'process.command_args': ['node', 'x'], n: -1 });
  sameAsSdk(
    [new FinishedSpan(start(SpanKind.INTERNAL), 'n', {}, false, { resource: odd, scope: { name: 's' } })],
    'odd resource',
  );
  const other = { resource: resourceFromAttributes({ 'service.name': 'other' }), scope: from.scope };
  const got = decodeTraces(
    Buffer.from(
      new CallSpanEncoder().serializeRequest([
        new FinishedSpan(start(SpanKind.INTERNAL), 'a', {}, false, from),
        new FinishedSpan(start(SpanKind.INTERNAL), 'b', {}, false, other),
      ]),
    ),
  );
  assert.deepEqual(got.map((s) => s.name).sort(), ['a', 'b']);
});

test('kept parts are bounded in bytes: long tool names a tenant sends are not retained', () => {
  const encoder = new CallSpanEncoder();
  for (let b = 0; b < 8; b++)
    encoder.serializeRequest(
      Array.from({ length: 16 }, (_, i) => {
        const tool = `ns__${b * 16 + i}${'x'.repeat(1 << 20)}`;
        return new FinishedSpan(
          start(SpanKind.INTERNAL),
          `execute_tool ${tool}`,
          { 'gen_ai.tool.name': tool },
          false,
          from,
        );
      }),
    );
  const kept = encoder.keptBytes;
  assert.ok(kept < 2 * 2 ** 20, `${(kept / 2 ** 20).toFixed(1)} MiB kept after 128 calls of 1 MiB names`);
  // Short parts are still kept ready.
  encoder.serializeRequest(callSpans(10));
  assert.ok(encoder.keptBytes > kept, 'the usual parts kept');
});
