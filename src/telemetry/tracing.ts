/**
 * OpenTelemetry traces, made only when an OTLP endpoint is configured (nothing is made or sent
 * otherwise), following the GenAI semantic conventions: a run is an `invoke_agent` span, each
 * model step a `chat` span, each tool call an `execute_tool` span (the gate's), under the HTTP
 * server span of the request that carried it. A run's trace id is fixed by its run id
 * (`runTrace`), so its audit entries name it and a run resumed after an approval, on any
 * replica, continues the same trace. Message text goes into spans only where the platform allows
 * it (`PADDOCK_TRACE_CONTENT=1`) and the org records run text in full.
 */
import {
  type Attributes,
  type Context,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  TraceFlags,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import {
  convertLegacyHttpOptions,
  createOtlpHttpExportDelegate,
} from '@opentelemetry/otlp-exporter-base/node-http';
import { ProtobufTraceSerializer, TraceExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  type IdGenerator,
  ParentBasedSampler,
  RandomIdGenerator,
  type Sampler,
  SamplingDecision,
  type SpanExporter,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import type { TraceBatch, TraceProtocol, TraceSampler } from '../config/index.ts';
import type { GateRequest, GateResult } from '../gateway/index.ts';
import { runTrace } from '../ids/index.ts';
import type { RunObserver, RunRef } from '../runtime/index.ts';
import { CallSpanBatch, protobufDelegate } from './call-span-batch.ts';
import { CallSpanWriter, NotWritten } from './call-span-protobuf.ts';
import { type CallSpanStart, epochMs, FinishedSpan, newSpanId, newTraceId } from './call-spans.ts';

export interface TracingOptions {
  /** The OTLP/HTTP traces endpoint (`…/v1/traces`). */
  endpoint: string;
  /** Message text may go into spans (for orgs that record run text in full). */
  content: boolean;
  version: string;
  /** Which traces are kept (`OTEL_TRACES_SAMPLER`); default: every one, or as the caller says. */
  sampler?: TraceSampler | undefined;
  /** How finished spans are batched for export (`OTEL_BSP_*`); default: the SDK's. */
  batch?: TraceBatch | undefined;
  /** OTLP's encoding (`OTEL_EXPORTER_OTLP_PROTOCOL`); default protobuf, less than half JSON's bytes. */
  protocol?: TraceProtocol | undefined;
  /** Tests: where spans go instead of the OTLP exporter. */
  exporter?: SpanExporter;
}

/** Random ids, except for the one span a run starts with: its ids come from the run id. */
class RunIds implements IdGenerator {
  readonly #random = new RandomIdGenerator();
  next: { traceId: string; spanId: string } | undefined;
  generateTraceId(): string {
    return this.next?.traceId ?? this.#random.generateTraceId();
  }
  generateSpanId(): string {
    return this.next?.spanId ?? this.#random.generateSpanId();
  }
}

/** The part of a run this replica runs: its span, and whether its text may be traced. */
interface RunPart {
  span: Span;
  ctx: Context;
  content: boolean;
}

const headerGetter: TextMapGetter<(name: string) => string | undefined> = {
  get: (get, key) => get(key),
  keys: () => [],
};

/**
 * The provider as the GenAI conventions name it (`gen_ai.provider.name`'s well-known values),
 * from the AI SDK's provider id (`openai.responses`, `anthropic.messages`, `google.generative-ai`);
 * one it does not list keeps its own name.
 */
const WELL_KNOWN: Record<string, string> = { openai: 'openai', anthropic: 'anthropic', google: 'gcp.gemini' };
export const genAiProvider = (sdkProvider: string): string => {
  const name = sdkProvider.split('.')[0] ?? sdkProvider;
  return Object.hasOwn(WELL_KNOWN, name) ? WELL_KNOWN[name]! : name;
};

const messages = (role: string, text: string) =>
  JSON.stringify([{ role, parts: [{ type: 'text', content: text }] }]);

/** The SDK's sampler for the operator's setting: the root's (for a trace begun here), and the whole. */
function samplers(s: TraceSampler = { name: 'always_on', parentBased: true, ratio: 1 }): [Sampler, Sampler] {
  const root =
    s.name === 'always_on'
      ? new AlwaysOnSampler()
      : s.name === 'always_off'
        ? new AlwaysOffSampler()
        : new TraceIdRatioBasedSampler(s.ratio);
  return [root, s.parentBased ? new ParentBasedSampler({ root }) : root];
}

/** OTLP/HTTP with protobuf, as the SDK's exporter for it is made (endpoint, `OTEL_EXPORTER_OTLP_HEADERS`, timeout, retries). */
function protobufExporter(url: string): SpanExporter {
  return new OTLPExporterBase(
    createOtlpHttpExportDelegate(
      convertLegacyHttpOptions({ url }, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
      ProtobufTraceSerializer,
      'otlp_http_span_exporter',
      TraceExporterMetricsHelper,
      undefined,
    ),
  );
}

const toolSpanName = (req: GateRequest) => `execute_tool ${req.calledAs ?? req.tool}`;

/** An `execute_tool` span's attributes (GenAI's, MCP's, Paddock's), made whole in one go at its end. */
function toolAttributes(req: GateRequest, outcome: string): Attributes {
  const { orgId, agentId, runId } = req.caller;
  const attributes: Attributes = {
    'gen_ai.operation.name': 'execute_tool',
    'gen_ai.tool.name': req.calledAs ?? req.tool,
    'gen_ai.tool.type': 'extension',
    'gen_ai.agent.id': agentId,
    'mcp.method.name': 'tools/call',
    'paddock.org.id': orgId,
    'paddock.connection.id': req.connectionId,
    'paddock.gate.outcome': outcome,
  };
  if (runId) attributes['paddock.run.id'] = runId;
  return attributes;
}

const kept = (s: CallSpanStart) => (s.context.traceFlags & TraceFlags.SAMPLED) !== 0;

export class Tracing {
  readonly #provider: TracerProvider;
  readonly #tracer: Tracer;
  readonly #ids = new RunIds();
  readonly #content: boolean;
  readonly #runs = new Map<string, RunPart>();
  readonly #propagator = new W3CTraceContextPropagator();
  /** What decided a run's root span: asked again, by trace id, for a run's part made elsewhere. */
  readonly #rootSampler: Sampler;
  /** The root sampler's answer when it does not depend on the trace (`always_on`, `always_off`). */
  readonly #always: boolean | undefined;
  /** A span with a parent is kept when its parent is (the default), or decided afresh. */
  readonly #parentBased: boolean;
  /** Where the SDK's spans go once ended (and the calls' too, but with protobuf, the default). */
  readonly #processor: SpanProcessor;
  /** With protobuf: the calls' spans, written as they end into the next export request. */
  readonly #calls: CallSpanBatch | undefined;
  readonly #from: ConstructorParameters<typeof FinishedSpan>[4];

  constructor(o: TracingOptions) {
    this.#content = o.content;
    const [root, sampler] = samplers(o.sampler);
    this.#rootSampler = root;
    this.#parentBased = o.sampler?.parentBased ?? true;
    const name = o.sampler?.name ?? 'always_on';
    this.#always = name === 'always_on' ? true : name === 'always_off' ? false : undefined;
    const resource = resourceFromAttributes({ 'service.name': 'paddock', 'service.version': o.version });
    this.#from = { resource, scope: { name: 'paddock', version: o.version } };
    this.#calls =
      o.exporter || o.protocol === 'http/json'
        ? undefined
        : new CallSpanBatch(
            new CallSpanWriter(resource, this.#from.scope),
            protobufDelegate(o.endpoint),
            o.batch ?? {},
          );
    this.#processor = new BatchSpanProcessor({
      exporter:
        o.exporter ??
        (o.protocol === 'http/json'
          ? new OtlpJsonExporter({ url: o.endpoint })
          : protobufExporter(o.endpoint)),
      ...o.batch,
    });
    this.#provider = new TracerProvider({
      idGenerator: this.#ids,
      sampler,
      resource,
      spanProcessors: [this.#processor],
    });
    this.#tracer = this.#provider.getTracer('paddock', o.version);
  }

  /** A call span begun at `now` (`performance.now()`) under `parent` (the caller's, a run's, a request's), kept as the sampler says. */
  #start(kind: SpanKind, parent: SpanContext | undefined, now: number): CallSpanStart {
    const traceId = parent?.traceId ?? newTraceId();
    const keep =
      parent && this.#parentBased
        ? (parent.traceFlags & TraceFlags.SAMPLED) !== 0
        : (this.#always ??
          this.#rootSampler.shouldSample(ROOT_CONTEXT, traceId, '', kind, {}, []).decision ===
            SamplingDecision.RECORD_AND_SAMPLED);
    const traceFlags = keep ? TraceFlags.SAMPLED : TraceFlags.NONE;
    return {
      context: { traceId, spanId: newSpanId(), traceFlags, traceState: parent?.traceState },
      parent,
      kind,
      startMs: epochMs(now),
    };
  }

  /** A call span ended at `now` (kept): written into the next batch, or the SDK's way when it cannot be (or without protobuf). */
  #ended(start: CallSpanStart, name: string, attributes: Attributes, failed: boolean, now: number): void {
    const endMs = epochMs(now);
    if (this.#calls)
      try {
        this.#calls.end({ start, endMs, name, attributes, failed });
        return;
      } catch (err) {
        if (!(err instanceof NotWritten)) throw err;
      }
    this.#processor.onEnd(new FinishedSpan(start, name, attributes, failed, this.#from, endMs));
  }

  /**
   * An HTTP request's server span, begun at `now` (continuing the caller's `traceparent`, if
   * any), ended with `requestEnded`; the tool calls it carries name it as their caller's
   * `requestSpan`, and are its children.
   */
  requestStarted(header: (name: string) => string | undefined, now: number): CallSpanStart {
    // Most requests carry no `traceparent`: nothing to extract then.
    const remote =
      header('traceparent') === undefined
        ? undefined
        : trace.getSpanContext(this.#propagator.extract(ROOT_CONTEXT, header, headerGetter));
    return this.#start(SpanKind.SERVER, remote, now);
  }

  /** The request answered at `now`, by the route template it matched, with its status. */
  requestEnded(span: CallSpanStart, method: string, route: string, status: number, now: number): void {
    if (!kept(span)) return;
    const attributes = {
      'http.request.method': method,
      'http.route': route,
      'http.response.status_code': status,
    };
    this.#ended(span, `${method} ${route}`, attributes, status >= 500, now);
  }

  /**
   * A gate call's `execute_tool` span, begun under its run's span, or else the request's that
   * carried it (the caller's `requestSpan`). Nothing under a tool call makes spans, so the call
   * is not run inside it.
   */
  toolStarted(req: GateRequest, now: number): CallSpanStart {
    const runId = req.caller.runId;
    const run = runId ? this.#runs.get(runId) : undefined;
    const parent = run ? run.span.spanContext() : req.caller.requestSpan;
    return this.#start(SpanKind.INTERNAL, parent, now);
  }

  /** The call `req` ran: allowed, and what its audit entry is; its attributes are made now. */
  toolDone(span: CallSpanStart, req: GateRequest, result: GateResult, now: number): void {
    if (!kept(span)) return;
    const attributes = toolAttributes(req, 'allowed');
    attributes['paddock.audit.entry_id'] = result.auditEntryId;
    if (result.isError) attributes['error.type'] = 'tool_error';
    this.#ended(span, toolSpanName(req), attributes, false, now);
  }

  /** The call `req` was refused or failed (`outcome` as the metrics count it). */
  toolFailed(span: CallSpanStart, req: GateRequest, err: unknown, outcome: string, now: number): void {
    if (!kept(span)) return;
    const attributes = toolAttributes(req, outcome);
    attributes['error.type'] = (err as { code?: string }).code ?? 'internal';
    this.#ended(span, toolSpanName(req), attributes, outcome === 'failed', now);
  }

  readonly runs: RunObserver = {
    started: (run) => {
      const content = this.#content && run.textRecording === 'full';
      const span = this.#startRun(run, true);
      if (content) span.setAttribute('gen_ai.input.messages', messages('user', run.message));
      this.#runs.set(run.runId, { span, ctx: trace.setSpan(ROOT_CONTEXT, span), content });
    },
    resumed: (run) => {
      const span = this.#startRun(run, false);
      this.#runs.set(run.runId, { span, ctx: trace.setSpan(ROOT_CONTEXT, span), content: false });
    },
    step: (run, step) => {
      const part = this.#runs.get(run.runId);
      const end = Date.now();
      const span = this.#tracer.startSpan(
        `chat ${step.model}`,
        {
          kind: SpanKind.CLIENT,
          startTime: end - step.latencyMs,
          attributes: {
            'gen_ai.operation.name': 'chat',
            'gen_ai.provider.name': genAiProvider(step.provider),
            'gen_ai.request.model': step.model,
            'gen_ai.usage.input_tokens': step.inputTokens,
            'gen_ai.usage.output_tokens': step.outputTokens,
            'gen_ai.response.finish_reasons': [step.finishReason],
            'paddock.run.id': run.runId,
            'paddock.run.step': step.step,
          },
        },
        part?.ctx ?? this.#remoteRun(run.runId),
      );
      span.end(end);
      part?.span.setAttribute('gen_ai.provider.name', genAiProvider(step.provider));
    },
    ended: (run, end) => {
      // A run ended here without a part of it running here (a stop, a lost run): a short span.
      const part = this.#runs.get(run.runId) ?? {
        span: this.#startRun(run, false),
        ctx: ROOT_CONTEXT,
        content: false,
      };
      this.#runs.delete(run.runId);
      part.span.setAttributes({
        'paddock.run.status': end.status,
        'gen_ai.usage.input_tokens': end.usage.inputTokens,
        'gen_ai.usage.output_tokens': end.usage.outputTokens,
      });
      if (part.content && end.output !== null)
        part.span.setAttribute('gen_ai.output.messages', messages('assistant', end.output));
      if (end.error) {
        part.span.setAttribute('error.type', end.error.code);
        if (end.status === 'failed') part.span.setStatus({ code: SpanStatusCode.ERROR });
      }
      part.span.end();
    },
  };

  /** The run's first part is the trace's root, with ids from the run id; later parts hang under it. */
  #startRun(run: RunRef, first: boolean): Span {
    const attributes = {
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.id': run.agentId,
      'paddock.org.id': run.orgId,
      'paddock.run.id': run.runId,
    };
    const name = `invoke_agent ${run.agentId}`;
    if (!first)
      return this.#tracer.startSpan(
        name,
        { kind: SpanKind.INTERNAL, attributes },
        this.#remoteRun(run.runId),
      );
    this.#ids.next = runTrace(run.runId);
    try {
      return this.#tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes, root: true }, ROOT_CONTEXT);
    } finally {
      this.#ids.next = undefined;
    }
  }

  /**
   * The context of a run's root span, wherever it was made; sampled as its root was (the decision
   * depends on the trace id alone, which the run id fixes), so a run's trace is kept whole or not at all.
   */
  #remoteRun(runId: string): Context {
    const ids = runTrace(runId);
    const kept =
      this.#rootSampler.shouldSample(ROOT_CONTEXT, ids.traceId, '', SpanKind.INTERNAL, {}, []).decision ===
      SamplingDecision.RECORD_AND_SAMPLED;
    const traceFlags = kept ? TraceFlags.SAMPLED : TraceFlags.NONE;
    return trace.setSpanContext(ROOT_CONTEXT, { ...ids, traceFlags, isRemote: true });
  }

  /** Sends what is buffered (tests, shutdown). */
  async flush(): Promise<void> {
    await Promise.all([this.#calls?.flush(), this.#provider.forceFlush()]);
  }

  /**
   * Sends what is buffered and stops. A collector that cannot be reached loses those spans, but
   * does not fail the shutdown (the server's store is closed after this).
   */
  async close(): Promise<void> {
    await Promise.all([this.#calls?.shutdown(), this.#provider.shutdown()]).catch(() => undefined);
  }
}
