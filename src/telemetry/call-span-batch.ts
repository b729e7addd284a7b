/**
 * The calls' spans batched and sent as the SDK's `BatchSpanProcessor` sends spans (a batch when
 * `maxExportBatchSize` have ended or `scheduledDelayMillis` after the first, one export at a
 * time, spans past the queue's bound dropped and counted), but held as the request's protobuf
 * bytes (`CallSpanWriter`) rather than as span objects; sent by the OTLP/HTTP exporter's own
 * transport (endpoint, `OTEL_EXPORTER_OTLP_HEADERS`, timeout, retries).
 */
import { globalErrorHandler } from '@opentelemetry/core';
import type { IOtlpExportDelegate } from '@opentelemetry/otlp-exporter-base';
import {
  convertLegacyHttpOptions,
  createOtlpHttpExportDelegate,
} from '@opentelemetry/otlp-exporter-base/node-http';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { Batch, CallSpanEnd, CallSpanWriter } from './call-span-protobuf.ts';

/** The SDK's batch processor's options, with its defaults. */
export interface CallSpanBatchOptions {
  /** How long the first span of a batch waits for the batch to fill (5 s). */
  scheduledDelayMillis?: number;
  /** Spans in one export request at most (512). */
  maxExportBatchSize?: number;
  /** Spans held at most while an export is under way (the SDK's default 2048); past it, dropped. */
  maxQueueSize?: number;
  /** How long an export is waited for before the next may go (the SDK's default 30 s). */
  exportTimeoutMillis?: number;
}

/** A batch is sent once its bytes reach this too: a tenant's long tool names make no request of hundreds of MiB. */
const BATCH_BYTES = 1 << 20;
/** Bytes held at most while an export is under way; past it, spans are dropped. */
const HELD_BYTES = 8 << 20;

/** The exporter's OTLP/HTTP protobuf transport, for requests already written. */
export function protobufDelegate(url: string): IOtlpExportDelegate<Batch> {
  return createOtlpHttpExportDelegate(
    convertLegacyHttpOptions({ url }, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
    {
      serializeRequest: (b: Batch) => b.bytes,
      deserializeResponse: (d: Uint8Array) => ProtobufTraceSerializer.deserializeResponse(d),
    },
    'otlp_http_span_exporter',
    { name: 'span', countItems: (b: Batch) => b.count },
    undefined,
  );
}

export class CallSpanBatch {
  readonly #writer: CallSpanWriter;
  readonly #delegate: IOtlpExportDelegate<Batch>;
  readonly #delay: number;
  readonly #size: number;
  readonly #queue: number;
  readonly #timeout: number;
  /** Spans written, and spans whose export was answered (or given up on), since the start: what a flush waits for. */
  #written = 0;
  #sent = 0;
  #timer: NodeJS.Timeout | undefined;
  /** The export under way, if any: one at a time, as the SDK's batch processor. */
  #sending: Promise<void> | undefined;
  #stopped = false;
  /** Spans dropped since the last warning, and in all. */
  #dropping = 0;
  dropped = 0;

  constructor(writer: CallSpanWriter, delegate: IOtlpExportDelegate<Batch>, o: CallSpanBatchOptions) {
    this.#writer = writer;
    this.#delegate = delegate;
    this.#delay = o.scheduledDelayMillis ?? 5000;
    this.#queue = o.maxQueueSize ?? 2048;
    this.#timeout = o.exportTimeoutMillis ?? 30_000;
    this.#size = Math.min(o.maxExportBatchSize ?? 512, this.#queue);
  }

  /** A call span ended (sampled): written into the next batch, or dropped if too many wait. Throws `NotWritten` as the writer does. */
  end(span: CallSpanEnd): void {
    if (this.#stopped) return;
    const w = this.#writer;
    if (w.count >= this.#queue || w.bytes >= HELD_BYTES) {
      this.#dropping++;
      this.dropped++;
      return;
    }
    if (this.#dropping > 0) {
      globalErrorHandler(new Error(`Dropped ${this.#dropping} call spans because the export queue was full`));
      this.#dropping = 0;
    }
    w.write(span);
    this.#written++;
    if (!this.#sending) this.#next();
  }

  /** With no export under way: the next batch now if it is full, else once the delay is up. */
  #next(): void {
    const w = this.#writer;
    if (w.count >= this.#size || w.bytes >= BATCH_BYTES) this.#send();
    else if (w.count > 0 && this.#timer === undefined && !this.#stopped) {
      this.#timer = setTimeout(() => this.#send(), this.#delay);
      this.#timer.unref();
    }
  }

  /** Sends what is written now; the next batch follows when this one is answered, if it is due. */
  #send(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#writer.take(this.#size);
    if (!batch) return;
    this.#sending = new Promise<void>((resolve) => {
      // A collector that never answers does not hold the next batches back for ever.
      const timeout = setTimeout(() => {
        globalErrorHandler(new Error(`Call span export not answered in ${this.#timeout} ms`));
        resolve();
      }, this.#timeout);
      timeout.unref();
      this.#delegate.export(batch, (result) => {
        clearTimeout(timeout);
        if (result.error) globalErrorHandler(result.error);
        resolve();
      });
    }).then(() => {
      this.#sent += batch.count;
      this.#sending = undefined;
      this.#next();
    });
  }

  /** Sends what is written now, and waits until it is answered; spans ending meanwhile wait for their own batch. */
  async flush(): Promise<void> {
    const written = this.#written;
    while (this.#sent < written) {
      if (this.#sending) await this.#sending;
      else if (this.#writer.count > 0) this.#send();
      else break;
    }
  }

  /** Sends what is left, and stops: spans ending after this are not sent. */
  async shutdown(): Promise<void> {
    await this.flush();
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#delegate.shutdown();
  }
}
