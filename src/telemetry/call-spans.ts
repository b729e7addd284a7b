/**
 * The two spans every governed call makes — its HTTP request's and its `execute_tool` — made
 * without the SDK's `Span`: while open, a span here is a few fields; once ended it is written
 * as protobuf at once (`call-span-protobuf.ts`), or, sent as JSON or to a test's exporter, takes
 * the SDK's finished form (`FinishedSpan`), which the SDK's batch processor and exporter send as
 * they send any span. The SDK's spans validate and copy attributes, count themselves and need a
 * context object per request; end to end that was most of what traces cost a governed call
 * (bench/telemetry.bench.ts). Runs and model calls, a few per run, keep the SDK's spans.
 */
import { randomFillSync } from 'node:crypto';
import type { Attributes, HrTime, Link, SpanContext, SpanKind, SpanStatus } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace';

/** Random bytes drawn a page at a time and made hex at once: ids are slices of it, one system call per 170 spans. */
const bytes = Buffer.allocUnsafe(4096);
let hex = '';
let used = 0;
function randomHex(chars: number): string {
  if (used + chars > hex.length) {
    hex = randomFillSync(bytes).toString('hex');
    used = 0;
  }
  used += chars;
  return hex.slice(used - chars, used);
}

const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);
/** A new trace id (never the all-zero one, which W3C trace context calls invalid). */
export const newTraceId = (): string => {
  const id = randomHex(32);
  return id === ZERO_TRACE ? newTraceId() : id;
};
export const newSpanId = (): string => {
  const id = randomHex(16);
  return id === ZERO_SPAN ? newSpanId() : id;
};

const ORIGIN = performance.timeOrigin;
/**
 * A time in milliseconds since the epoch, to the microsecond (the SDK's clock: its origin plus
 * `performance.now()`), from a `performance.now()` reading already taken (the metrics' own).
 */
export const epochMs = (now = performance.now()): number => ORIGIN + now;

const hrTime = (ms: number): HrTime => {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
};

const NONE: never[] = [];
const UNSET: SpanStatus = { code: 0 };
const ERROR: SpanStatus = { code: 2 };

/** Where a call span's ids, kind and name come from; its attributes are given whole at its end. */
export interface CallSpanStart {
  context: SpanContext;
  parent: SpanContext | undefined;
  kind: SpanKind;
  startMs: number;
}

/** A call's span, ended: what the SDK's processor and exporter read. */
export class FinishedSpan implements ReadableSpan {
  readonly name: string;
  readonly kind: SpanKind;
  readonly parentSpanContext: SpanContext | undefined;
  readonly status: SpanStatus;
  readonly attributes: Attributes;
  readonly links: Link[] = NONE;
  readonly events: TimedEvent[] = NONE;
  readonly ended = true;
  readonly droppedAttributesCount = 0;
  readonly droppedEventsCount = 0;
  readonly droppedLinksCount = 0;
  readonly resource: Resource;
  readonly instrumentationScope: InstrumentationScope;
  readonly #context: SpanContext;
  readonly #startMs: number;
  readonly #endMs: number;

  constructor(
    start: CallSpanStart,
    name: string,
    attributes: Attributes,
    failed: boolean,
    from: { resource: Resource; scope: InstrumentationScope },
    endMs = epochMs(),
  ) {
    this.name = name;
    this.kind = start.kind;
    this.parentSpanContext = start.parent;
    this.status = failed ? ERROR : UNSET;
    this.attributes = attributes;
    this.resource = from.resource;
    this.instrumentationScope = from.scope;
    this.#context = start.context;
    this.#startMs = start.startMs;
    this.#endMs = endMs;
  }

  spanContext(): SpanContext {
    return this.#context;
  }
  get startTime(): HrTime {
    return hrTime(this.#startMs);
  }
  get endTime(): HrTime {
    return hrTime(this.#endMs);
  }
  get duration(): HrTime {
    return hrTime(this.#endMs - this.#startMs);
  }
}
