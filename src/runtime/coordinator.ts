/**
 * Agent runs, from the control plane: a run is started for a person who may talk to the agent,
 * recorded, and handed to the org's cell with a capability the control plane made for it; the
 * cell thinks with the org's own key and reaches tools only through the gate, over its channel.
 * Everything the cell says about a run is matched to the run by that capability, never by what
 * the cell claims, so a cell cannot act as another agent or for another person.
 *
 * A run that waits for a person's approval is persisted, its capability ended; once every call
 * it waits for is decided it resumes (on whichever replica sees the decision first), with a new
 * capability. Stopping an agent or its org ends its runs in flight and its waiting runs; a cell
 * that dies fails its runs. Every step is in the org's audit trail with the run id.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { ModelMessage } from 'ai';
import type { Kysely } from 'kysely';
import { requireAgentRow } from '../agents/index.ts';
import { argsDigest, expireApprovals } from '../approvals/approvals.ts';
import { type Actor, type AuditTrail, recordAudit } from '../audit/index.ts';
import {
  admitRun,
  isMetered,
  type LimitReached,
  limitsOf,
  METERED_MAX_OUTPUT_TOKENS,
  RunMeter,
} from '../budgets/index.ts';
import type { RunFrame } from '../cells/protocol.ts';
import type { CellSupervisor, RunHost } from '../cells/supervisor.ts';
import type { Fired } from '../checks/index.ts';
import { ConflictError, NotFoundError, PaddockError } from '../errors/index.ts';
import { grantedTools, type KillSwitch, type StopTarget, type ToolGateway } from '../gateway/index.ts';
import type { Org, OrgContext, OrgSettings } from '../identity/context.ts';
import { toOrg } from '../identity/orgs.ts';
import { type OrgScope, trustedScope } from '../identity/scope.ts';
import { newId } from '../ids/index.ts';
import type { Logger } from '../log/index.ts';
import { pinnedMemory, withPinnedMemory } from '../memory/index.ts';
import { redactString } from '../redact/index.ts';
import type { Database, Db } from '../store/index.ts';
import type { AgentTable, RunTable } from '../store/schema.ts';
import { ChannelTransport } from './cell/channel-transport.ts';
import { METER_RESERVE, type PendingCall, type RunEnd, type RunEvent, type RunSpec } from './cell/loop.ts';
import { ownMessages, type RunDecision, runTag } from './conversation-view.ts';
import { runGateServer } from './gate-server.ts';
import { RunIntegrity } from './integrity.ts';
import { modelKeyFor } from './model-key.ts';
import type { RunObserver } from './observe.ts';
import {
  capabilityHash,
  historyFor,
  keptMessages,
  messagesOf,
  openConversation,
  type Run,
  requireRunRow,
  toRun,
} from './runs.ts';
import { parseRunEnd, parseRunEvent } from './wire.ts';

export type RunListener = (event: RunEvent | { kind: 'end'; run: Run }) => void;

/** A trusted system caller (a verified webhook delivery) starting a run that acts for no person. */
export interface SystemStart {
  orgId: string;
  agentId: string;
  personId: null;
  /** Who the trail names as starting it: `{ type: 'system', id: 'webhook:whk_…' }`. */
  actor: Actor;
  requestId: string;
}

export interface StartInput {
  message: string;
  conversationId?: string | undefined;
  /**
   * A conversation a chat thread carries (Slack): whoever writes in the thread continues it, as
   * themselves (see `historyFor`). Set only by an adapter that vouches for the thread.
   */
  thread?: { conversationId: string } | undefined;
  via: 'api' | 'chat' | 'webhook' | 'slack';
}

interface Active {
  /** The kill switch reached it: whatever the cell reports, the run ended stopped. */
  braked: string | null;
  runId: string;
  /** The run as it was taken to running (its totals so far): its end adds to them. */
  row: RunTable;
  /** The org's settings as read when the run was taken to running (its limits). */
  settings: OrgSettings;
  orgId: string;
  agentId: string;
  personId: string | null;
  requestId: string;
  /** Ends the run's gate calls in flight (a stop). */
  abort: AbortController;
  gate: { server: Server; transport: ChannelTransport } | undefined;
  /** The agent's output contract and checks, on the run's stream and end (set when dispatched). */
  integrity?: RunIntegrity;
  /** Its agent's limits and budgets (set when dispatched). */
  meter?: RunMeter;
  /** A limit it reached: whatever the cell reports, the run ended failed, saying which. */
  limit: LimitReached | null;
  listeners: Set<RunListener>;
  /** What it streamed since it was taken to running, for a stream that follows it late. */
  streamed: RunEvent[];
  ended: (run: Run) => void;
  done: Promise<Run>;
}

export interface CoordinatorOptions {
  db: Kysely<Database>;
  /** The kill switch a run's stop goes through (made after the coordinator, hence a getter). */
  killSwitch?: (() => KillSwitch) | undefined;
  audit: AuditTrail;
  cells: CellSupervisor | null;
  gateway: ToolGateway;
  log: Logger;
  /** Told of each run's start, steps and end (metrics, traces). */
  observe?: RunObserver | undefined;
  /**
   * Runs `fn` with its commits handed back once written, synced soon after (`Store.withLazySync`);
   * without it, every commit waits for its sync.
   */
  lazySync?: (<T>(fn: () => Promise<T>) => Promise<T>) | undefined;
}

/** How long a run stopped through the kill switch is remembered (it is being handed to its cell at most). */
const REMEMBER_STOPS_MS = 10 * 60_000;

/** How long a run that ended is kept for a stream that follows it late, and how much of it. */
const KEEP_ENDED_MS = 60_000;
const MAX_REPLAY = 5_000;

/** A run that never reported its end is counted lost this long after its time limit. */
const LOST_GRACE_MS = 60_000;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The columns a stop sets. */
function stoppedSet(reason: string, row: Pick<RunTable, 'id' | 'state'>): Partial<RunTable> {
  const now = new Date().toISOString();
  return {
    status: 'stopped',
    capability_hash: null,
    // A waiting run keeps its own messages: read back, its conversation shows what it did.
    state: row.state ? ownMessages(row.state, row.id) : null,
    error_code: 'stopped',
    error_message: reason,
    updated_at: now,
    ended_at: now,
  };
}

/** The run as a stop leaves it. */
function stoppedRun(row: RunTable, reason: string): Run {
  return toRun({
    ...row,
    status: 'stopped',
    error_code: 'stopped',
    error_message: reason,
    ended_at: new Date().toISOString(),
  });
}

/** A new run's row, running, with its capability's hash. */
function newRun(
  orgId: string,
  agentId: string,
  conversationId: string,
  personId: string | null,
  input: StartInput,
  capability: string,
): RunTable {
  const now = new Date().toISOString();
  return {
    id: newId('run'),
    org_id: orgId,
    agent_id: agentId,
    conversation_id: conversationId,
    person_id: personId,
    via: input.via,
    status: 'running',
    capability_hash: capabilityHash(capability),
    input: input.message,
    output: null,
    state: null,
    pending: null,
    steps: 0,
    input_tokens: 0,
    output_tokens: 0,
    error_code: null,
    error_message: null,
    created_at: now,
    updated_at: now,
    ended_at: null,
  };
}

/** A run's message or output as the org chose to record it: in full, redacted, or as a digest. */
export function recorded(policy: 'full' | 'redacted' | 'digest', text: string | null): string | null {
  if (text === null) return null;
  if (policy === 'digest') return `sha256:${sha256(text)}`;
  return policy === 'redacted' ? redactString(text) : text;
}

export class RunCoordinator implements RunHost {
  readonly #o: CoordinatorOptions;
  /** Runs in flight on this replica, by capability hash and by run id. */
  readonly #byCapability = new Map<string, Active>();
  readonly #byRun = new Map<string, Active>();
  /** Runs stopped through the kill switch lately (id → when): one not yet handed to its cell never is. */
  readonly #braked = new Map<string, number>();
  /** Runs that ended here lately, with what they streamed (see `follow`). */
  readonly #recentlyEnded = new Map<string, { at: number; run: Run; streamed: RunEvent[] }>();
  /** Runs ending here: out of `#byRun`, their end not yet on record and delivered (see `follow`). */
  readonly #ending = new Map<string, Active>();
  readonly #lazily: <T>(fn: () => Promise<T>) => Promise<T>;

  constructor(opts: CoordinatorOptions) {
    this.#o = opts;
    this.#lazily = opts.lazySync ?? ((fn) => fn());
    opts.cells?.setRunHost(this);
  }

  /** Starts a run of the agent for the caller; resolves once it is handed to the cell. */
  async start(
    ctx: OrgContext,
    agentId: string,
    input: StartInput,
    listener?: RunListener,
  ): Promise<{ run: Run; done: Promise<Run> }> {
    const agent = await requireAgentRow(this.#o.db, ctx, agentId);
    const begun = await this.#begin({ ...ctx, agent, personId: ctx.userId }, input, listener);
    await this.#dispatch(begun.active, agent, begun.capability, begun.messages, undefined, begun.onRecord);
    return { run: begun.run, done: begun.active.done };
  }

  /**
   * Starts a run for a trusted system caller acting for no person (a verified webhook delivery):
   * there is no person whose scope to check, and approvals it waits for bind to no one, but a
   * stopped agent or org starts nothing. Resolves once the run is recorded; the hand-over to the
   * cell goes on after (a failure there ends the run failed, as for `start`).
   */
  async startFor(who: SystemStart, input: StartInput): Promise<{ run: Run; done: Promise<Run> }> {
    const db = this.#o.db;
    const orgRow = await db.selectFrom('orgs').selectAll().where('id', '=', who.orgId).executeTakeFirst();
    const agent = await db
      .selectFrom('agents')
      .selectAll()
      .where('org_id', '=', who.orgId)
      .where('id', '=', who.agentId)
      .executeTakeFirst();
    if (!orgRow || !agent) throw new NotFoundError('agent_not_found', 'No such agent.');
    // The caller proved who it is (a signature); the org it belongs to is the one it is scoped to.
    const scope = trustedScope(who.orgId);
    const begun = await this.#begin(
      {
        org: toOrg(orgRow),
        scope,
        agent,
        personId: null,
        tokenId: null,
        actor: who.actor,
        requestId: who.requestId,
      },
      input,
    );
    void this.#dispatch(begun.active, agent, begun.capability, begun.messages, undefined, begun.onRecord)
      .catch((err: unknown) => {
        this.#o.log.error({ err, runId: begun.run.id }, 'a run could not be handed to its cell');
        return this.#finish(
          begun.active,
          this.#failed(begun.messages, 'internal', 'The run could not be handed to the cell.'),
        );
      })
      .catch((err: unknown) => this.#o.log.error({ err, runId: begun.run.id }, 'a run could not be ended'));
    return { run: begun.run, done: begun.active.done };
  }

  /** Checks the agent may run, records the run and its start, and tracks it; not yet dispatched. */
  async #begin(
    who: {
      org: Org;
      scope: OrgScope;
      agent: AgentTable;
      personId: string | null;
      /** The token used, when it acts for no person: the run is that token's own. */
      tokenId: string | null;
      actor: Actor;
      requestId: string;
    },
    input: StartInput,
    listener?: RunListener,
  ) {
    const db = this.#o.db;
    const { org, agent, personId } = who;
    if (agent.state !== 'active' || org.agentsStoppedAt !== null) {
      throw new PaddockError(
        409,
        'agent_stopped',
        org.agentsStoppedAt !== null
          ? "This organization's agents are stopped: no run starts until they are resumed."
          : 'This agent is stopped: no run starts until it is resumed.',
      );
    }
    if (!this.#o.cells) {
      throw new PaddockError(
        503,
        'cells_unavailable',
        'Agents run in org cells, and no sandbox is available here.',
      );
    }
    const refused = await admitRun(db, { orgId: org.id, agentId: agent.id, limits: limitsOf(agent.limits) });
    if (refused) {
      await this.#o.audit.append({
        orgId: org.id,
        actor: who.actor,
        action: 'agent.limit.reached',
        target: { type: 'agent', id: agent.id },
        outcome: 'failure',
        requestId: who.requestId,
        details: { limit: refused.limit, code: refused.code, message: refused.message },
      });
      throw new PaddockError(429, refused.code, refused.message, { retryable: true });
    }
    const capability = randomBytes(32).toString('base64url');
    // The conversation and the run go in one commit, and neither it nor the start's record waits
    // for a sync of its own: written, they survive the process being killed, and nothing the run
    // does can be durable before they are — its first tool call's decision is synced before the
    // call runs, and that sync covers every commit before it (PostgreSQL: every commit is durable).
    const { conversation, history, row } = await this.#lazily(() =>
      db.transaction().execute(async (trx) => {
        const conversation = await openConversation(
          trx,
          who.scope,
          agent.id,
          { userId: personId, tokenId: who.tokenId },
          input.thread?.conversationId ?? input.conversationId,
          input.message,
          () => newId('cnv'),
          input.thread !== undefined,
        );
        // Continuing: what this person may be handed of it (all of it, unless others wrote in it too).
        const history =
          input.thread || input.conversationId
            ? await historyFor(trx, conversation, personId, input.thread !== undefined)
            : messagesOf(conversation);
        const row = newRun(org.id, agent.id, conversation.id, personId, input, capability);
        // Continued: the conversation was touched now (lists put it first; retention counts from here).
        if (conversation.updated_at < row.created_at)
          await trx
            .updateTable('conversations')
            .set({ updated_at: row.created_at })
            .where('org_id', '=', org.id)
            .where('id', '=', conversation.id)
            .execute();
        if (personId === null) row.token_id = who.tokenId;
        await trx.insertInto('runs').values(row).execute();
        // Their words are in someone else's conversation now: on record for a deletion of their data.
        if (input.thread && personId && conversation.person_id !== personId)
          await trx
            .insertInto('conversation_writers')
            .values({ org_id: org.id, conversation_id: conversation.id, person_id: personId })
            .onConflict((oc) => oc.columns(['org_id', 'person_id', 'conversation_id']).doNothing())
            .execute();
        return { conversation, history, row };
      }),
    );
    // Tracked from the moment it exists, so a stop from then on finds it.
    const active = this.#track(row, org.settings, who.requestId, capability, listener);
    // Written before the cell is handed the run (`#dispatch` waits for it), meanwhile the
    // hand-over is prepared.
    const onRecord = this.#o.audit
      .appendWritten({
        orgId: org.id,
        runId: row.id,
        actor: who.actor,
        action: 'run.started',
        target: { type: 'agent', id: agent.id },
        requestId: who.requestId,
        details: {
          via: input.via,
          conversationId: conversation.id,
          message: recorded(org.settings.runTextRecording, input.message),
        },
      })
      .then(
        () => undefined,
        async (err: unknown) => {
          this.#o.log.error({ err, runId: row.id }, 'a run could not be put on record');
          throw new PaddockError(500, 'internal', 'The run could not be put on record.');
        },
      );
    const ref = { orgId: org.id, agentId: agent.id, runId: row.id };
    this.#o.observe?.started({
      ...ref,
      via: input.via,
      message: input.message,
      textRecording: org.settings.runTextRecording,
    });
    // Tagged with its run, so the conversation it is kept in says which run said what.
    const messages: ModelMessage[] = [
      ...history,
      { role: 'user', content: input.message, providerOptions: runTag(row.id, row.created_at) },
    ];
    return { run: toRun(row), active, capability, messages, onRecord };
  }

  #track(
    row: RunTable,
    settings: OrgSettings,
    requestId: string,
    capability: string,
    listener?: RunListener,
  ): Active {
    let ended: (run: Run) => void = () => undefined;
    const done = new Promise<Run>((resolve) => {
      ended = resolve;
    });
    const active: Active = {
      braked: null,
      limit: null,
      runId: row.id,
      row,
      settings,
      orgId: row.org_id,
      agentId: row.agent_id,
      personId: row.person_id,
      requestId,
      abort: new AbortController(),
      gate: undefined,
      listeners: new Set(listener ? [listener] : []),
      streamed: [],
      ended,
      done,
    };
    this.#byCapability.set(capabilityHash(capability), active);
    this.#byRun.set(row.id, active);
    // Resumed here: what it streamed before it waited is not what a follower now comes for.
    this.#recentlyEnded.delete(row.id);
    return active;
  }

  /**
   * Follows a run from this replica (a stream that joins late, such as the chat's after a person
   * decided what the run waited for): what it streamed since it was started or resumed, then
   * live until its end. A run that ended here moments ago is replayed to its end. False when
   * this replica has neither.
   */
  follow(runId: string, listener: RunListener): boolean {
    const a = this.#byRun.get(runId) ?? this.#ending.get(runId);
    const ended = a ? undefined : this.#recentlyEnded.get(runId);
    if (!a && !ended) return false;
    for (const event of (a ?? ended)!.streamed) listener(event);
    if (a) a.listeners.add(listener);
    else listener({ kind: 'end', run: ended!.run });
    return true;
  }

  /** The run ended here: its stream is kept a little while for a follower that comes late. */
  /** A cleared chunk to the listeners, and kept for a follower's replay. */
  #deliver(active: Active, event: Extract<Parameters<RunListener>[0], { kind: 'chunk' }>): void {
    if (active.streamed.length < MAX_REPLAY) active.streamed.push(event);
    for (const l of active.listeners) l(event);
  }

  #ended(active: Active, run: Run): void {
    const now = performance.now();
    for (const [id, e] of this.#recentlyEnded) if (now - e.at > KEEP_ENDED_MS) this.#recentlyEnded.delete(id);
    this.#recentlyEnded.set(active.runId, { at: now, run, streamed: active.streamed });
    if (this.#ending.get(active.runId) === active) this.#ending.delete(active.runId);
    for (const l of active.listeners) l({ kind: 'end', run });
    active.ended(run);
  }

  /** Builds the run's spec (the org's sealed key, the agent's settings) and sends it to the cell. */
  async #dispatch(
    active: Active,
    agent: AgentTable,
    capability: string,
    messages: ModelMessage[],
    decisions: RunSpec['decisions'],
    /** The run's start on record (a new run): durable before the cell gets it. */
    onRecord?: Promise<void>,
  ): Promise<void> {
    const db = this.#o.db;
    active.integrity = new RunIntegrity(agent);
    const settings = active.settings;
    const model = JSON.parse(agent.model) as RunSpec['model'] & { secretId?: string | null };
    let key: RunSpec['key'];
    let tools: RunSpec['tools'];
    let pinned: string[];
    try {
      // The tools go with the spec (no handshake and listing over the channel per run); the
      // agent's pinned memory rides with its instructions (recall finds the rest).
      [key, tools, pinned] = await Promise.all([
        modelKeyFor(db, active.orgId, agent.id, model),
        grantedTools(db, active.orgId, agent.id) as Promise<RunSpec['tools']>,
        pinnedMemory(db, trustedScope(active.orgId), agent.id, active.personId),
        this.#o.cells!.ensure(active.orgId),
        onRecord,
      ]);
    } catch (err) {
      const e = PaddockError.isInstance(err)
        ? err
        : new PaddockError(503, 'cell_unavailable', (err as Error).message);
      await this.#finish(active, this.#failed(messages, e.code, e.message));
      return;
    }
    const limits = limitsOf(agent.limits);
    // A metered call needs a bound on its answer: the provider is told it, the reservation holds it.
    const maxOutputTokens =
      model.maxOutputTokens ?? (isMetered(limits) ? METERED_MAX_OUTPUT_TOKENS : undefined);
    active.meter = new RunMeter(
      db,
      {
        orgId: active.orgId,
        agentId: active.agentId,
        limits,
        model: { provider: model.provider, model: model.model },
        maxOutputTokens: maxOutputTokens ?? 0,
      },
      Number(active.row.tool_calls ?? 0),
    );
    const spec: RunSpec = {
      runId: active.runId,
      capability,
      instructions: withPinnedMemory(agent.instructions, pinned),
      model: {
        provider: model.provider,
        model: model.model,
        temperature: model.temperature,
        maxOutputTokens,
      },
      metered: active.meter.metered,
      key,
      tools,
      messages,
      limits: { maxSteps: settings.runMaxSteps, wallMs: settings.runMaxSeconds * 1000 },
      outputSchema: active.integrity.schema,
      decisions,
    };
    // Stopped while it was being prepared: it is never handed to the cell.
    if (this.#braked.has(active.runId)) active.braked ??= 'the run was stopped';
    if (!this.#byRun.has(active.runId)) return;
    if (active.braked) {
      await this.#finish(active, this.#failed(messages, 'stopped', active.braked));
      return;
    }
    if (!this.#o.cells!.send(active.orgId, { v: 1, type: 'run', org: active.orgId, spec })) {
      await this.#finish(
        active,
        this.#failed(messages, 'cell_unavailable', "The org's cell is not running."),
      );
    }
  }

  #failed(messages: ModelMessage[], code: string, message: string): RunEnd {
    return {
      status: 'failed',
      output: null,
      messages,
      usage: { inputTokens: 0, outputTokens: 0 },
      steps: 0,
      error: { code, message },
      pending: [],
    };
  }

  // ── Frames from the cells ─────────────────────────────────────────────────────────────────

  onFrame(orgId: string, frame: RunFrame): void {
    const active = this.#byCapability.get(capabilityHash(String(frame.capability)));
    // A capability that is not a live run of this org's: ignored, and said.
    if (!active || active.orgId !== orgId) {
      this.#o.log.warn({ orgId, type: frame.type }, 'a cell sent a frame for no run of its org');
      return;
    }
    if (frame.type === 'mcp') this.#toGate(active, frame.message as JSONRPCMessage);
    else if (frame.type === 'run.event') {
      const event = parseRunEvent(frame.event);
      if (event) this.#event(active, event);
    } else void this.#finish(active, parseRunEnd(frame.end));
  }

  #toGate(active: Active, message: JSONRPCMessage): void {
    if ('method' in message && 'id' in message) {
      // A model call's reservation is the runtime's, not the gate's.
      if (message.method === METER_RESERVE) {
        void this.#reserve(active, message.id, message.params?.inputTokens).catch((err: unknown) => {
          this.#o.log.error({ err, runId: active.runId }, 'a model call could not be reserved');
          this.#reply(active, {
            jsonrpc: '2.0',
            id: message.id,
            error: { code: -32603, message: 'internal' },
          });
        });
        return;
      }
      const over = message.method === 'tools/call' ? active.meter?.toolCall() : null;
      if (over) {
        this.#limitReached(active, over);
        this.#reply(active, {
          jsonrpc: '2.0',
          id: message.id,
          result: { isError: true, content: [{ type: 'text', text: over.message }] },
        });
        return;
      }
    }
    if (!active.gate) {
      const transport = new ChannelTransport((m) =>
        this.#o.cells?.send(active.orgId, {
          v: 1,
          type: 'mcp',
          org: active.orgId,
          runId: active.runId,
          message: m,
        }),
      );
      const server = runGateServer(
        { db: this.#o.db, gateway: this.#o.gateway, log: this.#o.log },
        {
          orgId: active.orgId,
          agentId: active.agentId,
          personId: active.personId,
          runId: active.runId,
          requestId: active.requestId,
        },
        active.abort.signal,
      );
      void server.connect(transport);
      active.gate = { server, transport };
    }
    active.gate.transport.deliver(message);
  }

  /** Reserves from the run's budgets for one model call; refused, the run ends saying which. */
  async #reserve(active: Active, id: string | number, inputTokens: unknown): Promise<void> {
    const estimate = Number(inputTokens);
    const refused =
      !Number.isFinite(estimate) || estimate < 0
        ? ({
            code: 'budget_exceeded',
            limit: 'tokensPerDay',
            message: 'The cell asked for a model call without a valid estimate.',
          } as const)
        : ((await active.meter?.reserve(estimate)) ?? null);
    if (refused) {
      this.#limitReached(active, refused);
      this.#reply(active, { jsonrpc: '2.0', id, error: { code: -32001, message: refused.message } });
    } else this.#reply(active, { jsonrpc: '2.0', id, result: {} });
  }

  /** A limit reached: on record, and the run ends (failed, saying which) as a stop would end it. */
  #limitReached(active: Active, reached: LimitReached): void {
    if (active.limit || active.braked) return;
    active.limit = reached;
    void this.#o.audit
      .append({
        orgId: active.orgId,
        runId: active.runId,
        actor: { type: 'agent', id: active.agentId },
        action: 'agent.limit.reached',
        target: { type: 'agent', id: active.agentId },
        outcome: 'failure',
        requestId: active.requestId,
        details: { limit: reached.limit, code: reached.code, message: reached.message },
      })
      .catch((err: unknown) => this.#o.log.error({ err }, 'could not record a limit reached'));
    active.abort.abort(reached.message);
    this.#o.cells?.send(active.orgId, {
      v: 1,
      type: 'run.stop',
      org: active.orgId,
      runId: active.runId,
      reason: reached.message,
    });
  }

  #reply(active: Active, message: JSONRPCMessage): void {
    this.#o.cells?.send(active.orgId, { v: 1, type: 'mcp', org: active.orgId, runId: active.runId, message });
  }

  #event(active: Active, event: RunEvent): void {
    if (event.kind === 'step') {
      const s = event.step;
      if (active.meter?.metered)
        void active.meter
          .settle(s)
          .catch((err: unknown) => this.#o.log.error({ err }, 'could not settle a model call'));
      this.#o.observe?.step(active, s);
      // Written at once, with no sync of its own (which the run's next tool call, whose decision
      // is synced before it runs, would wait behind): that call's sync makes it durable too.
      void this.#o.audit
        .appendWritten({
          orgId: active.orgId,
          runId: active.runId,
          actor: { type: 'agent', id: active.agentId },
          action: 'model.called',
          target: { type: 'model', id: `${s.provider}/${s.model}` },
          requestId: active.requestId,
          details: { ...s },
        })
        .catch((err: unknown) => this.#o.log.error({ err }, 'could not record a model call'));
    }
    if (event.kind === 'chunk' && active.integrity) {
      // Only what the checks cleared is delivered, or kept for a follower's replay.
      for (const chunk of active.integrity.chunks(event.chunk))
        this.#deliver(active, { kind: 'chunk', chunk });
      return;
    }
    if (event.kind !== 'step' && active.streamed.length < MAX_REPLAY) active.streamed.push(event);
    for (const l of active.listeners) l(event);
  }

  async #finish(active: Active, reported: RunEnd): Promise<void> {
    if (!this.#byRun.has(active.runId)) return;
    // Held to the output contract and checks before anything of it is kept or delivered.
    const settled = active.integrity?.settle(reported) ?? { end: reported, fired: [] };
    // Stopped or over a limit as it reported a wait: what it waited for is kept (it never ran).
    const end: RunEnd = active.braked
      ? { ...settled.end, status: 'stopped', error: { code: 'stopped', message: active.braked } }
      : active.limit
        ? {
            ...settled.end,
            status: 'failed',
            error: { code: active.limit.code, message: active.limit.message },
          }
        : settled.end;
    this.#byRun.delete(active.runId);
    // Still followed until its end is delivered (`#ended`), or it failed to end here.
    this.#ending.set(active.runId, active);
    try {
      for (const [k, a] of this.#byCapability) if (a === active) this.#byCapability.delete(k);
      active.abort.abort('the run ended');
      await active.gate?.server.close().catch(() => undefined);
      // What it reserved and never reported counts as used.
      await active.meter
        ?.close()
        .catch((err: unknown) => this.#o.log.error({ err }, 'could not settle a run'));
      const db = this.#o.db;
      const status = end.status;
      const now = new Date().toISOString();
      const waiting = status === 'waiting_approval';
      const row = active.row;
      const update = {
        status,
        capability_hash: null,
        output: end.output ?? null,
        // Waiting: what it resumes from; ended otherwise than completed: its own, to be read back
        // (a completed run's are the conversation's).
        state: waiting
          ? JSON.stringify(end.messages)
          : status === 'completed'
            ? null
            : ownMessages(end.messages, active.runId),
        // Waiting: what it waits for; ended while calls still waited: those, which never ran.
        pending:
          waiting || (status !== 'completed' && end.pending?.length) ? JSON.stringify(end.pending) : null,
        steps: Number(row.steps) + (end.steps ?? 0),
        tool_calls: active.meter?.toolCalls ?? Number(row.tool_calls ?? 0),
        input_tokens: Number(row.input_tokens) + (end.usage?.inputTokens ?? 0),
        output_tokens: Number(row.output_tokens) + (end.usage?.outputTokens ?? 0),
        error_code: end.error?.code ?? null,
        // The cell scrubs what it reports, but it is the less trusted side: redacted here too.
        error_message: end.error ? redactString(end.error.message) : null,
        updated_at: now,
        ended_at: waiting ? null : now,
      };
      // The end, the conversation and its record commit together; a stop that reached the
      // database first wins (a run it ended stays ended).
      const final = await db.transaction().execute(async (trx) => {
        const written = await trx
          .updateTable('runs')
          .set(update)
          .where('id', '=', active.runId)
          .where('status', '=', 'running')
          .executeTakeFirst();
        // Ended meanwhile (a stop): the run as that end left it.
        if (Number(written.numUpdatedRows) !== 1)
          return toRun(
            await trx.selectFrom('runs').selectAll().where('id', '=', active.runId).executeTakeFirstOrThrow(),
          );
        if (status === 'completed') {
          await trx
            .updateTable('conversations')
            .set({ messages: JSON.stringify(await keptMessages(trx, row, end.messages)), updated_at: now })
            .where('id', '=', row.conversation_id)
            .execute();
        }
        const ended = toRun({ ...row, ...update } as RunTable);
        await this.#recordEnd(trx, active, ended, end.pending ?? [], settled.fired);
        return ended;
      });
      for (const chunk of active.integrity?.close(final.status === 'completed' ? final.output : null) ?? [])
        this.#deliver(active, { kind: 'chunk', chunk });
      this.#ended(active, final);
    } finally {
      // Not ended here after all (its end failed to be kept): no follower waits on it any longer.
      if (this.#ending.get(active.runId) === active) this.#ending.delete(active.runId);
    }
  }

  /** Ends a run (from one of `from`) and puts that on record, together; false if it had ended. */
  async #endOnRecord(
    row: RunTable,
    from: RunTable['status'][],
    set: Partial<RunTable>,
    run: Run,
    requestId: string | undefined,
  ): Promise<boolean> {
    return this.#o.db.transaction().execute(async (trx) => {
      const r = await trx
        .updateTable('runs')
        .set(set)
        .where('id', '=', row.id)
        .where('status', 'in', from)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return false;
      await this.#recordEnd(
        trx,
        { orgId: row.org_id, runId: row.id, agentId: row.agent_id, requestId: requestId ?? row.id },
        run,
        [],
      );
      return true;
    });
  }

  /** The run's end on record, in the transaction that ends it. */
  async #recordEnd(
    trx: Db,
    active: Pick<Active, 'orgId' | 'runId' | 'agentId' | 'requestId'>,
    run: Run,
    pending: PendingCall[],
    /** The checks that fired on its answer (which ones, never what they matched). */
    checks: Fired[] = [],
  ) {
    this.#o.observe?.ended(active, run);
    // What it asked and was not used ends with it: no one approves a call for a run that is over.
    const approvalsExpired =
      run.status === 'waiting_approval'
        ? 0
        : await expireApprovals(trx, active.orgId, { runId: active.runId });
    const orgRow = await trx.selectFrom('orgs').selectAll().where('id', '=', active.orgId).executeTakeFirst();
    const policy = orgRow ? toOrg(orgRow).settings.runTextRecording : 'full';
    const action =
      run.status === 'waiting_approval'
        ? 'run.waiting'
        : run.status === 'completed'
          ? 'run.completed'
          : `run.${run.status}`;
    await recordAudit(trx, {
      orgId: active.orgId,
      runId: active.runId,
      actor: { type: 'agent', id: active.agentId },
      action,
      target: { type: 'agent', id: active.agentId },
      outcome: run.status === 'completed' || run.status === 'waiting_approval' ? 'success' : 'failure',
      requestId: active.requestId,
      details: {
        output: recorded(policy, run.output),
        steps: run.steps,
        usage: run.usage,
        error: run.error,
        waitingFor: pending.map((p) => ({ approvalId: p.approvalId, tool: p.toolName })),
        ...(checks.length ? { checks } : {}),
        ...(approvalsExpired ? { approvalsExpired } : {}),
      },
    });
  }

  onCellGone(orgId: string, why: string): void {
    for (const a of [...this.#byRun.values()].filter((x) => x.orgId === orgId)) {
      void this.#finish(a, this.#failed([], 'cell_gone', `The org's cell went away mid-run: ${why}.`));
    }
  }

  // ── Stops ─────────────────────────────────────────────────────────────────────────────────

  /**
   * The kill switch at once, before the stop is durable: the runs `target` covers (one run, an
   * agent's, or every run of the org) that are in flight on this replica are told to stop and
   * their gate calls end; whatever they report after, they ended stopped. The stop's commit then
   * ends them on record (`end`).
   */
  brake(target: StopTarget, reason: string): void {
    if (target.kind === 'run') this.#remember(target.runId);
    for (const a of this.#byRun.values()) {
      if (!this.#covers(target, a)) continue;
      a.braked = reason;
      a.abort.abort(reason);
      this.#o.cells?.send(a.orgId, { v: 1, type: 'run.stop', org: a.orgId, runId: a.runId, reason });
    }
  }

  /**
   * A stop committed, as the stop bus delivers it on every replica: every run it covers ends —
   * an agent's or org's runs on record here (in flight and waiting alike: a waiting run of a
   * stopped agent never resumes), and one stopped run in flight here ends at once.
   */
  async end(target: StopTarget, reason: string): Promise<void> {
    if (target.kind === 'run') {
      this.#remember(target.runId);
      const row = await this.#o.db
        .selectFrom('runs')
        .selectAll()
        .where('org_id', '=', target.orgId)
        .where('id', '=', target.runId)
        .executeTakeFirst();
      if (row) await this.#stop([row], reason, undefined);
      return;
    }
    let q = this.#o.db
      .selectFrom('runs')
      .selectAll()
      .where('org_id', '=', target.orgId)
      .where('status', 'in', ['running', 'waiting_approval']);
    if (target.kind === 'agent') q = q.where('agent_id', '=', target.agentId);
    if (target.kind === 'agent' || target.kind === 'org')
      await this.#stop(await q.execute(), reason, undefined);
  }

  #remember(runId: string): void {
    const now = performance.now();
    for (const [id, at] of this.#braked) if (now - at > REMEMBER_STOPS_MS) this.#braked.delete(id);
    this.#braked.set(runId, now);
  }

  #covers(target: StopTarget, a: Active): boolean {
    if (a.orgId !== target.orgId) return false;
    if (target.kind === 'run') return a.runId === target.runId;
    if (target.kind === 'agent') return a.agentId === target.agentId;
    return target.kind === 'org';
  }

  /**
   * Ends one run through the kill switch (brake → durable commit → every replica → release): in
   * flight, the cell is told and its gate calls end at once; waiting, it never resumes.
   */
  async stopRun(ctx: OrgContext, runId: string, reason = 'stopped by a person'): Promise<Run> {
    const row = await requireRunRow(this.#o.db, ctx.scope, runId);
    await requireAgentRow(this.#o.db, ctx, row.agent_id);
    if (row.status !== 'running' && row.status !== 'waiting_approval')
      throw new ConflictError('run_ended', `This run already ended (${row.status}).`);
    await this.#stopOne(row, reason, ctx.requestId);
    return toRun(await requireRunRow(this.#o.db, ctx.scope, runId));
  }

  /**
   * Ends every run acting for a person (removed from the org), in flight and waiting alike,
   * through the kill switch: nothing runs for them after, and no approval resumes one.
   */
  async stopRunsFor(ctx: OrgContext, personId: string, reason: string): Promise<number> {
    const rows = await this.#o.db
      .selectFrom('runs')
      .selectAll()
      .where('org_id', '=', ctx.scope.orgId)
      .where('person_id', '=', personId)
      .where('status', 'in', ['running', 'waiting_approval'])
      .execute();
    for (const row of rows) await this.#stopOne(row, reason, ctx.requestId);
    return rows.length;
  }

  /** One run ended through the kill switch (brake → durable commit → every replica → release). */
  async #stopOne(row: RunTable, reason: string, requestId: string): Promise<void> {
    const kill = this.#o.killSwitch?.();
    if (!kill) await this.#stop([row], reason, requestId);
    else
      await kill.stop({ kind: 'run', orgId: row.org_id, runId: row.id }, async (allowed) => {
        allowed();
        await this.#endOnRecord(
          row,
          ['running', 'waiting_approval'],
          stoppedSet(reason, row),
          stoppedRun(row, reason),
          requestId,
        );
      });
  }

  /** Ends these runs on record, stopped; those in flight here end at once. */
  async #stop(rows: RunTable[], reason: string, requestId: string | undefined): Promise<void> {
    for (const row of rows) {
      const active = this.#byRun.get(row.id);
      const run = stoppedRun(row, reason);
      // The database says it ended first: the cell's own end (if any) then changes nothing.
      const ended =
        row.status === 'running' || row.status === 'waiting_approval'
          ? await this.#endOnRecord(
              row,
              ['running', 'waiting_approval'],
              stoppedSet(reason, row),
              run,
              requestId,
            )
          : false;
      if (!active) continue;
      active.braked ??= reason;
      active.abort.abort(reason);
      this.#o.cells?.send(row.org_id, { v: 1, type: 'run.stop', org: row.org_id, runId: row.id, reason });
      // Ended on record, by this stop or another: it ends here now, as the record says.
      const now = ended ? run : toRun(await requireRunRow(this.#o.db, trustedScope(row.org_id), row.id));
      if (now.status === 'running' || now.status === 'waiting_approval') continue;
      this.#byRun.delete(row.id);
      for (const [k, a] of this.#byCapability) if (a === active) this.#byCapability.delete(k);
      this.#ended(active, now);
    }
  }

  // ── Resuming after approvals ──────────────────────────────────────────────────────────────

  /**
   * Resumes the waiting runs whose calls are all decided (any run of the org, or the runs waiting
   * for one approval); fails those whose approval expired. Safe to run on every replica: a run
   * is taken from waiting to running by one of them only.
   */
  async resumeDecided(orgId?: string, approvalId?: string): Promise<number> {
    const db = this.#o.db;
    let q = db.selectFrom('runs').selectAll().where('status', '=', 'waiting_approval');
    if (orgId) q = q.where('org_id', '=', orgId);
    const waiting = (await q.execute()).filter((r) => !approvalId || (r.pending ?? '').includes(approvalId));
    let resumed = 0;
    for (const row of waiting) {
      const pending = JSON.parse(row.pending ?? '[]') as PendingCall[];
      const approvals = await db
        .selectFrom('approvals')
        .select(['id', 'status', 'expires_at', 'args_digest', 'requested_by'])
        .where('org_id', '=', row.org_id)
        .where('agent_id', '=', row.agent_id)
        // The run's own: the cell names them, and another run's decision is not this run's.
        .where('run_id', '=', row.id)
        .where('id', 'in', pending.length ? pending.map((p) => p.approvalId) : [''])
        .execute();
      const now = new Date().toISOString();
      const state = (id: string) => {
        const a = approvals.find((x) => x.id === id);
        if (!a) return 'expired';
        if (a.status === 'pending') return a.expires_at <= now ? 'expired' : 'pending';
        return a.status === 'denied' ? 'denied' : a.status === 'expired' ? 'expired' : 'approved';
      };
      const states = pending.map((p) => state(p.approvalId));
      if (states.includes('pending')) continue;
      const agent = await db
        .selectFrom('agents')
        .selectAll()
        .where('id', '=', row.agent_id)
        .executeTakeFirst();
      const orgRow = await db
        .selectFrom('orgs')
        .selectAll()
        .where('id', '=', row.org_id)
        .executeTakeFirstOrThrow();
      if (agent?.state !== 'active' || orgRow.agents_stopped_at !== null) {
        await this.#stop([row], 'the agent was stopped while the run waited', undefined);
        continue;
      }
      const capability = randomBytes(32).toString('base64url');
      // Kept as it resumes, by the control plane: which calls a person approved or denied. The
      // cell reports what it waits for (it is the less trusted side): a decision is kept only for
      // an approval of exactly that call, asked for whom the run acts for.
      const decided: RunDecision[] = [
        ...(JSON.parse(row.decisions ?? '[]') as RunDecision[]),
        ...pending.flatMap((p, i): RunDecision[] => {
          const digest = argsDigest((p.input ?? {}) as Record<string, unknown>);
          const a = approvals.find((x) => x.id === p.approvalId);
          const bound = a !== undefined && a.requested_by === row.person_id && a.args_digest === digest;
          if (states[i] === 'expired' || !bound) return [];
          const outcome = states[i] === 'denied' ? 'denied' : 'approved';
          return [
            {
              toolCallId: p.toolCallId,
              toolName: p.toolName,
              argsDigest: digest,
              approvalId: p.approvalId,
              outcome,
            },
          ];
        }),
      ];
      const taken = await db
        .updateTable('runs')
        .set({
          status: 'running',
          capability_hash: capabilityHash(capability),
          updated_at: now,
          decisions: JSON.stringify(decided),
          // Decided: nothing waits now (the calls it waited for are the cell's to make).
          pending: null,
        })
        .where('id', '=', row.id)
        .where('status', '=', 'waiting_approval')
        // As read: a run that resumed and waited again since waits for other calls.
        .where('pending', row.pending === null ? 'is' : '=', row.pending)
        .where('updated_at', '=', row.updated_at)
        .executeTakeFirst();
      if (Number(taken.numUpdatedRows) !== 1) continue; // another replica took it, or it moved on
      const active = this.#track({ ...row, status: 'running' }, toOrg(orgRow).settings, row.id, capability);
      const messages = JSON.parse(row.state ?? '[]') as ModelMessage[];
      if (states.includes('expired')) {
        await this.#finish(
          active,
          // Its calls never ran: kept as what it waited for, so its conversation says so.
          {
            ...this.#failed(
              messages,
              'approval_expired',
              'A call the run waited for was not approved in time.',
            ),
            pending,
          },
        );
        continue;
      }
      const decisions = pending.map((p, i) => ({
        toolCallId: p.toolCallId,
        outcome: states[i] === 'denied' ? ('denied' as const) : ('approved' as const),
      }));
      await this.#o.audit.append({
        orgId: row.org_id,
        runId: row.id,
        actor: { type: 'system', id: 'runtime' },
        action: 'run.resumed',
        target: { type: 'agent', id: row.agent_id },
        details: {
          decisions: decisions.map((d, i) => ({ approvalId: pending[i]!.approvalId, outcome: d.outcome })),
        },
      });
      this.#o.observe?.resumed(active);
      await this.#dispatch(active, agent, capability, messages, decisions);
      resumed++;
    }
    return resumed;
  }

  /**
   * The scheduled part: waiting runs resume once decided (a decision seen by no replica's
   * request), and runs that never reported an end are counted lost.
   */
  async sweep(): Promise<{ resumed: number; lost: number }> {
    const resumed = await this.resumeDecided();
    const db = this.#o.db;
    const running = await db.selectFrom('runs').selectAll().where('status', '=', 'running').execute();
    let lost = 0;
    for (const row of running) {
      if (this.#byRun.has(row.id)) continue;
      const orgRow = await db.selectFrom('orgs').selectAll().where('id', '=', row.org_id).executeTakeFirst();
      const limit = (orgRow ? toOrg(orgRow).settings.runMaxSeconds : 300) * 1000 + LOST_GRACE_MS;
      if (Date.now() - Date.parse(row.updated_at) < limit) continue;
      const now = new Date().toISOString();
      const message = 'The run never reported its end (its server or cell went away).';
      const run = toRun({
        ...row,
        status: 'failed',
        error_code: 'run_lost',
        error_message: message,
        ended_at: now,
      });
      const ended = await this.#endOnRecord(
        row,
        ['running'],
        {
          status: 'failed',
          capability_hash: null,
          error_code: 'run_lost',
          error_message: message,
          updated_at: now,
          ended_at: now,
        },
        run,
        undefined,
      );
      if (ended) lost++;
    }
    return { resumed, lost };
  }

  /** Runs in flight on this replica (for the cell page and tests). */
  inFlight(orgId?: string): number {
    return [...this.#byRun.values()].filter((a) => !orgId || a.orgId === orgId).length;
  }

  async close(): Promise<void> {
    for (const a of [...this.#byRun.values()]) {
      await this.#finish(
        a,
        this.#failed([], 'server_stopped', 'The server stopped while the run was in flight.'),
      );
    }
  }
}
