/**
 * The two spans every governed call makes (`FinishedSpan`), written as OTLP protobuf at export
 * byte for byte as the SDK's `ProtobufTraceSerializer` writes them, but from parts kept ready: an
 * attribute's key and value (the route, the tool, the agent, the org — a handful of values seen
 * again and again) and a span's name are encoded once and copied after; ids go from hex to bytes
 * natively. Every other span (a run's, a model call's) is the SDK serializer's, in a second
 * `ResourceSpans` of the same request (repeated fields of a protobuf message concatenate).
 */
import type { AttributeValue, HrTime } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { FinishedSpan } from './call-spans.ts';

/** Values kept encoded per attribute key; past this, a key's new values are encoded each time (ids, entry ids). */
const KEPT_PER_KEY = 256;
const KEPT_NAMES = 1024;

/** Writes `n` (a non-negative safe integer) as a varint into `buf` at `at`; returns where it ends. */
function putVarint(buf: Buffer, at: number, n: number): number {
  while (n >= 0x80) {
    buf[at++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[at++] = n;
  return at;
}

/** Bytes of a non-negative safe integer as a varint (7 bits a byte). */
const varintSize = (n: number) => {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
};

/** Parts longer than this are written each time, not kept: a tenant's long tool name holds no memory. */
const KEPT_BYTES = 256;

/** The room kept between batches: 512 call spans of ~0.3 KiB, with some to spare. */
const ROOM_KEPT = 1 << 20;

/** Protobuf written into one buffer, grown as needed. */
class Out {
  buf = Buffer.allocUnsafe(64 * 1024);
  at = 0;
  room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }
  varint(n: number): void {
    this.at = putVarint(this.buf, this.at, n);
  }
  bytes(b: Uint8Array): void {
    this.buf.set(b, this.at);
    this.at += b.length;
  }
}

/** A length-delimited field: its tag, its length, its bytes. */
function field(tag: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(varintSize(tag) + varintSize(body.length) + body.length);
  body.copy(out, putVarint(out, putVarint(out, 0, tag), body.length));
  return out;
}

const str = (tag: number, s: string) => field(tag, Buffer.from(s, 'utf8'));

/** An AnyValue's bytes, as the SDK's `writeAnyValue`; undefined for what a call span never carries (arrays, maps, bytes). */
function anyValue(v: AttributeValue): Buffer | undefined {
  if (typeof v === 'string') return str(0x0a, v);
  if (typeof v === 'boolean') return Buffer.from([0x10, v ? 1 : 0]);
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v) && v >= 0) {
      const out = Buffer.allocUnsafe(1 + varintSize(v));
      out[0] = 0x18;
      putVarint(out, 1, v);
      return out;
    }
    if (Number.isInteger(v)) return undefined; // negative or huge integers: the SDK's 64-bit varint
    const out = Buffer.allocUnsafe(9);
    out[0] = 0x21;
    out.writeDoubleLE(v, 1);
    return out;
  }
  return undefined;
}

/** A value `anyValue` writes: a string, a boolean, a number but a negative or unsafe integer. */
const plain = (v: AttributeValue | undefined): v is AttributeValue =>
  typeof v === 'string' ||
  typeof v === 'boolean' ||
  (typeof v === 'number' && (!Number.isInteger(v) || (Number.isSafeInteger(v) && v >= 0)));

/** A KeyValue in field `tag` (attributes are field 9 of a span, 1 of a resource, 3 of a scope). */
function keyValue(tag: number, key: string, value: AttributeValue): Buffer | undefined {
  const v = anyValue(value);
  return v && field(tag, Buffer.concat([str(0x0a, key), field(0x12, v)]));
}

/** fixed64 nanoseconds of an HrTime, as the SDK's `writeHrTimeAsFixed64` splits them. */
function writeTime(out: Out, t: HrTime): void {
  const [seconds, nanos] = t;
  const low16 = (seconds & 0xffff) * 1e9;
  const high = ((seconds / 0x10000) >>> 0) * 1e9;
  const low = (low16 >>> 0) + (((high & 0xffff) * 0x10000) >>> 0) + nanos;
  out.buf.writeUInt32LE(low >>> 0, out.at);
  out.buf.writeUInt32LE(
    (Math.floor(low16 / 0x100000000) + ((high / 0x10000) >>> 0) + Math.floor(low / 0x100000000)) >>> 0,
    out.at + 4,
  );
  out.at += 8;
}

export class CallSpanEncoder {
  readonly #values = new Map<string, Map<AttributeValue, Buffer>>();
  readonly #names = new Map<string, Buffer>();
  /** What every call span shares: `ResourceSpans.resource` and `ScopeSpans.scope`, encoded once. */
  #resource: { of: unknown; bytes: Buffer } | undefined;
  #scope: { of: unknown; bytes: Buffer } | undefined;
  readonly #out = new Out();
  readonly #parts: Buffer[] = [];

  /** The request's bytes: the SDK's for spans of its own, then the call spans'. */
  serializeRequest(spans: ReadableSpan[]): Uint8Array {
    const calls: FinishedSpan[] = [];
    const others: ReadableSpan[] = [];
    for (const s of spans) {
      if (s instanceof FinishedSpan) {
        this.#adopt(s);
        if (this.#encodable(s)) {
          calls.push(s);
          continue;
        }
      }
      others.push(s);
    }
    if (calls.length === 0) return ProtobufTraceSerializer.serializeRequest(others) ?? new Uint8Array(0);
    let ours: Buffer;
    try {
      ours = this.#request(calls);
    } catch {
      // A span this writer got wrong (it checks each one's length): the batch the SDK's way, not lost.
      return ProtobufTraceSerializer.serializeRequest(spans) ?? new Uint8Array(0);
    }
    const theirs = others.length > 0 ? ProtobufTraceSerializer.serializeRequest(others) : undefined;
    return theirs ? Buffer.concat([theirs, ours]) : ours;
  }

  /** What it keeps between batches, in bytes: the parts kept ready and its room. */
  get keptBytes(): number {
    let n = this.#out.buf.length;
    for (const values of this.#values.values()) for (const b of values.values()) n += b.length;
    for (const b of this.#names.values()) n += b.length;
    return n;
  }

  deserializeResponse(data: Uint8Array) {
    return ProtobufTraceSerializer.deserializeResponse(data);
  }

  /** The tracer's resource and scope (the first call span's), and attributes of the kinds written here; any other goes the SDK's way. */
  #encodable(s: FinishedSpan): boolean {
    if (s.resource !== this.#resource?.of || s.instrumentationScope !== this.#scope?.of) return false;
    for (const key in s.attributes) if (!plain(s.attributes[key])) return false;
    return true;
  }

  /** The resource and scope call spans are written under, from the first one seen: only plain ones (no schema URL, scope attributes, or attributes of other kinds). */
  #adopt(s: FinishedSpan): void {
    if (this.#resource) return;
    const { resource, instrumentationScope: scope } = s;
    const attrs = Object.values(resource.attributes);
    const scoped = scope as { attributes?: object; droppedAttributesCount?: number };
    if (resource.schemaUrl || scope.schemaUrl || scoped.attributes || scoped.droppedAttributesCount) return;
    if (!attrs.every((v) => plain(v as AttributeValue | undefined))) return;
    this.#resource = { of: resource, bytes: this.#resourceBytes(s) };
    this.#scope = { of: scope, bytes: this.#scopeBytes(s) };
  }

  #request(calls: FinishedSpan[]): Buffer {
    const resource = this.#resource!;
    const scope = this.#scope!;
    const out = this.#out;
    out.at = 0;
    for (const s of calls) this.#span(s);
    const spans = out.buf.subarray(0, out.at);
    // ResourceSpans { resource, scope_spans { scope, spans… } }, in the request's field 1.
    const scopeSpansLen = scope.bytes.length + spans.length;
    const resourceSpansLen = resource.bytes.length + 1 + varintSize(scopeSpansLen) + scopeSpansLen;
    const head = Buffer.allocUnsafe(32 + resource.bytes.length + scope.bytes.length);
    let at = putVarint(head, putVarint(head, 0, 0x0a), resourceSpansLen);
    at += resource.bytes.copy(head, at);
    at = putVarint(head, putVarint(head, at, 0x12), scopeSpansLen);
    at += scope.bytes.copy(head, at);
    const request = Buffer.concat([head.subarray(0, at), spans]);
    // A batch of long spans (a tenant's long names) does not keep its room once sent.
    if (out.buf.length > ROOM_KEPT) out.buf = Buffer.allocUnsafe(ROOM_KEPT);
    return request;
  }

  #resourceBytes(s: ReadableSpan): Buffer {
    const attrs = Object.entries(s.resource.attributes).flatMap(([k, v]) => {
      const kv = v === undefined ? undefined : keyValue(0x0a, k, v as AttributeValue);
      return kv ? [kv] : [];
    });
    return field(0x0a, Buffer.concat([...attrs, Buffer.from([0x10, 0])]));
  }

  #scopeBytes(s: ReadableSpan): Buffer {
    const scope = s.instrumentationScope;
    const parts = [str(0x0a, scope.name)];
    if (scope.version) parts.push(str(0x12, scope.version));
    return field(0x0a, Buffer.concat(parts));
  }

  #kept(key: string, value: AttributeValue): Buffer {
    let values = this.#values.get(key);
    if (!values) {
      values = new Map();
      this.#values.set(key, values);
    }
    let bytes = values.get(value);
    if (bytes) return bytes;
    bytes = keyValue(0x4a, key, value)!;
    if (values.size < KEPT_PER_KEY && bytes.length <= KEPT_BYTES) values.set(value, bytes);
    return bytes;
  }

  #name(name: string): Buffer {
    let bytes = this.#names.get(name);
    if (bytes) return bytes;
    bytes = str(0x2a, name);
    if (this.#names.size < KEPT_NAMES && bytes.length <= KEPT_BYTES) this.#names.set(name, bytes);
    return bytes;
  }

  /** One Span in ScopeSpans' field 2, fields in the SDK serializer's order. */
  #span(s: FinishedSpan): void {
    const ctx = s.spanContext();
    const parent = s.parentSpanContext;
    const traceState = ctx.traceState?.serialize();
    const name = this.#name(s.name);
    const parts = this.#parts;
    parts.length = 0;
    let attrs = 0;
    for (const key in s.attributes) {
      const b = this.#kept(key, s.attributes[key]!);
      parts.push(b);
      attrs += b.length;
    }
    const stateLen = traceState ? Buffer.byteLength(traceState) : 0;
    const message = s.status.message ?? '';
    const messageLen = Buffer.byteLength(message);
    const statusLen =
      (messageLen ? 1 + varintSize(messageLen) + messageLen : 0) + 1 + varintSize(s.status.code);
    const len =
      18 + // trace id
      10 + // span id
      (traceState ? 1 + varintSize(stateLen) + stateLen : 0) +
      (parent?.spanId ? 10 : 0) +
      name.length +
      2 + // kind
      18 + // times
      attrs +
      6 + // three dropped counts, each 0
      1 +
      varintSize(statusLen) +
      statusLen +
      6; // flags
    const out = this.#out;
    out.room(len + 8);
    out.buf[out.at++] = 0x12;
    out.varint(len);
    const start = out.at;
    out.buf[out.at++] = 0x0a;
    out.buf[out.at++] = 16;
    out.at += out.buf.write(ctx.traceId, out.at, 'hex');
    out.buf[out.at++] = 0x12;
    out.buf[out.at++] = 8;
    out.at += out.buf.write(ctx.spanId, out.at, 'hex');
    if (traceState) {
      out.buf[out.at++] = 0x1a;
      out.varint(stateLen);
      out.at += out.buf.write(traceState, out.at, 'utf8');
    }
    if (parent?.spanId) {
      out.buf[out.at++] = 0x22;
      out.buf[out.at++] = 8;
      out.at += out.buf.write(parent.spanId, out.at, 'hex');
    }
    out.bytes(name);
    // kind, offset by one as OTLP's enum is (SpanKind 0–4: never the unset 0, so always written)
    out.buf[out.at++] = 0x30;
    out.buf[out.at++] = s.kind + 1;
    out.buf[out.at++] = 0x39;
    writeTime(out, s.startTime);
    out.buf[out.at++] = 0x41;
    writeTime(out, s.endTime);
    for (const b of parts) out.bytes(b);
    // dropped attributes, events, links: 0 each; a call span has no events or links.
    out.buf[out.at++] = 0x50;
    out.buf[out.at++] = 0;
    out.buf[out.at++] = 0x60;
    out.buf[out.at++] = 0;
    out.buf[out.at++] = 0x70;
    out.buf[out.at++] = 0;
    out.buf[out.at++] = 0x7a;
    out.varint(statusLen);
    if (messageLen) {
      out.buf[out.at++] = 0x12;
      out.varint(messageLen);
      out.at += out.buf.write(message, out.at, 'utf8');
    }
    out.buf[out.at++] = 0x18;
    out.varint(s.status.code);
    // flags: the trace flags, and whether the parent was remote (known, so its bit set).
    out.buf[out.at++] = 0x85;
    out.buf[out.at++] = 0x01;
    out.buf.writeUInt32LE((ctx.traceFlags & 0xff) | 0x100 | (parent?.isRemote ? 0x200 : 0), out.at);
    out.at += 4;
    if (out.at - start !== len)
      throw new Error(`call span encoded as ${out.at - start} bytes, expected ${len}`);
  }
}
