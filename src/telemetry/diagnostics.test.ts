/**
 * OpenTelemetry's own warnings on Paddock's log: an export the collector refuses is said once at
 * warn, later ones held back for a minute and counted, with the error's message only — never the
 * collector's answer or the exporter's headers.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from '../log/index.ts';
import { otelDiagnostics } from './diagnostics.ts';
import { Telemetry } from './index.ts';

function captured() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  return { lines, log: createLogger({ destination: sink, level: 'info', format: 'json' }) };
}

test('one line a minute at warn, the error’s message read out of the SDK’s JSON, the rest held back and counted', () => {
  const { lines, log } = captured();
  let t = 0;
  const d = otelDiagnostics(log, [], 60_000, () => t);
  d.error(
    JSON.stringify({ message: 'Bad Request', code: '400', stack: 'Error: Bad Request\n at x', data: 'body' }),
  );
  d.warn('Dropped 3 call spans because the export queue was full');
  d.info('info chatter');
  d.debug('debug chatter');
  t = 61_000;
  d.warn(`x${'y'.repeat(1000)}`);
  assert.equal(lines.length, 2);
  assert.equal(lines[0]!.level, 40);
  assert.equal(lines[0]!.msg, 'traces: Bad Request (400)');
  assert.equal(lines[0]!.heldBack, undefined);
  assert.equal(lines[1]!.heldBack, 1, 'the warning within the minute counted, info and debug not');
  assert.ok(String(lines[1]!.msg).length < 320, 'a long message cut short');
});

test('a collector refusing the spans: said on the log once, without its answer or the exporter’s headers', async () => {
  const secret = 'sk-otlp-collector-key-0123456789abcdef';
  const collector = createServer((req, res) => {
    req.resume();
    // A hostile or confused collector says the request's credentials back, in its body and in
    // its status text (which the exporter's error carries as its message).
    const key = String(req.headers['x-collector-key']);
    req.on('end', () =>
      res.writeHead(400, `Bad Request for ${key}`).end(`refused: ${req.headers.authorization}`),
    );
  });
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
  const port = (collector.address() as AddressInfo).port;
  // A key of no known shape: only knowing it was sent can keep it off the log.
  const plainKey = 'k7Pq2wXz9Lm4Rt8v';
  process.env.OTEL_EXPORTER_OTLP_HEADERS = `authorization=Bearer ${secret},x-collector-key=${plainKey}`;
  const { lines, log } = captured();
  const telemetry = new Telemetry({
    metrics: false,
    tracesEndpoint: `http://127.0.0.1:${port}/v1/traces`,
    traceContent: false,
    version: 't',
    log,
  });
  try {
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const span = telemetry.requestStarted(() => undefined, started);
      telemetry.requestEnded(span, 'POST', '/mcp/{org}', 200, started, performance.now());
      await telemetry.tracing!.flush();
    }
    const said = lines.filter((l) => String(l.msg).startsWith('traces:'));
    assert.equal(said.length, 1, `one line for three refused exports: ${JSON.stringify(lines)}`);
    assert.equal(said[0]!.level, 40);
    assert.match(String(said[0]!.msg), /Bad Request/);
    assert.match(String(said[0]!.msg), /\[REDACTED\]/, 'the key said back is redacted');
    assert.ok(!JSON.stringify(lines).includes(secret), 'the header never on the log');
    assert.ok(!JSON.stringify(lines).includes(plainKey), 'nor a header of no known shape');
    assert.ok(!JSON.stringify(lines).includes('refused:'), 'nor the collector’s answer');
  } finally {
    delete process.env.OTEL_EXPORTER_OTLP_HEADERS;
    await telemetry.close();
    await new Promise<void>((r) => collector.close(() => r()));
  }
});
