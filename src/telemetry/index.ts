/**
 * Telemetry: what a platform team watches Paddock with. Metrics in the Prometheus text format
 * (`GET /metrics`, with the scrape token), and OpenTelemetry traces sent over OTLP when an
 * endpoint is configured. Both hook into the domains through the observers each domain declares
 * (the gate's, the audit trail's, the runtime's); with neither configured, none is attached.
 */
import type { TrailObserver } from '../audit/index.ts';
import type { GateObserver, UnknownToolObserver } from '../gateway/index.ts';
import type { RunObserver } from '../runtime/index.ts';
import { Metrics } from './metrics.ts';
import { Tracing, type TracingOptions } from './tracing.ts';

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
  version: string;
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
          version: o.version,
          exporter: o.exporter,
        })
      : null;
    const m = this.metrics;
    const t = this.tracing;
    // Traces outside (the span holds the call's context), metrics inside.
    this.gate = both<GateObserver>(t?.gate, m?.gate, (a, b) => (req, run) => a(req, () => b(req, run)));
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
   * One HTTP request, counted and traced: `answered` gives its route template and status once
   * `next` is done.
   */
  async request(
    method: string,
    header: (name: string) => string | undefined,
    next: () => Promise<void>,
    answered: () => { route: string; status: number },
  ): Promise<void> {
    const t0 = performance.now();
    // The route is looked up once, for the span and the histogram alike.
    let done: { route: string; status: number } | undefined;
    const once = () => (done ??= answered());
    try {
      if (this.tracing) await this.tracing.request(method, header, next, once);
      else await next();
    } finally {
      if (this.metrics) {
        const { route, status } = once();
        this.metrics.http(method, route, status, (performance.now() - t0) / 1000);
      }
    }
  }

  /** Sends the spans still buffered, and stops. */
  async close(): Promise<void> {
    await this.tracing?.close();
  }
}
