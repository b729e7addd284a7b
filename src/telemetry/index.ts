/**
 * Telemetry: what a platform team watches Paddock with. Metrics in the Prometheus text format
 * (`GET /metrics`, with the scrape token), and OpenTelemetry traces sent over OTLP when an
 * endpoint is configured. Both hook into the domains through the observers each domain declares
 * (the gate's, the audit trail's, the runtime's); with neither configured, none is attached.
 */
import type { TrailObserver } from '../audit/index.ts';
import type { GateObserver, GateRequest, UnknownToolObserver } from '../gateway/index.ts';
import type { Logger } from '../log/index.ts';
import type { RunObserver } from '../runtime/index.ts';
import type { CallSpanStart } from './call-spans.ts';
import { exporterSecrets, logOtelDiagnostics } from './diagnostics.ts';
import { gateOutcome, Metrics } from './metrics.ts';
import { Tracing, type TracingOptions } from './tracing.ts';

/** A gate call being watched: the call, since when, its span when traced. */
interface GateWatch {
  req: GateRequest;
  t0: number;
  span: CallSpanStart | undefined;
}

export { gateOutcome, LABEL_VALUES, METRICS, Metrics, type ScrapeSources } from './metrics.ts';
export { Tracing } from './tracing.ts';

export interface TelemetryOptions {
  /** Metrics are kept (and `/metrics` answers) only with a scrape token. */
  metrics: boolean;
  /** Traces are made only with an endpoint. */
  tracesEndpoint: string | undefined;
  traceContent: boolean;
  /** Which traces are kept (default: all, or as the caller's `traceparent` says). */
  traceSampler?: TracingOptions['sampler'];
  /** How finished spans are batched for export (default: the SDK’s 5 s and 512). */
  traceBatch?: TracingOptions['batch'];
  /** How spans are encoded on the wire (default: protobuf). */
  traceProtocol?: TracingOptions['protocol'];
  version: string;
  /** Where OpenTelemetry's own warnings go (an export refused, spans dropped); none: nowhere. */
  log?: Logger;
  /** Tests: spans go here instead of the OTLP exporter. */
  exporter?: TracingOptions['exporter'];
}

/** Each observer in turn, or none at all when nothing watches. */
const both = <T>(a: T | undefined, b: T | undefined, join: (a: T, b: T) => T): T | undefined =>
  a && b ? join(a, b) : (a ?? b);

export class Telemetry {
  readonly metrics: Metrics | null;
  readonly tracing: Tracing | null;
  readonly gate: GateObserver | undefined;
  readonly unknownTool: UnknownToolObserver | undefined;
  readonly trail: TrailObserver | undefined;
  readonly runs: RunObserver | undefined;

  constructor(o: TelemetryOptions) {
    this.metrics = o.metrics ? new Metrics() : null;
    this.tracing = o.tracesEndpoint
      ? new Tracing({
          endpoint: o.tracesEndpoint,
          content: o.traceContent,
          sampler: o.traceSampler,
          batch: o.traceBatch,
          protocol: o.traceProtocol,
          version: o.version,
          exporter: o.exporter,
        })
      : null;
    if (this.tracing && o.log && o.tracesEndpoint)
      logOtelDiagnostics(o.log, exporterSecrets(process.env, o.tracesEndpoint));
    const m = this.metrics;
    const t = this.tracing;
    this.gate = m || t ? this.#gate(m, t) : undefined;
    this.unknownTool = m?.unknownTool;
    this.trail = m?.trail;
    this.runs = both<RunObserver>(t?.runs, m?.runs, (a, b) => ({
      started: (r) => {
        a.started(r);
        b.started(r);
      },
      resumed: (r) => {
        a.resumed(r);
        b.resumed(r);
      },
      step: (r, s) => {
        a.step(r, s);
        b.step(r, s);
      },
      ended: (r, e) => {
        a.ended(r, e);
        b.ended(r, e);
      },
    }));
  }

  /**
   * Each gate call counted and spanned, in one observer told by the gate's own steps; one clock
   * reading at each end, for the latency and the span alike.
   */
  #gate(m: Metrics | null, t: Tracing | null): GateObserver<GateWatch> {
    return {
      started: (req) => {
        const t0 = performance.now();
        m?.gateStarted();
        return { req, t0, span: t?.toolStarted(req, t0) };
      },
      // Counted first: the in-flight gauge comes down even if the span could not be ended.
      done: (w, result) => {
        const t1 = performance.now();
        m?.gateEnded(w.req.caller.orgId, 'allowed', (t1 - w.t0) / 1000);
        if (w.span) t!.toolDone(w.span, w.req, result, t1);
      },
      failed: (w, err) => {
        const t1 = performance.now();
        const outcome = gateOutcome(err);
        m?.gateEnded(w.req.caller.orgId, outcome, (t1 - w.t0) / 1000);
        if (w.span) t!.toolFailed(w.span, w.req, err, outcome, t1);
      },
    };
  }

  /**
   * An HTTP request begun at `now` (`performance.now()`): its span when traced, continuing the
   * caller's `traceparent`; a route that calls the gate names it as the caller's `requestSpan`.
   */
  requestStarted(header: (name: string) => string | undefined, now: number): CallSpanStart | undefined {
    return this.tracing?.requestStarted(header, now);
  }

  /** The request answered, by the route template it matched: counted, and its span ended. */
  requestEnded(
    span: CallSpanStart | undefined,
    method: string,
    route: string,
    status: number,
    started: number,
    now: number,
  ): void {
    this.metrics?.http(method, route, status, (now - started) / 1000);
    if (span) this.tracing!.requestEnded(span, method, route, status, now);
  }

  /** Sends the spans still buffered, and stops. */
  async close(): Promise<void> {
    this.metrics?.close();
    await this.tracing?.close();
  }
}
