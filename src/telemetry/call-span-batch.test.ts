/**
 * The calls' spans batched as the SDK's batch processor batches spans, sent over real HTTP to a
 * receiver that decodes the protobuf itself: by size, by time, one export at a time, bounded
 * while the collector is slow, everything sent on flush and shutdown.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { SpanKind, TraceFlags } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { decodeTraces } from '../testing/otlp.ts';
import { CallSpanBatch, type CallSpanBatchOptions, protobufDelegate } from './call-span-batch.ts';
import { CallSpanWriter } from './call-span-protobuf.ts';
import { epochMs, newSpanId, newTraceId } from './call-spans.ts';

/** A collector whose answers can be held back: each request's span names, in arrival order. */
async function collector() {
  const requests: string[][] = [];
  let held: (() => void)[] | undefined;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push(decodeTraces(Buffer.concat(chunks)).map((s) => s.name));
      const answer = () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      if (held) held.push(answer);
      else answer();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`,
    requests,
    hold: () => {
      held = [];
    },
    release: () => {
      const h = held ?? [];
      held = undefined;
      for (const answer of h) answer();
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const resource = resourceFromAttributes({ 'service.name': 'paddock' });
const span = (name: string) => ({
  start: {
    context: { traceId: newTraceId(), spanId: newSpanId(), traceFlags: TraceFlags.SAMPLED },
    parent: undefined,
    kind: SpanKind.SERVER,
    startMs: epochMs() - 1,
  },
  endMs: epochMs(),
  name,
  attributes: { 'http.route': '/mcp/{org}' },
  failed: false,
});

const batchTo = (url: string, o: CallSpanBatchOptions) =>
  new CallSpanBatch(new CallSpanWriter(resource, { name: 'paddock' }), protobufDelegate(url), o);

const until = async (what: string, ok: () => boolean) => {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(ok(), what);
};

test('a batch goes once the batch size has ended, the rest after the delay; every span arrives once', async () => {
  const c = await collector();
  const batch = batchTo(c.url, { maxExportBatchSize: 4, scheduledDelayMillis: 150 });
  try {
    for (let i = 0; i < 6; i++) batch.end(span(`s${i}`));
    await until('the first 4 sent at once', () => c.requests.length === 1);
    assert.deepEqual(c.requests[0], ['s0', 's1', 's2', 's3']);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(c.requests.length, 1, 'the other 2 wait for the delay');
    await until('the other 2 after the delay', () => c.requests.length === 2);
    assert.deepEqual(c.requests[1], ['s4', 's5']);
  } finally {
    await batch.shutdown();
    await c.close();
  }
});

test('while the collector is slow: one export at a time, batches of the batch size, spans past the queue dropped and counted', async () => {
  const c = await collector();
  const batch = batchTo(c.url, { maxExportBatchSize: 2, scheduledDelayMillis: 60_000, maxQueueSize: 6 });
  try {
    c.hold();
    batch.end(span('a0'));
    batch.end(span('a1'));
    await until('the first batch sent', () => c.requests.length === 1);
    for (let i = 0; i < 10; i++) batch.end(span(`b${i}`));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(c.requests.length, 1, 'no second export while the first is unanswered');
    assert.equal(batch.dropped, 4, 'six held, four dropped');
    c.release();
    await batch.flush();
    assert.deepEqual(c.requests, [
      ['a0', 'a1'],
      ['b0', 'b1'],
      ['b2', 'b3'],
      ['b4', 'b5'],
    ]);
  } finally {
    c.release();
    await batch.shutdown();
    await c.close();
  }
});

test('flush sends what waits and resolves once it is answered; after shutdown, spans are not sent', async () => {
  const c = await collector();
  const batch = batchTo(c.url, { maxExportBatchSize: 512, scheduledDelayMillis: 60_000 });
  try {
    for (let i = 0; i < 3; i++) batch.end(span(`f${i}`));
    await batch.flush();
    assert.deepEqual(c.requests, [['f0', 'f1', 'f2']]);
    batch.end(span('last'));
    await batch.shutdown();
    assert.deepEqual(c.requests.at(-1), ['last'], 'shutdown sends what is left');
    batch.end(span('after'));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(c.requests.length, 2, 'nothing sent after shutdown');
  } finally {
    await c.close();
  }
});

test('a collector that never answers holds the next batch back only until the export timeout', async () => {
  const c = await collector();
  const batch = batchTo(c.url, {
    maxExportBatchSize: 2,
    scheduledDelayMillis: 60_000,
    // Long enough that a loaded machine's delay between the export and its arrival stays inside it.
    exportTimeoutMillis: 1000,
  });
  try {
    c.hold();
    batch.end(span('a0'));
    batch.end(span('a1'));
    await until('the first batch sent', () => c.requests.length === 1);
    batch.end(span('b0'));
    batch.end(span('b1'));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(c.requests.length, 1, 'the next batch waits while the first may still be answered');
    await until('the next batch sent once the first is given up on', () => c.requests.length === 2);
    assert.deepEqual(c.requests[1], ['b0', 'b1']);
  } finally {
    c.release();
    await batch.shutdown();
    await c.close();
  }
});

test('flush while calls keep ending: it waits for the spans written before it, not for ever', async () => {
  const c = await collector();
  const batch = batchTo(c.url, { maxExportBatchSize: 8, scheduledDelayMillis: 60_000 });
  let going = true;
  let n = 0;
  const load = (async () => {
    while (going) {
      batch.end(span(`x${n++}`));
      await new Promise((r) => setImmediate(r));
    }
  })();
  try {
    await new Promise((r) => setTimeout(r, 30));
    const before = n;
    await Promise.race([
      batch.flush(),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('flush did not resolve under load')), 3000),
      ),
    ]);
    const arrived = new Set(c.requests.flat());
    for (let i = 0; i < before; i++)
      assert.ok(arrived.has(`x${i}`), `x${i}, written before the flush, arrived`);
  } finally {
    going = false;
    await load;
    await batch.shutdown();
    await c.close();
  }
});
