/** What route handlers are given, built in one place: store, vault, audit trail, config, logger. */

import {
  AuditTrail,
  applyRetention,
  type CheckpointPublisher,
  checkpointCustody,
  fileCheckpointPublisher,
  SiemStreamer,
  webhookCheckpointPublisher,
} from '../audit/index.ts';
import { egressRulesFor } from '../cells/egress-rules.ts';
import {
  CellSupervisor,
  cellSpec,
  orgHostUser,
  type SandboxChoice,
  type SandboxProvider,
  sandboxSelfTest,
} from '../cells/index.ts';
import { collectAll, type Platform } from '../compliance/index.ts';
import { type EvidenceSource, storedEvidence } from '../compliance/package/index.ts';
import type { Config } from '../config/index.ts';
import type { Opener } from '../connections/open.ts';
import {
  AgentServerPool,
  BusSeal,
  Cancellations,
  KillSwitch,
  type StopBus,
  type StopPart,
  sealedStops,
  stopBus,
  ToolGateway,
} from '../gateway/index.ts';
import { McpSessions } from '../gateway/mcp-sessions/index.ts';
import { AttemptLimiter, orgOnRecord, trustedScope } from '../identity/index.ts';
import { LiveFeed, LiveSignals } from '../live/index.ts';
import type { Logger } from '../log/index.ts';
import { applyRecordRetention, RunCoordinator } from '../runtime/index.ts';
import { type Job, Scheduler } from '../scheduler/index.ts';
import { forgetOldSlackEvents, SlackService } from '../slack/index.ts';
import type { Store } from '../store/index.ts';
import { Telemetry } from '../telemetry/index.ts';
import { localKeyring, openSecret, Vault, vaultLogKeys } from '../vault/index.ts';
import { forgetExpiredDeliveries, WebhookReceiver } from '../webhooks/index.ts';

export interface Deps {
  /** Org cells, or null when no sandbox is available (see sandboxProblem). */
  cells: CellSupervisor | null;
  /** The sandbox org code runs in (cells, MCP servers), or null when none is available. */
  sandbox: SandboxProvider | null;
  sandboxProblem: string | null;
  /** How MCP sessions to connections are opened (the gateway and "list tools" share it). */
  opener: Opener;
  /** The one path every tool call takes. */
  gateway: ToolGateway;
  /** Ends sessions and calls on every server replica (kill switch, deleted connection, changed secret, revoked agent tokens). */
  sessions: StopBus;
  /** Stops an agent or an org: brake, durable commit, publish to every replica, release. */
  killSwitch: KillSwitch;
  /** Calls their callers may cancel (an MCP client's cancellation, a REST client gone). */
  cancellations: Cancellations;
  /** The `/mcp/{org}` endpoint's agent MCP servers, reused from request to request. */
  mcpServers: AgentServerPool;
  /** MCP sessions of `/mcp/{org}` open on this replica (and the way to notify an agent's). */
  mcpSessions: McpSessions;
  store: Store;
  vault: Vault;
  audit: AuditTrail;
  siem: SiemStreamer;
  config: Config;
  log: Logger;
  signInLimiter: AttemptLimiter;
  /** The platform's periodic work (`platformJobs`); started by `startServer`. */
  scheduler: Scheduler;
  /** Agent runs in the orgs' cells. */
  runs: RunCoordinator;
  /** Inbound webhook deliveries: verified, they start runs; refused, they are recorded. */
  webhooks: WebhookReceiver;
  /** The orgs' Slack apps: signed events start runs, clicks decide approvals (see src/slack). */
  slack: SlackService;
  /** Where evidence packages take their controls, records and results from (the compliance center's store). */
  evidence: EvidenceSource;
  /** Metrics (with a scrape token) and traces (with an OTLP endpoint); neither by default. */
  telemetry: Telemetry;
  /** What people watching an org hear as it happens (`GET …/live`), hinted by its log growing on any replica. */
  live: { signals: LiveSignals; feed: LiveFeed };
}

/** What the compliance center's collectors are told about this platform (sandbox, cells, checkpoints). */
export function compliancePlatform(
  d: Pick<Deps, 'sandbox' | 'sandboxProblem' | 'cells' | 'audit' | 'config' | 'log' | 'store'>,
): Platform {
  const sandbox = d.sandbox;
  return {
    log: d.log,
    sandbox,
    sandboxProblem: d.sandboxProblem,
    // With no sandbox (or none on purpose) isolation fails without probing.
    selfTest:
      sandbox && sandbox.name !== 'none'
        ? async (orgId) =>
            sandboxSelfTest(sandbox, {
              ...cellSpec(orgId, d.config.home, ''),
              user: sandbox.runsAsOrgUsers ? await orgHostUser(d.store.db, orgId) : undefined,
            })
        : undefined,
    cell: (orgId) => d.cells?.get(orgId),
    sign: (orgId) => d.audit.checkpoint(orgId),
    checkpointDir: d.config.checkpointDir,
    fullVerificationDays: d.config.fullVerifyDays,
    custody: checkpointCustody({
      dir: d.config.checkpointDir,
      home: d.config.home,
      webhook: d.config.checkpointWebhook,
      databaseUrl: d.config.databaseUrl,
    }),
  };
}

/**
 * The platform's periodic work, each job run on one replica at a time (see `src/scheduler`).
 * Without `runs`, `compliance` and `slack` (the CLI listing jobs), their jobs do nothing.
 */
export function platformJobs(
  runs?: RunCoordinator,
  compliance?: () => Platform,
  slack?: () => SlackService,
): Job[] {
  return [
    {
      name: 'audit.retention',
      intervalMs: 3_600_000,
      run: async ({ db }) => ({ erased: await applyRetention(db) }),
    },
    {
      // Run records and conversations past each org's retention, deleted in batches, on record.
      name: 'records.retention',
      intervalMs: 86_400_000,
      run: async ({ db, signal }) => ({ ...(await applyRecordRetention(db, new Date(), signal)) }),
    },
    {
      // A backstop: decisions made through the API resume their runs at once.
      name: 'runs.sweep',
      intervalMs: 30_000,
      run: async () => (runs ? runs.sweep() : {}),
    },
    {
      // A delivery id is needed only while a copy of its delivery could still be in time.
      name: 'webhooks.deliveries',
      intervalMs: 300_000,
      run: async ({ db }) => ({ forgotten: await forgetExpiredDeliveries(db) }),
    },
    {
      // A Slack event id is needed only while Slack could still retry it; link codes until they expire.
      name: 'slack.events',
      intervalMs: 600_000,
      run: async ({ db }) => ({ ...(await forgetOldSlackEvents(db)) }),
    },
    {
      // A backstop: cards are updated, and answers owed to threads posted, at once by the replica
      // that posted them, while it lives.
      name: 'slack.cards',
      intervalMs: 60_000,
      run: async () => (slack ? slack().refreshAll() : {}),
    },
    {
      // Every org's controls tested on fresh evidence, daily; `POST …/compliance/collect` on demand.
      name: 'compliance.collect',
      intervalMs: 86_400_000,
      run: async ({ db, signal }) => (compliance ? collectAll(db, compliance(), signal) : {}),
    },
  ];
}

export const PLATFORM_JOBS = platformJobs();

/**
 * The runtime's part in a stop (one run, an agent, the org): the runs in flight brake at once,
 * and every run it covers ends once committed.
 */
function runStops(runs: RunCoordinator): StopPart {
  return {
    brake: (t, why) => {
      if (t.kind === 'agent' || t.kind === 'org' || t.kind === 'run') runs.brake(t, why);
      return undefined;
    },
    end: async (e, why) => {
      if (e.kind === 'agent' || e.kind === 'org' || e.kind === 'run') await runs.end(e, why);
    },
  };
}

export function buildDeps(
  config: Config,
  log: Logger,
  store: Store,
  env: NodeJS.ProcessEnv = process.env,
  sandbox: SandboxChoice = { provider: null, problem: 'Org cells are not enabled in this process.' },
): Deps {
  const vault = new Vault(localKeyring(config.home, env));
  // The org's log id is its org id: the secret is opened in that org's scope only.
  const siem = new SiemStreamer(store, log, (orgId, secretId) =>
    openSecret(store.db, vault, trustedScope(orgId), secretId),
  );
  const publishers: CheckpointPublisher[] = [fileCheckpointPublisher(config.checkpointDir)];
  if (config.checkpointWebhook) publishers.push(webhookCheckpointPublisher(config.checkpointWebhook, log));
  const deps = {} as Deps;
  const telemetry = new Telemetry({
    metrics: config.metricsToken !== undefined,
    tracesEndpoint: config.tracesEndpoint,
    traceContent: config.traceContent,
    traceSampler: config.traceSampler,
    traceBatch: config.traceBatch,
    traceProtocol: config.traceProtocol,
    version: '0.1.0',
    log,
  });
  const signals = new LiveSignals(store);
  const audit = new AuditTrail({
    store,
    keys: vaultLogKeys(vault),
    // Read when a log is made: with port 0 the real port is only known once listening.
    originHost: () => new URL(deps.config.publicUrl).host,
    log,
    publishers,
    onCommitted: (logs) => {
      siem.notify(logs);
      signals.grew(logs);
    },
    observe: telemetry.trail,
    // A decision's sync blocks nothing when it is the gate's only call (see FileSync's `inline`).
    syncInline: () => gateway.kills.inFlight() <= 1,
  });
  const cells = sandbox.provider
    ? new CellSupervisor({
        store,
        vault,
        audit,
        provider: sandbox.provider,
        log,
        home: config.home,
        egressRules: (orgId, forCell) => egressRulesFor(store.db, orgId, forCell),
      })
    : null;
  const opener: Opener = {
    db: store.db,
    vault,
    sandbox: sandbox.provider,
    home: config.home,
    registry: config.npmRegistry,
    egress: async (orgId) => (cells ? cells.egressSocket(orgId) : null),
  };
  const gateway = new ToolGateway({
    db: store.db,
    audit,
    opener,
    log,
    observe: telemetry.gate,
    observeUnknown: telemetry.unknownTool,
    // What servers say outside a request reaches the agents' HTTP sessions, on every replica.
    delivery: { deliver: (to, n) => mcpSessions.deliver(to, n) },
  });
  const runs = new RunCoordinator({
    db: store.db,
    audit,
    cells,
    gateway,
    log,
    observe: telemetry.runs,
    killSwitch: () => killSwitch,
    lazySync: (fn) => store.withLazySync(fn),
  });
  telemetry.metrics?.watch({
    db: store.db,
    cells: () => cells?.list() ?? [],
    auditQueued: () => audit.queued,
    runsInFlight: () => runs.inFlight(),
    mcpServers: () => gateway.serversByOrg(),
    jobs: () => deps.scheduler.status(),
  });
  // What crosses between replicas on a bus goes sealed for its org (any database role can NOTIFY).
  const busSeal = new BusSeal((orgId) => vault.dataKeyFor(store.db, orgId));
  const sessions = stopBus(store, config.databaseUrl, (e) => killSwitch.apply(e), log, {
    onResync: () => gateway.resync(),
    wire: sealedStops(busSeal, (orgId) => orgOnRecord(store.db, orgId)),
  });
  const cancellations = new Cancellations();
  const mcpSessions = new McpSessions({
    server: { gate: gateway, db: store.db, cancellations, log },
    store,
    databaseUrl: config.databaseUrl,
    audit,
    log,
    busSeal,
  });
  // Runs first: a run whose tool call the gate ends must not read that as a reason to go on.
  const killSwitch = new KillSwitch({
    db: store.db,
    bus: sessions,
    parts: [runStops(runs), gateway, mcpSessions],
  });
  return Object.assign(deps, {
    store,
    vault,
    audit,
    siem,
    cells,
    sandbox: sandbox.provider,
    opener,
    gateway,
    sessions,
    killSwitch,
    cancellations,
    mcpServers: new AgentServerPool({ gate: gateway, db: store.db, cancellations, log }),
    mcpSessions,
    sandboxProblem: sandbox.problem,
    config,
    log,
    signInLimiter: new AttemptLimiter(),
    scheduler: new Scheduler({
      store,
      databaseUrl: config.databaseUrl,
      jobs: platformJobs(
        runs,
        () => compliancePlatform(deps),
        () => deps.slack,
      ),
      log,
    }),
    runs,
    webhooks: new WebhookReceiver({ db: store.db, vault, audit, runs, log }),
    slack: new SlackService({
      db: store.db,
      vault,
      audit,
      runs,
      log,
      signals,
      publicUrl: () => deps.config.publicUrl,
      slackApiUrl: () => deps.config.slackApiUrl,
    }),
    evidence: storedEvidence(store.db),
    telemetry,
    live: {
      signals,
      feed: new LiveFeed({
        db: store.db,
        signals,
        cell: (orgId) => {
          const cell = cells?.get(orgId);
          return cell ? { state: cell.state, restarts: cell.restarts } : null;
        },
      }),
    },
  });
}
