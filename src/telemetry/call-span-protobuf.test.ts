/**
 * The call spans' own protobuf writer against the SDK's: for the spans a call makes (server and
 * tool spans, allowed, denied, failed, under a remote parent with trace state), the request's
 * bytes are the SDK serializer's exactly; a span it cannot write as the SDK would (attributes of
 * other kinds, an id not hex) is refused whole, leaving nothing behind, for the caller to send
 * the SDK's way.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type SpanContext, SpanKind, TraceFlags } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { decodeTraces } from '../testing/otlp.ts';
import { type CallSpanEnd, CallSpanWriter, NotWritten } from './call-span-protobuf.ts';
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

const ended = (
  start: CallSpanStart,
  name: string,
  attributes: CallSpanEnd['attributes'],
  failed: boolean,
) => ({
  start,
  endMs: epochMs() + Math.random(),
  name,
  attributes,
  failed,
});

/** The SDK's finished form of the same span, for its serializer. */
const sdkForm = (s: CallSpanEnd) => new FinishedSpan(s.start, s.name, s.attributes, s.failed, from, s.endMs);

/** The spans of some calls: a request and its tool call, allowed, denied, failed; one under a caller's remote span. */
function callSpans(n: number): CallSpanEnd[] {
  const out: CallSpanEnd[] = [];
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
      ended(
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
      ),
      ended(
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
      ),
    );
  }
  return out;
}

/** The request the writer makes of `spans`, and the SDK serializer's of the same spans. */
function both(writer: CallSpanWriter, spans: CallSpanEnd[]): { ours: Buffer; sdk: Buffer; count: number } {
  for (const s of spans) writer.write(s);
  const taken = writer.take()!;
  return {
    ours: taken.bytes,
    sdk: Buffer.from(ProtobufTraceSerializer.serializeRequest(spans.map(sdkForm))!),
    count: taken.count,
  };
}

test('the call spans are the bytes the SDK writes, batch after batch', () => {
  const writer = new CallSpanWriter(resource, from.scope);
  for (const n of [1, 3, 300, 300]) {
    const spans = callSpans(n);
    const { ours, sdk, count } = both(writer, spans);
    assert.equal(count, spans.length);
    assert.equal(ours.length, sdk.length, `${n} calls: same length`);
    assert.ok(ours.equals(sdk), `${n} calls: same bytes`);
    assert.equal(writer.count, 0, 'taken: writing starts over');
    assert.equal(writer.take(), undefined, 'nothing written, no request');
  }
});

test('a span it cannot write as the SDK would is refused whole, and the batch around it is intact', () => {
  const writer = new CallSpanWriter(resource, from.scope);
  const spans = callSpans(3);
  const odd = [
    // Attributes it leaves to the SDK: a negative number, an array.
    ended(start(SpanKind.INTERNAL), 'odd', { delta: -3 }, false),
    ended(start(SpanKind.INTERNAL), 'odd', { list: ['a', 'b'] }, false),
    // Ids not hex or of another length, each found after the span began to be written.
    ended(
      {
        ...start(SpanKind.INTERNAL),
        context: { traceId: 'zz'.repeat(16), spanId: newSpanId(), traceFlags: 1 },
      },
      'bad',
      {},
      false,
    ),
    ended(
      {
        ...start(SpanKind.INTERNAL),
        context: { traceId: newTraceId(), spanId: '0123456789abcdeg', traceFlags: 1 },
      },
      'bad',
      {},
      false,
    ),
    ended(
      {
        ...start(SpanKind.INTERNAL),
        context: { traceId: newTraceId(), spanId: '0123456789abcde', traceFlags: 1 },
      },
      'bad',
      {},
      false,
    ),
    ended(
      {
        ...start(SpanKind.INTERNAL),
        parent: { traceId: newTraceId(), spanId: '0123456789abcdé0', traceFlags: 1 },
      },
      'bad',
      {},
      false,
    ),
  ];
  // What was written before the refused ones is still there, and nothing of them.
  for (const s of spans.slice(0, 3)) writer.write(s);
  for (const s of odd) assert.throws(() => writer.write(s), NotWritten);
  for (const s of spans.slice(3)) writer.write(s);
  const all = writer.take()!;
  assert.equal(all.count, spans.length);
  assert.ok(all.bytes.equals(Buffer.from(ProtobufTraceSerializer.serializeRequest(spans.map(sdkForm))!)));
});

test('a span of many attributes is written as the SDK writes it, and the next span after it', () => {
  const many = Object.fromEntries(
    Array.from({ length: 100 }, (_, i) => [`key.${i}`, i % 2 ? `value ${i}` : i]),
  );
  const { ours, sdk } = both(new CallSpanWriter(resource, from.scope), [
    ended(start(SpanKind.INTERNAL), 'many', many, false),
    ...callSpans(2),
  ]);
  assert.ok(ours.equals(sdk));
});

test('ids in capitals are written as the SDK reads them', () => {
  const upper = ended(
    {
      ...start(SpanKind.INTERNAL),
      context: { traceId: newTraceId().toUpperCase(), spanId: 'ABCDEF0123456789', traceFlags: 1 },
      parent: { traceId: newTraceId(), spanId: 'FEDCBA9876543210', traceFlags: 1 },
    },
    'upper',
    {},
    false,
  );
  const { ours, sdk } = both(new CallSpanWriter(resource, from.scope), [upper]);
  assert.ok(ours.equals(sdk));
});

test('positive integers of 2^35 and more are written as the SDK writes them', () => {
  for (const v of [2 ** 35 - 1, 2 ** 35, Date.now(), Number.MAX_SAFE_INTEGER]) {
    const { ours, sdk } = both(new CallSpanWriter(resource, from.scope), [
      ended(start(SpanKind.INTERNAL), 'n', { t: v }, false),
    ]);
    assert.ok(ours.equals(sdk), String(v));
    assert.equal(decodeTraces(ours)[0]!.attributes.t, v);
  }
});

test('a resource with attributes of other kinds is refused when the writer is made, not written wrong', () => {
  const odd = resourceFromAttributes({ 'service.name': 'p', 'process.command_args': ['node', 'x'] });
  assert.throws(() => new CallSpanWriter(odd, from.scope), /plain attributes/);
});

test('strings of every length and kind are the SDK’s bytes: long, non-ASCII, astral; a lone surrogate as U+FFFD', () => {
  const writer = new CallSpanWriter(resource, from.scope);
  const values = ['', 'a'.repeat(64), 'b'.repeat(65), 'ü'.repeat(40), `x${'🦀'.repeat(30)}`, 'é'.repeat(200)];
  for (const v of values) {
    const { ours, sdk } = both(writer, [
      ended(start(SpanKind.INTERNAL), `execute_tool ${v}`, { 'gen_ai.tool.name': v }, false),
    ]);
    assert.ok(ours.equals(sdk), `${v.slice(0, 12)}… (${v.length})`);
    assert.equal(decodeTraces(ours)[0]!.attributes['gen_ai.tool.name'], v);
  }
  writer.write(ended(start(SpanKind.INTERNAL), 'lone', { 'gen_ai.tool.name': 'a\ud800b' }, false));
  assert.equal(decodeTraces(writer.take()!.bytes)[0]!.attributes['gen_ai.tool.name'], 'a\ufffdb');
});

test('long tool names a tenant sends: the room they took is given back once they are sent', () => {
  const writer = new CallSpanWriter(resource, from.scope);
  for (let b = 0; b < 8; b++) {
    for (let i = 0; i < 16; i++) {
      const tool = `ns__${b * 16 + i}${'x'.repeat(1 << 20)}`;
      writer.write(
        ended(start(SpanKind.INTERNAL), `execute_tool ${tool}`, { 'gen_ai.tool.name': tool }, false),
      );
    }
    assert.ok(writer.bytes > 16 << 20, 'a batch of 16 spans of 2 MiB each');
    writer.take();
  }
  const kept = writer.keptBytes;
  assert.ok(kept <= 2 ** 20, `${(kept / 2 ** 20).toFixed(1)} MiB kept after 128 calls of 1 MiB names`);
});
