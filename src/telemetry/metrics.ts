/**
 * Paddock's metrics, in the Prometheus text format (prom-client, one registry per server): what
 * the hooks count as requests, calls, commits and runs happen, and what is read at scrape time
 * (queue depths, checkpoint ages, cells, approvals waiting). Labels name org ids, routes as
 * declared, outcomes, providers and models, never a person, an argument or a message, so a scrape
 * carries no tenant data beyond org ids. `METRICS` lists every name exported (the dashboard and
 * the alert rules are tested against it).
 */
import type { Kysely } from 'kysely';
import { Counter, Gauge, Histogram, type LabelValues, Registry } from 'prom-client';
import type { TrailObserver } from '../audit/index.ts';
import { limitsOf, periodOf } from '../budgets/index.ts';
import type { CellInfo } from '../cells/index.ts';
import { PaddockError } from '../errors/index.ts';
import type { UnknownToolObserver } from '../gateway/index.ts';
import type { RunObserver } from '../runtime/index.ts';
import type { JobStatus, LocalJobStats } from '../scheduler/index.ts';
import type { Database } from '../store/index.ts';
import { collectProcessMetrics } from './event-loop.ts';

/** What is read at scrape time, from the running server. */
export interface ScrapeSources {
  db: Kysely<Database>;
  cells: () => CellInfo[];
  auditQueued: () => number;
  runsInFlight: () => number;
  mcpServers: () => Map<string, number>;
  /** The scheduled jobs: their recorded last runs (any replica) and what this replica ran. */
  jobs: () => Promise<Array<JobStatus & { here: LocalJobStats }>>;
}

/** Refusals by code: a grant, a check or a person said no; a stop or a token's end cut it off. */
const REFUSED = new Map([
  ['tool_denied', 'denied'],
  ['resource_denied', 'denied'],
  ['prompt_denied', 'denied'],
  ['completion_denied', 'denied'],
  ['tool_args_blocked', 'denied'],
  ['approval_denied', 'denied'],
  ['agent_not_found', 'denied'],
  ['connection_not_found', 'denied'],
  ['approval_required', 'approval_required'],
  ['agent_stopped', 'stopped'],
  ['run_stopped', 'stopped'],
  ['token_revoked', 'stopped'],
  ['call_cancelled', 'cancelled'],
]);

/**
 * A gate call's outcome, from the error that refused or ended it (none: it was allowed and ran).
 * `failed` is what is left: the tool, the store or the gate itself failed.
 */
export function gateOutcome(err: unknown): string {
  if (!PaddockError.isInstance(err)) return 'failed';
  return REFUSED.get(err.code) ?? 'failed';
}

const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const STEP_SECONDS = [0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120];
const BATCH = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 5000];
/** Labels a cell reports (an error code, a model name) are bounded: past this many, `other`. */
const MAX_FREE_LABELS = 64;

/** Every metric name Paddock exports beyond prom-client's process and Node.js defaults. */
export const METRICS = {
  httpRequests: 'paddock_http_requests_total',
  httpSeconds: 'paddock_http_request_duration_seconds',
  gateCalls: 'paddock_gate_calls_total',
  gateSeconds: 'paddock_gate_call_duration_seconds',
  gateInFlight: 'paddock_gate_calls_in_flight',
  approvalsWaiting: 'paddock_approvals_waiting',
  auditAppendSeconds: 'paddock_audit_append_duration_seconds',
  auditCommitEvents: 'paddock_audit_commit_events',
  auditCommitSeconds: 'paddock_audit_commit_duration_seconds',
  auditQueue: 'paddock_audit_queue_depth',
  auditOutbox: 'paddock_audit_outbox_depth',
  auditCheckpointAge: 'paddock_audit_checkpoint_age_seconds',
  auditUnsigned: 'paddock_audit_unsigned_entries',
  auditSiemLag: 'paddock_audit_siem_lag_entries',
  cellState: 'paddock_cell_state',
  cellRestarts: 'paddock_cell_restarts_total',
  cellMemory: 'paddock_cell_memory_bytes',
  mcpServers: 'paddock_mcp_servers_running',
  runsStarted: 'paddock_runs_started_total',
  runsEnded: 'paddock_runs_ended_total',
  runsFailed: 'paddock_runs_failed_total',
  runsInFlight: 'paddock_runs_in_flight',
  stepSeconds: 'paddock_run_step_duration_seconds',
  modelTokens: 'paddock_model_tokens_total',
  budgetUsedRatio: 'paddock_budget_used_ratio',
  budgetTokensUsed: 'paddock_budget_tokens_used',
  budgetTokensLimit: 'paddock_budget_tokens_limit',
  budgetSpendUsed: 'paddock_budget_spend_used_usd',
  budgetSpendLimit: 'paddock_budget_spend_limit_usd',
  jobRuns: 'paddock_job_runs_total',
  jobSuccessAge: 'paddock_job_last_success_age_seconds',
  jobInterval: 'paddock_job_interval_seconds',
  jobFailing: 'paddock_job_failing',
} as const;

const CELL_STATES = ['starting', 'ready', 'unhealthy', 'backoff', 'stopped'] as const;
const GATE_OUTCOMES = [
  'allowed',
  'denied',
  'approval_required',
  'stopped',
  'cancelled',
  'failed',
  'unknown',
] as const;

/** The labels whose values are a closed set, and that set (dashboards and alerts may match only these). */
export const LABEL_VALUES: Record<string, Record<string, readonly string[]>> = {
  [METRICS.gateCalls]: { outcome: GATE_OUTCOMES },
  [METRICS.gateSeconds]: { outcome: GATE_OUTCOMES },
  [METRICS.cellState]: { state: CELL_STATES },
  [METRICS.runsEnded]: { status: ['completed', 'failed', 'stopped', 'waiting_approval'] },
  [METRICS.modelTokens]: { kind: ['input', 'output'] },
  [METRICS.budgetUsedRatio]: { budget: ['tokens_per_day', 'spend'] },
  [METRICS.budgetSpendUsed]: { per: ['day', 'month'] },
  [METRICS.budgetSpendLimit]: { per: ['day', 'month'] },
  [METRICS.jobRuns]: { outcome: ['succeeded', 'failed'] },
};

/** The value `map` keeps for `key`, made by `make` and kept the first time. */
function kept<K, V>(map: Map<K, V>, key: K, make: () => NoInfer<V>): V {
  let v = map.get(key);
  if (v === undefined) {
    v = make();
    map.set(key, v);
  }
  return v;
}

/** A new empty list (one function, not a closure made per call on the hot path). */
const emptyList = <T>(): T[] => [];

/** A label value a less trusted party chose (a cell's error code, an agent's model name), bounded. */
class FreeLabels {
  readonly #seen = new Set<string>();
  of(value: string): string {
    const v = value.slice(0, 100);
    if (this.#seen.has(v)) return v;
    if (this.#seen.size >= MAX_FREE_LABELS || !/^[\w.:/@-]+$/.test(v)) return 'other';
    this.#seen.add(v);
    return v;
  }
}

/**
 * A counter bumped on every call, by label set: each set is kept once with its running total, a
 * call adds to a number, and the counter takes the totals when scraped (`collect`). prom-client's
 * own `inc` builds, checks and hashes a labels object on every call.
 */
class Tally<L extends string> {
  readonly #totals = new Map<string, { labels: LabelValues<L>; n: number }>();
  readonly counter: Counter<L>;
  constructor(config: { name: string; help: string; labelNames: readonly L[]; registry: Registry }) {
    const totals = this.#totals;
    this.counter = new Counter<L>({
      name: config.name,
      help: config.help,
      labelNames: config.labelNames,
      registers: [config.registry],
      collect() {
        this.reset();
        for (const t of totals.values()) this.inc(t.labels, t.n);
      },
    });
  }

  /** The running total of the label set `key` names (made at 0 on first use): a caller adds to its `n`. */
  series(key: string, labels: LabelValues<L>): { n: number } {
    return kept(this.#totals, key, () => ({ labels, n: 0 }));
  }
}

/** A label set's running histogram: a count per bucket (the last past every bound), the sum, the count. */
interface Tallied<L extends string> {
  labels: LabelValues<L>;
  counts: Float64Array;
  sum: number;
  count: number;
}

/**
 * A histogram observed on every call: each value counted here into its bucket (a label set kept
 * once, by its key), and the totals put into prom-client's histogram when scraped (`collect`): an
 * observation allocates nothing. prom-client's own `observe` builds, checks and hashes a labels
 * object and turns the bucket's bound into a string per value.
 */
class Held<L extends string> {
  readonly #sets = new Map<string, Tallied<L>>();
  readonly #bounds: Float64Array;
  readonly #none: Tallied<L>;
  readonly histogram: Histogram<L>;
  constructor(config: {
    name: string;
    help: string;
    labelNames?: readonly L[];
    buckets: number[];
    registry: Registry;
  }) {
    this.#bounds = Float64Array.from(config.buckets);
    this.#none = this.#tallied({} as LabelValues<L>);
    const sets = this.#sets;
    const none = this.#none;
    const labelled = (config.labelNames ?? []).length > 0;
    this.histogram = new Histogram<L>({
      name: config.name,
      help: config.help,
      labelNames: config.labelNames ?? [],
      buckets: config.buckets,
      registers: [config.registry],
      // prom-client's state made from the totals: each label set zeroed (its public `zero`),
      // then its entry given the counts (as `observe` would have left them).
      collect() {
        this.reset();
        const all = labelled ? [...sets.values()] : [none];
        for (const t of all) this.zero(t.labels);
        const entries = (this as unknown as { hashMap: Record<string, HistogramEntry> }).hashMap;
        const byLabels = new Map(all.map((t) => [t.labels, t]));
        for (const entry of Object.values(entries)) {
          const t = byLabels.get(entry.labels as LabelValues<L>);
          if (!t) continue;
          entry.sum = t.sum;
          entry.count = t.count;
          config.buckets.forEach((bound, i) => {
            entry.bucketValues[bound] = t.counts[i]!;
          });
        }
      },
    });
  }

  /** The running histogram of the label set `key` names (made empty on first use), for `add`. */
  series(key: string, labels: LabelValues<L>): Tallied<L> {
    return kept(this.#sets, key, () => this.#tallied(labels));
  }

  /** A value of a histogram without labels. */
  value(value: number): void {
    this.add(this.#none, value);
  }

  #tallied(labels: LabelValues<L>): Tallied<L> {
    return { labels, counts: new Float64Array(this.#bounds.length + 1), sum: 0, count: 0 };
  }

  /** A value into a label set's histogram (`series`). */
  add(t: Tallied<L>, value: number): void {
    finite(value);
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    t.counts[i]!++;
    t.sum += value;
    t.count++;
  }
}

/** Refused where it is given, as prom-client's own `observe` refuses it: counted, it would spoil the sum (and a first one would leave an empty series). */
function finite(value: number): void {
  if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
}

/** An entry of prom-client's histogram state, as `observe` keeps it (per bucket, not cumulative). */
interface HistogramEntry {
  labels: object;
  bucketValues: Record<string, number>;
  sum: number;
  count: number;
}

/** An org's count of gate calls with one outcome, and that outcome's latency histogram once it has one. */
interface GateSeries {
  outcome: string;
  calls: { n: number };
  seconds?: Tallied<'outcome'>;
}

/** One method, route template and status's request count, and that method and route's latency histogram. */
interface HttpSeries {
  method: string;
  status: number;
  requests: { n: number };
  seconds: Tallied<'method' | 'route'>;
}

export class Metrics {
  readonly registry = new Registry();
  /** Gate calls running now: a number kept per call, read into its gauge at scrape time. */
  #inFlight = 0;
  #sources: ScrapeSources | undefined;
  readonly #reasons = new FreeLabels();
  readonly #models = new FreeLabels();
  /** Restarts counted so far, per org (the supervisor keeps the running total). */
  readonly #restartsSeen = new Map<string, number>();
  /** Job runs counted so far, per job and outcome (the scheduler keeps the running totals). */
  readonly #jobRunsSeen = new Map<string, number>();
  /** Each route template's request series (by method and status), and each org's gate call counts (by outcome). */
  readonly #httpByRoute = new Map<string, HttpSeries[]>();
  readonly #gateByOrg = new Map<string, GateSeries[]>();

  readonly #http = new Tally({
    name: METRICS.httpRequests,
    help: 'HTTP requests answered, by method, route template and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registry: this.registry,
  });
  readonly #httpSeconds = new Held({
    name: METRICS.httpSeconds,
    help: 'HTTP request latency in seconds, by method and route template.',
    labelNames: ['method', 'route'] as const,
    buckets: SECONDS,
    registry: this.registry,
  });
  readonly #gateCalls = new Tally({
    name: METRICS.gateCalls,
    help: 'Tool calls through the gate, by org and outcome (allowed, denied, approval_required, stopped, cancelled, failed).',
    labelNames: ['org', 'outcome'] as const,
    registry: this.registry,
  });
  readonly #gateSeconds = new Held({
    name: METRICS.gateSeconds,
    help: 'Tool call latency through the gate in seconds (decision, records and the call), by outcome.',
    labelNames: ['outcome'] as const,
    buckets: SECONDS,
    registry: this.registry,
  });
  readonly #gateInFlight: Gauge = new Gauge({
    name: METRICS.gateInFlight,
    help: 'Tool calls in the gate now.',
    registers: [this.registry],
    collect: () => {
      this.#gateInFlight.set(this.#inFlight);
    },
  });
  readonly #approvals = new Gauge({
    name: METRICS.approvalsWaiting,
    help: 'Approval requests waiting for a person (not expired), by org.',
    labelNames: ['org'] as const,
    registers: [this.registry],
  });
  readonly #appendSeconds = new Held({
    name: METRICS.auditAppendSeconds,
    help: 'Time from an audit append to its durable commit, in seconds.',
    buckets: SECONDS,
    registry: this.registry,
  });
  readonly #commitEvents = new Held({
    name: METRICS.auditCommitEvents,
    help: 'Queued events placed by one audit commit (group-commit size); its _count is the number of syncs.',
    buckets: BATCH,
    registry: this.registry,
  });
  readonly #commitSeconds = new Held({
    name: METRICS.auditCommitSeconds,
    help: 'Duration of one audit commit (one transaction and its sync), in seconds.',
    buckets: SECONDS,
    registry: this.registry,
  });
  readonly #queue = new Gauge({
    name: METRICS.auditQueue,
    help: 'Audit events queued in this process, not yet durable.',
    registers: [this.registry],
  });
  readonly #outbox = new Gauge({
    name: METRICS.auditOutbox,
    help: 'Audit entries committed with their change and waiting for their place in the tree.',
    registers: [this.registry],
  });
  readonly #checkpointAge = new Gauge({
    name: METRICS.auditCheckpointAge,
    help: 'Seconds since the newest signed checkpoint of each log (the org id, or platform).',
    labelNames: ['log'] as const,
    registers: [this.registry],
  });
  readonly #unsigned = new Gauge({
    name: METRICS.auditUnsigned,
    help: 'Entries of each log not yet covered by a signed checkpoint.',
    labelNames: ['log'] as const,
    registers: [this.registry],
  });
  readonly #siemLag = new Gauge({
    name: METRICS.auditSiemLag,
    help: "Entries of each org's log not yet delivered to its SIEM.",
    labelNames: ['log'] as const,
    registers: [this.registry],
  });
  readonly #cellState = new Gauge({
    name: METRICS.cellState,
    help: "1 for each org cell's current state (starting, ready, unhealthy, backoff, stopped), else 0.",
    labelNames: ['org', 'state'] as const,
    registers: [this.registry],
  });
  readonly #cellRestarts = new Counter({
    name: METRICS.cellRestarts,
    help: 'Automatic restarts of each org cell by the supervisor.',
    labelNames: ['org'] as const,
    registers: [this.registry],
  });
  readonly #cellMemory = new Gauge({
    name: METRICS.cellMemory,
    help: "Resident memory of each org cell's process, in bytes, as its last heartbeat said.",
    labelNames: ['org'] as const,
    registers: [this.registry],
  });
  readonly #mcpServers = new Gauge({
    name: METRICS.mcpServers,
    help: 'MCP servers this replica holds sessions to (one per agent and connection), by org.',
    labelNames: ['org'] as const,
    registers: [this.registry],
  });
  readonly #runsStarted = new Counter({
    name: METRICS.runsStarted,
    help: 'Agent runs started, by org.',
    labelNames: ['org'] as const,
    registers: [this.registry],
  });
  readonly #runsEnded = new Counter({
    name: METRICS.runsEnded,
    help: 'Agent runs ended, or paused for approval, by org and status (completed, failed, stopped, waiting_approval).',
    labelNames: ['org', 'status'] as const,
    registers: [this.registry],
  });
  readonly #runsFailed = new Counter({
    name: METRICS.runsFailed,
    help: 'Agent runs failed, by org and reason (the error code).',
    labelNames: ['org', 'reason'] as const,
    registers: [this.registry],
  });
  readonly #runsInFlight = new Gauge({
    name: METRICS.runsInFlight,
    help: 'Agent runs in flight on this replica.',
    registers: [this.registry],
  });
  readonly #stepSeconds = new Histogram({
    name: METRICS.stepSeconds,
    help: 'Latency of one model step of a run, in seconds, by provider.',
    labelNames: ['provider'] as const,
    buckets: STEP_SECONDS,
    registers: [this.registry],
  });
  readonly #budgetRatio = new Gauge({
    name: METRICS.budgetUsedRatio,
    help: "The largest share of its budget any of the org's agents has used in the current window (budget: tokens_per_day, spend).",
    labelNames: ['org', 'budget'] as const,
    registers: [this.registry],
  });
  readonly #budgetTokens = new Gauge({
    name: METRICS.budgetTokensUsed,
    help: 'Tokens used today (UTC) by the org agents that have a tokens-a-day budget.',
    labelNames: ['org'] as const,
    registers: [this.registry],
  });
  readonly #budgetTokensLimit = new Gauge({
    name: METRICS.budgetTokensLimit,
    help: 'The tokens-a-day budgets of the org agents that have one, added up.',
    labelNames: ['org'] as const,
    registers: [this.registry],
  });
  readonly #budgetSpend = new Gauge({
    name: METRICS.budgetSpendUsed,
    help: 'US dollars spent in the current window (per: day or month, UTC) by the org agents with a spend budget of that window.',
    labelNames: ['org', 'per'] as const,
    registers: [this.registry],
  });
  readonly #budgetSpendLimit = new Gauge({
    name: METRICS.budgetSpendLimit,
    help: 'The spend budgets of the org agents that have one, in US dollars, added up by window (per: day or month).',
    labelNames: ['org', 'per'] as const,
    registers: [this.registry],
  });
  readonly #jobRuns = new Counter({
    name: METRICS.jobRuns,
    help: 'Scheduled job runs this replica made, by job name and outcome (succeeded, failed).',
    labelNames: ['name', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly #jobAge = new Gauge({
    name: METRICS.jobSuccessAge,
    help: "Seconds since each scheduled job's newest successful run started, on any replica (absent until one succeeds).",
    labelNames: ['name'] as const,
    registers: [this.registry],
  });
  readonly #jobInterval = new Gauge({
    name: METRICS.jobInterval,
    help: 'How often each scheduled job is meant to run, in seconds.',
    labelNames: ['name'] as const,
    registers: [this.registry],
  });
  readonly #jobFailing = new Gauge({
    name: METRICS.jobFailing,
    help: "1 when each scheduled job's newest recorded run (any replica) failed or was abandoned, else 0.",
    labelNames: ['name'] as const,
    registers: [this.registry],
  });
  readonly #tokens = new Counter({
    name: METRICS.modelTokens,
    help: 'Model tokens used by runs, by provider, model and kind (input, output).',
    labelNames: ['provider', 'model', 'kind'] as const,
    registers: [this.registry],
  });

  readonly #process: { stop(): void };

  constructor() {
    // prom-client's process and Node.js figures, the event loop's without a wakeup every 50 ms.
    this.#process = collectProcessMetrics(this.registry);
  }

  /** Stops sampling the event loop (the server is closing). */
  close(): void {
    this.#process.stop();
  }

  /** What to read at scrape time; until given, those gauges stay empty. */
  watch(sources: ScrapeSources): void {
    this.#sources = sources;
  }

  /** One HTTP request answered. */
  http(method: string, route: string, status: number, seconds: number): void {
    finite(seconds); // before a series is made for it
    const s = this.#httpSeries(method, route, status);
    s.requests.n++;
    this.#httpSeconds.add(s.seconds, seconds);
  }

  /**
   * A request's series, found by its route template (a constant string), then its method and
   * status among the few that route has seen: no key string made and hashed per request.
   */
  #httpSeries(method: string, route: string, status: number): HttpSeries {
    const seen = kept(this.#httpByRoute, route, emptyList);
    for (const s of seen) if (s.status === status && s.method === method) return s;
    const s: HttpSeries = {
      method,
      status,
      requests: this.#http.series(`${method} ${route} ${status}`, { method, route, status: String(status) }),
      seconds: this.#httpSeconds.series(`${method} ${route}`, { method, route }),
    };
    seen.push(s);
    return s;
  }

  /** A gate call began: in flight until it ends. */
  gateStarted(): void {
    this.#inFlight++;
  }

  /** A gate call ended: its outcome (`gateOutcome`) and latency. */
  gateEnded(org: string, outcome: string, seconds: number): void {
    this.#inFlight--;
    finite(seconds); // before a series is made for it
    const s = this.#gateSeries(org, outcome);
    s.calls.n++;
    // Made on the first call that has a latency (an unknown tool's has none, and no series).
    s.seconds ??= this.#gateSeconds.series(outcome, { outcome });
    this.#gateSeconds.add(s.seconds, seconds);
  }

  /** An org's gate calls with `outcome`, found by org, then among the few outcomes it has had. */
  #gateSeries(org: string, outcome: string): GateSeries {
    const seen = kept(this.#gateByOrg, org, emptyList);
    for (const s of seen) if (s.outcome === outcome) return s;
    const s: GateSeries = { outcome, calls: this.#gateCalls.series(`${org} ${outcome}`, { org, outcome }) };
    seen.push(s);
    return s;
  }

  /** A call of a name the agent was never shown: refused, counted as its own outcome. */
  readonly unknownTool: UnknownToolObserver = (caller) => {
    this.#gateSeries(caller.orgId, 'unknown').calls.n++;
  };

  readonly trail: TrailObserver = {
    appended: (ms) => this.#appendSeconds.value(ms / 1000),
    committed: (events, ms) => {
      this.#commitEvents.value(events);
      this.#commitSeconds.value(ms / 1000);
    },
  };

  readonly runs: RunObserver = {
    started: (run) => this.#runsStarted.inc({ org: run.orgId }),
    resumed: () => undefined,
    step: (_run, step) => {
      const provider = this.#models.of(step.provider);
      const model = this.#models.of(step.model);
      this.#stepSeconds.observe({ provider }, step.latencyMs / 1000);
      this.#tokens.inc({ provider, model, kind: 'input' }, step.inputTokens);
      this.#tokens.inc({ provider, model, kind: 'output' }, step.outputTokens);
    },
    ended: (run, end) => {
      this.#runsEnded.inc({ org: run.orgId, status: end.status });
      if (end.status === 'failed')
        this.#runsFailed.inc({ org: run.orgId, reason: this.#reasons.of(end.error?.code ?? 'unknown') });
    },
  };

  /** The exposition, after reading what is read at scrape time. */
  async scrape(): Promise<string> {
    if (this.#sources) await this.#read(this.#sources);
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  async #read(s: ScrapeSources): Promise<void> {
    this.#queue.set(s.auditQueued());
    this.#runsInFlight.set(s.runsInFlight());
    this.#mcpServers.reset();
    for (const [org, n] of s.mcpServers()) this.#mcpServers.set({ org }, n);
    this.#cellState.reset();
    this.#cellMemory.reset();
    for (const cell of s.cells()) {
      const org = cell.orgId;
      for (const state of CELL_STATES) this.#cellState.set({ org, state }, cell.state === state ? 1 : 0);
      if (cell.rssBytes !== null) this.#cellMemory.set({ org }, cell.rssBytes);
      const seen = this.#restartsSeen.get(org) ?? 0;
      if (cell.restarts > seen) this.#cellRestarts.inc({ org }, cell.restarts - seen);
      else if (seen === 0) this.#cellRestarts.inc({ org }, 0);
      this.#restartsSeen.set(org, Math.max(seen, cell.restarts));
    }
    await Promise.all([this.#readStore(s.db), this.#readBudgets(s.db), this.#readJobs(s.jobs)]);
  }

  /** Each job: its runs here (counted up to the scheduler's totals), and its recorded standing. */
  async #readJobs(jobs: ScrapeSources['jobs']): Promise<void> {
    const all = await jobs();
    this.#jobAge.reset();
    for (const j of all) {
      const name = j.name;
      const failed = j.here.failed;
      for (const [outcome, n] of [
        ['succeeded', j.here.runs - failed - (j.here.running ? 1 : 0)],
        ['failed', failed],
      ] as const) {
        const key = `${name}\u0000${outcome}`;
        const seen = this.#jobRunsSeen.get(key) ?? 0;
        this.#jobRuns.inc({ name, outcome }, Math.max(0, n - seen));
        this.#jobRunsSeen.set(key, Math.max(seen, n));
      }
      this.#jobInterval.set({ name }, j.intervalMs / 1000);
      const outcome = j.lastRun?.outcome;
      this.#jobFailing.set({ name }, outcome === 'failed' || outcome === 'abandoned' ? 1 : 0);
      if (j.lastSucceededAt)
        this.#jobAge.set({ name }, Math.max(0, (Date.now() - Date.parse(j.lastSucceededAt)) / 1000));
    }
  }

  /**
   * Budgets against what was used in their current windows (UTC), per org: agents are not
   * labels (an agent's id is the org's business), so each org shows its totals and its agent
   * nearest its budget.
   */
  async #readBudgets(db: Kysely<Database>): Promise<void> {
    const now = new Date();
    const day = periodOf.day(now);
    const month = periodOf.month(now);
    const [agents, counters] = await Promise.all([
      db.selectFrom('agents').select(['id', 'org_id', 'limits']).where('limits', 'is not', null).execute(),
      db
        .selectFrom('usage_counters')
        .select(['agent_id', 'kind', 'period', 'used'])
        .where('kind', 'in', ['tokens', 'spend'])
        .where('period', 'in', [day, month])
        .execute(),
    ]);
    const used = new Map(counters.map((c) => [`${c.agent_id} ${c.kind} ${c.period}`, Number(c.used)]));
    type OrgBudgets = { tokens: number; tokensLimit: number; spend: Map<string, [number, number]> };
    const orgs = new Map<string, OrgBudgets>();
    const ratios = new Map<string, number>();
    const ratio = (org: string, budget: string, r: number) => {
      const key = `${org} ${budget}`;
      ratios.set(key, Math.max(ratios.get(key) ?? 0, r));
    };
    for (const a of agents) {
      const limits = limitsOf(a.limits);
      if (!limits.tokensPerDay && !limits.spend) continue;
      const o = orgs.get(a.org_id) ?? { tokens: 0, tokensLimit: 0, spend: new Map() };
      orgs.set(a.org_id, o);
      if (limits.tokensPerDay) {
        const n = used.get(`${a.id} tokens ${day}`) ?? 0;
        o.tokens += n;
        o.tokensLimit += limits.tokensPerDay;
        ratio(a.org_id, 'tokens_per_day', n / limits.tokensPerDay);
      }
      if (limits.spend) {
        const { per, usd } = limits.spend;
        const spent = (used.get(`${a.id} spend ${per === 'day' ? day : month}`) ?? 0) / 1e6;
        const [s, l] = o.spend.get(per) ?? [0, 0];
        o.spend.set(per, [s + spent, l + usd]);
        ratio(a.org_id, 'spend', spent / usd);
      }
    }
    for (const g of [
      this.#budgetRatio,
      this.#budgetTokens,
      this.#budgetTokensLimit,
      this.#budgetSpend,
      this.#budgetSpendLimit,
    ])
      g.reset();
    for (const [org, o] of orgs) {
      if (o.tokensLimit) {
        this.#budgetTokens.set({ org }, o.tokens);
        this.#budgetTokensLimit.set({ org }, o.tokensLimit);
      }
      for (const [per, [spent, limit]] of o.spend) {
        this.#budgetSpend.set({ org, per }, spent);
        this.#budgetSpendLimit.set({ org, per }, limit);
      }
    }
    for (const [key, r] of ratios) {
      const [org, budget] = key.split(' ') as [string, string];
      this.#budgetRatio.set({ org, budget }, r);
    }
  }

  async #readStore(db: Kysely<Database>): Promise<void> {
    const now = new Date().toISOString();
    const [approvals, logs, checkpoints, outbox, cursors] = await Promise.all([
      db
        .selectFrom('approvals')
        .select(['org_id', (eb) => eb.fn.countAll<string | number>().as('n')])
        .where('status', '=', 'pending')
        .where('expires_at', '>', now)
        .groupBy('org_id')
        .execute(),
      db.selectFrom('audit_logs').select(['id', 'tree_size']).execute(),
      db
        .selectFrom('audit_checkpoints')
        .select([
          'log_id',
          (eb) => eb.fn.max('tree_size').as('size'),
          (eb) => eb.fn.max('created_at').as('at'),
        ])
        .groupBy('log_id')
        .execute(),
      db
        .selectFrom('audit_outbox')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .executeTakeFirst(),
      db.selectFrom('audit_cursors').select(['log_id', 'position']).where('sink', '=', 'siem').execute(),
    ]);
    this.#approvals.reset();
    for (const a of approvals) this.#approvals.set({ org: a.org_id }, Number(a.n));
    this.#outbox.set(Number(outbox?.n ?? 0));
    const signed = new Map(checkpoints.map((c) => [c.log_id, c]));
    const sizes = new Map(logs.map((l) => [l.id, Number(l.tree_size)]));
    this.#checkpointAge.reset();
    this.#unsigned.reset();
    for (const [log, size] of sizes) {
      const cp = signed.get(log);
      this.#unsigned.set({ log }, size - Number(cp?.size ?? 0));
      if (cp?.at)
        this.#checkpointAge.set({ log }, Math.max(0, (Date.now() - Date.parse(String(cp.at))) / 1000));
    }
    this.#siemLag.reset();
    for (const c of cursors)
      this.#siemLag.set({ log: c.log_id }, Math.max(0, (sizes.get(c.log_id) ?? 0) - Number(c.position)));
  }
}
