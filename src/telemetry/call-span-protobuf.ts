/**
 * The two spans every governed call makes, written as OTLP protobuf the moment each ends, byte
 * for byte as the SDK's `ProtobufTraceSerializer` writes them, into the bytes of the next export
 * request: no span object is held until the batch is sent (held spans outlived the young
 * generation and were copied and promoted by the collector: what traces cost a call was mostly
 * memory work, not encoding). Strings are written straight from the span's attributes (short
 * ASCII ones byte by byte; parts once kept encoded and copied after read slower in a real call,
 * their buffers cold, and a call's unique ids missed them anyway); ids go from hex to bytes
 * in JS (a native call per id cost more than the id). Every other span (a run's, a model call's) is the SDK's.
 */
import type { Attributes, AttributeValue } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { CallSpanStart } from './call-spans.ts';

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

/** The room kept between batches: 512 call spans of ~0.3 KiB, with some to spare. */
const ROOM_KEPT = 1 << 20;

/** A span the writer cannot write as the SDK would (an attribute of another kind, an id not hex): the caller sends it the SDK's way. */
export class NotWritten extends Error {}

/** Each ASCII code's value as a hex digit (either case, as the SDK reads ids), 16 for any other. */
const HEX_DIGIT = new Uint8Array(128).fill(16);
for (let i = 0; i < 10; i++) HEX_DIGIT[48 + i] = i;
for (let i = 0; i < 6; i++) HEX_DIGIT[97 + i] = HEX_DIGIT[65 + i] = 10 + i;

/** Writes the id `hex` as its `bytes` bytes (a native `Buffer.write` costs more than the id); an id of another length or not hex is not written. */
function putHex(buf: Buffer, at: number, hex: string, bytes: number): void {
  if (hex.length !== bytes * 2) throw new NotWritten('an id of another length');
  for (let i = 0; i < bytes; i++) {
    const hi = hex.charCodeAt(2 * i);
    const lo = hex.charCodeAt(2 * i + 1);
    const h = hi < 128 ? HEX_DIGIT[hi]! : 16;
    const l = lo < 128 ? HEX_DIGIT[lo]! : 16;
    if ((h | l) > 15) throw new NotWritten('an id not hex');
    buf[at + i] = (h << 4) | l;
  }
}

/** Writes a 32-bit unsigned integer, little-endian (fixed32, and each half of a fixed64). */
function putUint32(buf: Buffer, at: number, n: number): void {
  buf[at] = n & 0xff;
  buf[at + 1] = (n >>> 8) & 0xff;
  buf[at + 2] = (n >>> 16) & 0xff;
  buf[at + 3] = n >>> 24;
}

/** A value written here: a string, a boolean, a number but a negative or unsafe integer (the SDK's 64-bit varint). */
const plain = (v: AttributeValue | undefined): v is AttributeValue =>
  typeof v === 'string' ||
  typeof v === 'boolean' ||
  (typeof v === 'number' && (!Number.isInteger(v) || (Number.isSafeInteger(v) && v >= 0)));

/** UTF-8 bytes of `s`: its length when it is ASCII (as the ids, routes and tool names are), else Buffer's count. */
function utf8Length(s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8');
  return s.length;
}

/** A length-delimited field's whole size, for a body of `n` bytes (one-byte tags only). */
const fieldSize = (n: number) => 1 + varintSize(n) + n;

/** Bytes of an AnyValue's body (as the SDK's `writeAnyValue`), given a string's UTF-8 length. */
function anyValueSize(v: AttributeValue, stringLength: number): number {
  if (typeof v === 'string') return fieldSize(stringLength);
  if (typeof v === 'boolean') return 2;
  return Number.isInteger(v) ? 1 + varintSize(v as number) : 9;
}

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
  /** `s`, of `length` UTF-8 bytes: short ASCII byte by byte (no native call), the rest by Buffer. */
  string(s: string, length: number): void {
    const buf = this.buf;
    if (length === s.length && length <= 64) {
      let at = this.at;
      for (let i = 0; i < length; i++) buf[at++] = s.charCodeAt(i);
      this.at = at;
    } else this.at += buf.write(s, this.at, length, 'utf8');
  }
  /** A string field: its tag, its length, its bytes. */
  stringField(tag: number, s: string, length: number): void {
    this.buf[this.at++] = tag;
    this.varint(length);
    this.string(s, length);
  }
  /** A KeyValue in field `tag` (attributes are field 9 of a span, 1 of a resource), lengths known. */
  keyValue(tag: number, key: string, keyLength: number, v: AttributeValue, valueLength: number): void {
    const any = anyValueSize(v, valueLength);
    this.buf[this.at++] = tag;
    this.varint(fieldSize(keyLength) + fieldSize(any));
    this.stringField(0x0a, key, keyLength);
    this.buf[this.at++] = 0x12;
    this.varint(any);
    if (typeof v === 'string') this.stringField(0x0a, v, valueLength);
    else if (typeof v === 'boolean') {
      this.buf[this.at++] = 0x10;
      this.buf[this.at++] = v ? 1 : 0;
    } else if (Number.isInteger(v)) {
      this.buf[this.at++] = 0x18;
      this.varint(v as number);
    } else {
      this.buf[this.at++] = 0x21;
      this.at = this.buf.writeDoubleLE(v as number, this.at);
    }
  }
}

/**
 * fixed64 nanoseconds of a time in epoch milliseconds, as the SDK makes an HrTime of it
 * (`FinishedSpan`'s times) and its `writeHrTimeAsFixed64` splits that.
 */
function writeTime(out: Out, ms: number): void {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6);
  const low16 = (seconds & 0xffff) * 1e9;
  const high = ((seconds / 0x10000) >>> 0) * 1e9;
  const low = (low16 >>> 0) + (((high & 0xffff) * 0x10000) >>> 0) + nanos;
  putUint32(out.buf, out.at, low >>> 0);
  putUint32(
    out.buf,
    out.at + 4,
    (Math.floor(low16 / 0x100000000) + ((high / 0x10000) >>> 0) + Math.floor(low / 0x100000000)) >>> 0,
  );
  out.at += 8;
}

/** What is known of a call span once it ends: its start, its name, its attributes, whether it failed. */
export interface CallSpanEnd {
  start: CallSpanStart;
  endMs: number;
  name: string;
  attributes: Attributes;
  failed: boolean;
}

/** One export request's bytes, and how many spans it carries (what the exporter's own metrics count). */
export interface Batch {
  bytes: Buffer;
  count: number;
}

/**
 * Call spans written into the body of the next export request as they end (`write`), the
 * request's bytes taken whole when it is sent (`take`), under one resource and scope.
 */
export class CallSpanWriter {
  /** What every call span shares: `ResourceSpans.resource` and `ScopeSpans.scope`, encoded once. */
  readonly #resource: Buffer;
  readonly #scope: Buffer;
  readonly #out = new Out();
  /**
   * Each attribute's key and value lengths, worked out before the span's length is written: kept
   * from span to span and overwritten (emptying an array each span cost a runtime call).
   */
  #lengths = new Uint32Array(64);
  /** Where each span written since the last take ends, so a take can stop at a batch's size. */
  #ends: number[] = [];

  constructor(resource: Resource, scope: InstrumentationScope) {
    const attrs = Object.entries(resource.attributes);
    if (resource.schemaUrl || scope.schemaUrl || !attrs.every(([, v]) => plain(v as AttributeValue)))
      throw new Error('call spans are written under a resource of plain attributes and no schema URL');
    const out = this.#out;
    // Resource { attributes…, dropped_attributes_count 0 }, in ResourceSpans' field 1.
    const body = new Out();
    for (const [k, v] of attrs)
      body.keyValue(0x0a, k, utf8Length(k), v as AttributeValue, typeof v === 'string' ? utf8Length(v) : 0);
    body.buf[body.at++] = 0x10;
    body.buf[body.at++] = 0;
    out.buf[out.at++] = 0x0a;
    out.varint(body.at);
    out.buf.set(body.buf.subarray(0, body.at), out.at);
    out.at += body.at;
    this.#resource = Buffer.from(out.buf.subarray(0, out.at));
    out.at = 0;
    // InstrumentationScope { name, version }, in ScopeSpans' field 1.
    const name = utf8Length(scope.name);
    const version = scope.version ? utf8Length(scope.version) : 0;
    out.buf[out.at++] = 0x0a;
    out.varint(fieldSize(name) + (scope.version ? fieldSize(version) : 0));
    out.stringField(0x0a, scope.name, name);
    if (scope.version) out.stringField(0x12, scope.version, version);
    this.#scope = Buffer.from(out.buf.subarray(0, out.at));
    out.at = 0;
  }

  /** Spans written since the last `take`. */
  get count(): number {
    return this.#ends.length;
  }

  /** Bytes written since the last `take`. */
  get bytes(): number {
    return this.#out.at;
  }

  /**
   * Writes one ended span; a span it cannot write as the SDK would throws `NotWritten` and
   * leaves nothing behind (the caller sends that one the SDK's way).
   */
  write(s: CallSpanEnd): void {
    const at = this.#out.at;
    try {
      this.#span(s);
    } catch (err) {
      this.#out.at = at;
      throw err instanceof NotWritten ? err : new NotWritten(String(err));
    }
    this.#ends.push(this.#out.at);
  }

  /** The export request (ExportTraceServiceRequest) for the first `max` spans written since the last take, or nothing. */
  take(max = Number.POSITIVE_INFINITY): Batch | undefined {
    const count = Math.min(this.#ends.length, max);
    if (count === 0) return undefined;
    const out = this.#out;
    const cut = this.#ends[count - 1]!;
    const spans = out.buf.subarray(0, cut);
    // ResourceSpans { resource, scope_spans { scope, spans… } }, in the request's field 1.
    const scopeSpansLen = this.#scope.length + spans.length;
    const resourceSpansLen = this.#resource.length + 1 + varintSize(scopeSpansLen) + scopeSpansLen;
    const head = Buffer.allocUnsafe(32 + this.#resource.length + this.#scope.length);
    let at = putVarint(head, putVarint(head, 0, 0x0a), resourceSpansLen);
    at += this.#resource.copy(head, at);
    at = putVarint(head, putVarint(head, at, 0x12), scopeSpansLen);
    at += this.#scope.copy(head, at);
    const request = { bytes: Buffer.concat([head.subarray(0, at), spans]), count };
    if (count < this.#ends.length) {
      // The rest waits for the next batch, moved to the front (only when exports fall behind).
      out.buf.copyWithin(0, cut, out.at);
      out.at -= cut;
      this.#ends = this.#ends.slice(count).map((end) => end - cut);
      return request;
    }
    out.at = 0;
    this.#ends.length = 0;
    // A batch of long spans (a tenant's long names) does not keep its room once sent.
    if (out.buf.length > ROOM_KEPT) out.buf = Buffer.allocUnsafe(ROOM_KEPT);
    return request;
  }

  /** The room it keeps between batches, in bytes. */
  get keptBytes(): number {
    return this.#out.buf.length;
  }

  /** One Span in ScopeSpans' field 2, fields in the SDK serializer's order. */
  #span(s: CallSpanEnd): void {
    const ctx = s.start.context;
    const parent = s.start.parent;
    const traceState = ctx.traceState?.serialize();
    const nameLen = utf8Length(s.name);
    let lengths = this.#lengths;
    let n = 0;
    let attrs = 0;
    for (const key in s.attributes) {
      const v = s.attributes[key];
      // Checked before a byte is written: a kind it does not write goes the SDK's way whole.
      if (!plain(v)) throw new NotWritten(`attribute ${key}`);
      const keyLen = utf8Length(key);
      const valueLen = typeof v === 'string' ? utf8Length(v) : 0;
      if (n + 2 > lengths.length) {
        const bigger = new Uint32Array(lengths.length * 2);
        bigger.set(lengths);
        lengths = bigger;
        this.#lengths = bigger;
      }
      lengths[n++] = keyLen;
      lengths[n++] = valueLen;
      attrs += fieldSize(fieldSize(keyLen) + fieldSize(anyValueSize(v as AttributeValue, valueLen)));
    }
    const stateLen = traceState ? Buffer.byteLength(traceState) : 0;
    const status = s.failed ? 2 : 0;
    const statusLen = 2; // the code alone: call spans carry no status message
    const len =
      18 + // trace id
      10 + // span id
      (traceState ? 1 + varintSize(stateLen) + stateLen : 0) +
      (parent?.spanId ? 10 : 0) +
      fieldSize(nameLen) +
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
    putHex(out.buf, out.at, ctx.traceId, 16);
    out.at += 16;
    out.buf[out.at++] = 0x12;
    out.buf[out.at++] = 8;
    putHex(out.buf, out.at, ctx.spanId, 8);
    out.at += 8;
    if (traceState) {
      out.buf[out.at++] = 0x1a;
      out.varint(stateLen);
      out.at += out.buf.write(traceState, out.at, 'utf8');
    }
    if (parent?.spanId) {
      out.buf[out.at++] = 0x22;
      out.buf[out.at++] = 8;
      putHex(out.buf, out.at, parent.spanId, 8);
      out.at += 8;
    }
    out.stringField(0x2a, s.name, nameLen);
    // kind, offset by one as OTLP's enum is (SpanKind 0–4: never the unset 0, so always written)
    out.buf[out.at++] = 0x30;
    out.buf[out.at++] = s.start.kind + 1;
    out.buf[out.at++] = 0x39;
    writeTime(out, s.start.startMs);
    out.buf[out.at++] = 0x41;
    writeTime(out, s.endMs);
    let i = 0;
    for (const key in s.attributes) {
      out.keyValue(0x4a, key, lengths[i]!, s.attributes[key] as AttributeValue, lengths[i + 1]!);
      i += 2;
    }
    // dropped attributes, events, links: 0 each; a call span has no events or links.
    out.buf[out.at++] = 0x50;
    out.buf[out.at++] = 0;
    out.buf[out.at++] = 0x60;
    out.buf[out.at++] = 0;
    out.buf[out.at++] = 0x70;
    out.buf[out.at++] = 0;
    out.buf[out.at++] = 0x7a;
    out.varint(statusLen);
    out.buf[out.at++] = 0x18;
    out.buf[out.at++] = status;
    // flags: the trace flags, and whether the parent was remote (known, so its bit set).
    out.buf[out.at++] = 0x85;
    out.buf[out.at++] = 0x01;
    putUint32(out.buf, out.at, (ctx.traceFlags & 0xff) | 0x100 | (parent?.isRemote ? 0x200 : 0));
    out.at += 4;
    if (out.at - start !== len)
      throw new Error(`call span encoded as ${out.at - start} bytes, expected ${len}`);
  }
}
