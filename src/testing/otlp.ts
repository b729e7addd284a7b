/**
 * An OTLP/HTTP traces receiver for tests: decodes what arrives in either of OTLP's encodings —
 * JSON, or protobuf read here from the wire format (`opentelemetry/proto/trace/v1`), not through
 * the SDK that wrote it — into spans with hex ids and plain attribute values.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Record<string, unknown>;
}

export interface OtlpReceiver {
  url: string;
  spans: OtlpSpan[];
  /** Requests received so far. */
  readonly posts: number;
  /** Each request's `content-type`. */
  contentTypes: string[];
  close(): Promise<void>;
}

export async function otlpReceiver(port = 0): Promise<OtlpReceiver> {
  const got = { spans: [] as OtlpSpan[], posts: 0, contentTypes: [] as string[] };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.posts += 1;
      assert.equal(req.url, '/v1/traces');
      const type = req.headers['content-type'] ?? '';
      got.contentTypes.push(type);
      const body = Buffer.concat(chunks);
      if (type === 'application/x-protobuf') {
        got.spans.push(...decodeTraces(body));
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      } else {
        got.spans.push(...jsonTraces(JSON.parse(body.toString('utf8'))));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`,
    spans: got.spans,
    get posts() {
      return got.posts;
    },
    contentTypes: got.contentTypes,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** OTLP's JSON, read loosely. */
type Json = Record<string, any>;

function jsonValue(v: Json): unknown {
  if ('stringValue' in v) return v.stringValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('boolValue' in v) return v.boolValue;
  if ('doubleValue' in v) return v.doubleValue;
  if ('arrayValue' in v) return (v.arrayValue.values ?? []).map(jsonValue);
  return undefined;
}

function jsonTraces(body: Json): OtlpSpan[] {
  const out: OtlpSpan[] = [];
  for (const rs of body.resourceSpans ?? [])
    for (const ss of rs.scopeSpans ?? [])
      for (const s of ss.spans ?? [])
        out.push({
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId || undefined,
          name: s.name,
          attributes: Object.fromEntries((s.attributes ?? []).map((a: Json) => [a.key, jsonValue(a.value)])),
        });
  return out;
}

/** A protobuf message's fields in order: number, and its value (a varint as 64 bits, 64 or 32 bits as bytes, or length-delimited bytes). */
function* fields(buf: Buffer): Generator<[number, bigint | Buffer]> {
  let at = 0;
  const varint = () => {
    let n = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = buf[at++];
      if (b === undefined) throw new Error('protobuf: a varint runs past the end');
      n |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return n;
    }
  };
  const length = () => Number(varint());
  while (at < buf.length) {
    const tag = length();
    const wire = tag % 8;
    const field = Math.floor(tag / 8);
    if (wire === 0) yield [field, varint()];
    else if (wire === 1) {
      yield [field, buf.subarray(at, at + 8)];
      at += 8;
    } else if (wire === 2) {
      const len = length();
      if (at + len > buf.length) throw new Error('protobuf: a field runs past the end');
      yield [field, buf.subarray(at, at + len)];
      at += len;
    } else if (wire === 5) {
      yield [field, buf.subarray(at, at + 4)];
      at += 4;
    } else throw new Error(`protobuf: wire type ${wire} is not OTLP's`);
  }
}

const bytes = (v: bigint | Buffer) => v as Buffer;

/** AnyValue: string 1, bool 2, int 3, double 4, array 5. */
function anyValue(buf: Buffer): unknown {
  for (const [f, v] of fields(buf)) {
    if (f === 1) return bytes(v).toString('utf8');
    if (f === 2) return v === 1n;
    if (f === 3) return Number(BigInt.asIntN(64, v as bigint)); // int64, two's complement
    if (f === 4) return bytes(v).readDoubleLE(0);
    if (f === 5) return [...fields(bytes(v))].filter(([g]) => g === 1).map(([, x]) => anyValue(bytes(x)));
  }
  return undefined;
}

function span(buf: Buffer): OtlpSpan {
  const s: OtlpSpan = { traceId: '', spanId: '', name: '', attributes: {} };
  for (const [f, v] of fields(buf)) {
    if (f === 1) s.traceId = bytes(v).toString('hex');
    else if (f === 2) s.spanId = bytes(v).toString('hex');
    else if (f === 4) s.parentSpanId = bytes(v).toString('hex') || undefined;
    else if (f === 5) s.name = bytes(v).toString('utf8');
    else if (f === 9) {
      let key = '';
      let value: unknown;
      for (const [g, x] of fields(bytes(v))) {
        if (g === 1) key = bytes(x).toString('utf8');
        else if (g === 2) value = anyValue(bytes(x));
      }
      s.attributes[key] = value;
    }
  }
  return s;
}

/** ExportTraceServiceRequest → ResourceSpans (1) → ScopeSpans (2) → Span (2). */
export function decodeTraces(buf: Buffer): OtlpSpan[] {
  const out: OtlpSpan[] = [];
  for (const [f, rs] of fields(buf))
    if (f === 1)
      for (const [g, ss] of fields(bytes(rs)))
        if (g === 2) for (const [h, s] of fields(bytes(ss))) if (h === 2) out.push(span(bytes(s)));
  return out;
}
