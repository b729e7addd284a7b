/**
 * The tool gateway: the one code path every tool call takes, whoever asks (the REST test call,
 * the MCP endpoint, Paddock's own agents). For each call: the agent and its org must not be
 * stopped (the kill switch), Cedar decides on the agent's active grants (default deny), a call
 * only an approval-requiring grant allows needs a matching single-use approval, the decision is
 * made durable in the audit log before anything runs, the tool is called on the agent's own MCP
 * session (inside the org's sandbox), and the result is recorded.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Kysely } from 'kysely';
import { type Approval, awaitDecision, consumeApproval, requestApproval } from '../approvals/approvals.ts';
import type { AuditTrail } from '../audit/index.ts';
import { type Opener, openConnection } from '../connections/open.ts';
import { NotFoundError, PaddockError } from '../errors/index.ts';
import { toOrg } from '../identity/orgs.ts';
import type { Logger } from '../log/index.ts';
import { PolicyEngine } from '../policy/engine.ts';
import { toGrant } from '../policy/grants-service.ts';
import type { Database } from '../store/index.ts';
import type { ConnectionTable } from '../store/schema.ts';

export interface CallRequest {
  orgId: string;
  agentId: string;
  connectionId: string;
  tool: string;
  args: Record<string, unknown>;
  requestId: string;
  /**
   * The person answerable for the call: who asked (an admin's test call, a person's run), or
   * who issued the agent token (the MCP endpoint). Approvals bind to them.
   */
  onBehalfOf?: string | undefined;
  /**
   * The caller gave up (an MCP client's cancellation or timeout), or its credential ended (the
   * reason, a PaddockError, is then the call's answer and its record): nothing runs after it.
   */
  signal?: AbortSignal | undefined;
  /** The agent run the call belongs to: its audit entries carry it. */
  runId?: string | undefined;
  /**
   * `pause` (default): a call needing approval waits up to the org's approvalWaitSeconds;
   * `return`: it answers approval_required at once (a run persists itself and resumes later).
   */
  approval?: 'pause' | 'return' | undefined;
}

export interface CallResult {
  content: unknown;
  isError: boolean;
  durationMs: number;
  auditIndex: number;
}

export interface GatewayOptions {
  db: Kysely<Database>;
  audit: AuditTrail;
  /** How sessions to connections are opened (sandbox, vault, egress proxy). */
  opener: Opener;
  callTimeoutMs?: number;
  /** An agent's MCP session closes after this long unused. */
  idleMs?: number;
  log?: Logger;
}

type ConnectionRow = Pick<
  ConnectionTable,
  'id' | 'org_id' | 'transport' | 'command' | 'args' | 'url' | 'env' | 'headers'
>;

interface Session {
  orgId: string;
  agentId: string;
  connectionId: string;
  /** Vault secrets the server was given: changing one ends the session. */
  secretIds: string[];
  /** The client, and what scrubs the connection's own secrets from what its tools return. */
  ready: Promise<{ client: Client; scrub: <T>(content: T) => T }>;
  lastUsed: number;
}

interface InFlight {
  orgId: string;
  controller: AbortController;
}

/** Why an aborted call ended: its caller gave up, its credential ended, or the kill switch. */
function abortError(signal: AbortSignal): PaddockError {
  if (PaddockError.isInstance(signal.reason)) return signal.reason;
  return signal.reason === CANCELLED
    ? new PaddockError(409, 'call_cancelled', 'The caller gave up on this call; it did not run.')
    : stoppedError(false);
}

/** The same, in words for the audit trail. */
function abortCause(signal: AbortSignal): string {
  if (PaddockError.isInstance(signal.reason)) return signal.reason.message;
  return signal.reason === CANCELLED ? CANCELLED : 'stopped by the kill switch';
}

/** Abort reason when the caller, not the kill switch, ended the call. */
const CANCELLED = 'cancelled by the caller';
/** Waiting calls per agent at most: more answer approval_required at once (no polling flood). */
const MAX_WAITING_PER_AGENT = 5;

const stoppedError = (org: boolean) =>
  new PaddockError(
    409,
    'agent_stopped',
    org
      ? "This organization's agents are stopped: no tool call runs until they are resumed."
      : 'This agent is stopped: no tool call runs until it is resumed.',
  );

export class ToolGateway {
  readonly #o: GatewayOptions;
  readonly #engine = new PolicyEngine();
  // The grants version each agent's grants were loaded at.
  readonly #fingerprints = new Map<string, string>();
  // One MCP session per (agent, connection): stopping an agent ends its servers and nobody else's.
  readonly #sessions = new Map<string, Session>();
  readonly #inFlight = new Map<string, Set<InFlight>>(); // by agent
  readonly #reaper: NodeJS.Timeout;
  readonly #recording = new Set<Promise<unknown>>();
  readonly #waiting = new Map<string, number>(); // calls paused for approval, by agent
  // Stops decided but not yet durable: `org/agent` or `org/*`, with how many hold each.
  readonly #brakes = new Map<string, number>();

  constructor(opts: GatewayOptions) {
    this.#o = opts;
    this.#reaper = setInterval(() => void this.#closeIdle(), 60_000);
    this.#reaper.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.#reaper);
    await Promise.all(this.#recording);
    await Promise.all([...this.#sessions.keys()].map((k) => this.#closeSession(k)));
  }

  /**
   * The kill switch's teeth, called once the stop is committed: calls of the agent that are in
   * flight are aborted, and its MCP servers are ended (awaited), so nothing of it runs after.
   */
  /** Aborts the calls in flight of an agent, or of every agent of the org. */
  #abort(orgId: string | undefined, agentId?: string): void {
    for (const [agent, set] of this.#inFlight)
      for (const f of set)
        if ((orgId === undefined || f.orgId === orgId) && (!agentId || agent === agentId))
          f.controller.abort();
  }

  async stopAgent(agentId: string): Promise<void> {
    this.#abort(undefined, agentId);
    await Promise.all(
      [...this.#sessions].filter(([, s]) => s.agentId === agentId).map(([k]) => this.#closeSession(k)),
    );
  }

  /**
   * The kill switch at once, before its commit is durable (a slow disk cannot delay it): the
   * agent's (or, with no agent, the org's) calls in flight are aborted and new ones refused on
   * this replica until released. Release once the stop is committed (the stored state refuses
   * calls from then on) or has failed.
   */
  brake(orgId: string, agentId?: string): () => void {
    const key = `${orgId}/${agentId ?? '*'}`;
    this.#brakes.set(key, (this.#brakes.get(key) ?? 0) + 1);
    this.#abort(orgId, agentId);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#brakes.get(key) ?? 1) - 1;
      if (left > 0) this.#brakes.set(key, left);
      else this.#brakes.delete(key);
    };
  }

  #braked(orgId: string, agentId: string): 'agent' | 'org' | null {
    if (this.#brakes.size === 0) return null;
    if (this.#brakes.has(`${orgId}/*`)) return 'org';
    return this.#brakes.has(`${orgId}/${agentId}`) ? 'agent' : null;
  }

  /**
   * Catches up after events may have been missed (another replica's stop sent while this one's
   * listener was down): calls of agents now stopped end, and idle sessions close, so the next
   * call reopens them with the connection and secrets as they stand.
   */
  async resync(): Promise<void> {
    const agentIds = [
      ...new Set([...this.#inFlight.keys(), ...[...this.#sessions.values()].map((s) => s.agentId)]),
    ];
    if (agentIds.length === 0) return;
    const rows = await this.#o.db
      .selectFrom('agents')
      .innerJoin('orgs', 'orgs.id', 'agents.org_id')
      .select(['agents.id', 'agents.state', 'orgs.agents_stopped_at'])
      .where('agents.id', 'in', agentIds)
      .execute();
    const active = new Set(
      rows.filter((r) => r.state === 'active' && r.agents_stopped_at === null).map((r) => r.id),
    );
    await Promise.all(agentIds.filter((id) => !active.has(id)).map((id) => this.stopAgent(id)));
    await Promise.all(
      [...this.#sessions]
        .filter(([, s]) => (this.#inFlight.get(s.agentId)?.size ?? 0) === 0)
        .map(([k]) => this.#closeSession(k)),
    );
  }

  /** Ends every agent's session to a connection (it was deleted). */
  async closeConnection(connectionId: string): Promise<void> {
    await Promise.all(
      [...this.#sessions]
        .filter(([, s]) => s.connectionId === connectionId)
        .map(([k]) => this.#closeSession(k)),
    );
  }

  /** Ends the sessions whose servers hold a secret that was rotated, rescoped or deleted. */
  async closeSessionsUsing(secretId: string): Promise<void> {
    await Promise.all(
      [...this.#sessions]
        .filter(([, s]) => s.secretIds.includes(secretId))
        .map(([k]) => this.#closeSession(k)),
    );
  }

  /** The org-wide kill switch: every agent of the org, as `stopAgent`. */
  async stopOrg(orgId: string): Promise<void> {
    this.#abort(orgId);
    await Promise.all(
      [...this.#sessions].filter(([, s]) => s.orgId === orgId).map(([k]) => this.#closeSession(k)),
    );
  }

  /** How many calls are running now (for the cell page and tests). */
  inFlight(agentId?: string): number {
    if (agentId) return this.#inFlight.get(agentId)?.size ?? 0;
    let n = 0;
    for (const s of this.#inFlight.values()) n += s.size;
    return n;
  }

  async #closeSession(key: string): Promise<void> {
    const s = this.#sessions.get(key);
    if (!s) return;
    this.#sessions.delete(key);
    await s.ready.then((r) => r.client.close()).catch(() => undefined);
  }

  async #closeIdle(): Promise<void> {
    const idle = this.#o.idleMs ?? 10 * 60_000;
    const now = Date.now();
    for (const [k, s] of this.#sessions) {
      if (now - s.lastUsed > idle && (this.#inFlight.get(s.agentId)?.size ?? 0) === 0)
        await this.#closeSession(k);
    }
  }

  /** The agent's MCP session to a connection, opened on first use (stdio: in the org's sandbox). */
  #session(req: CallRequest, conn: ConnectionRow): Session {
    const key = `${req.agentId}/${req.connectionId}`;
    const found = this.#sessions.get(key);
    if (found) {
      found.lastUsed = Date.now();
      return found;
    }
    const ready = openConnection(this.#o.opener, conn, req.agentId);
    const session: Session = {
      orgId: req.orgId,
      agentId: req.agentId,
      connectionId: req.connectionId,
      secretIds: [
        ...Object.values(JSON.parse(conn.env) as Record<string, string>),
        ...Object.values(JSON.parse(conn.headers) as Record<string, string>),
      ],
      ready,
      lastUsed: Date.now(),
    };
    const drop = () => {
      if (this.#sessions.get(key) === session) this.#sessions.delete(key);
    };
    // A server that exits (or fails to start) takes its session with it; the next call opens anew.
    ready.then((r) => {
      r.client.onclose = drop;
    }, drop);
    this.#sessions.set(key, session);
    return session;
  }

  /** The agent's state and grants version, with its org (and the org-wide stop). */
  #agentRow(req: CallRequest) {
    return this.#o.db
      .selectFrom('agents')
      .innerJoin('orgs', 'orgs.id', 'agents.org_id')
      .selectAll('orgs')
      .select(['agents.state as agent_state', 'agents.grants_version'])
      .where('agents.org_id', '=', req.orgId)
      .where('agents.id', '=', req.agentId)
      .executeTakeFirst();
  }

  /** The agent's active grants into the engine, re-read only when their version moved. */
  async #loadGrants(req: CallRequest, grantsVersion: number): Promise<void> {
    const version = `${grantsVersion}`;
    if (this.#fingerprints.get(req.agentId) === version) return;
    const rows = await this.#o.db
      .selectFrom('grants')
      .selectAll()
      .where('org_id', '=', req.orgId)
      .where('agent_id', '=', req.agentId)
      .where('status', '=', 'active')
      .execute();
    this.#engine.setGrants(req.agentId, rows.map(toGrant));
    this.#fingerprints.set(req.agentId, version);
  }

  async call(req: CallRequest): Promise<CallResult> {
    // Tracked before the stop state is read: a stop committed after this read aborts it.
    const flight: InFlight = { orgId: req.orgId, controller: new AbortController() };
    const cancel = () =>
      flight.controller.abort(PaddockError.isInstance(req.signal?.reason) ? req.signal.reason : CANCELLED);
    if (req.signal?.aborted) cancel();
    req.signal?.addEventListener('abort', cancel, { once: true });
    const set = this.#inFlight.get(req.agentId) ?? new Set<InFlight>();
    this.#inFlight.set(req.agentId, set);
    set.add(flight);
    try {
      return await this.#call(req, flight.controller.signal);
    } finally {
      req.signal?.removeEventListener('abort', cancel);
      set.delete(flight);
      if (set.size === 0) this.#inFlight.delete(req.agentId);
    }
  }

  async #call(req: CallRequest, signal: AbortSignal): Promise<CallResult> {
    const db = this.#o.db;
    const base = {
      runId: req.runId,
      orgId: req.orgId,
      actor: { type: 'agent' as const, id: req.agentId },
      target: { type: 'tool', id: `${req.connectionId}/${req.tool}` },
      requestId: req.requestId,
    };
    const agent = await this.#agentRow(req);
    if (!agent) throw new NotFoundError('agent_not_found', 'No such agent in this organization.');
    const denied = async (reason: string, grants: string[], policyVersion: string | null) => {
      await this.#o.audit.append({
        ...base,
        action: 'tool.call.denied',
        outcome: 'denied',
        details: { reason, grants, policyVersion, args: req.args, onBehalfOf: req.onBehalfOf ?? null },
      });
    };
    // A credential that ended before the call started: refused, on record with why.
    if (PaddockError.isInstance(signal.reason)) {
      await denied(abortCause(signal), [], null);
      throw abortError(signal);
    }
    // The kill switch is read on every call: from the stop's commit on, nothing runs.
    const braked = this.#braked(req.orgId, req.agentId);
    const orgStopped = agent.agents_stopped_at !== null || braked === 'org';
    if (agent.agent_state !== 'active' || orgStopped || braked || signal.aborted) {
      await denied(orgStopped ? "the organization's agents are stopped" : 'the agent is stopped', [], null);
      throw stoppedError(orgStopped);
    }
    await this.#loadGrants(req, agent.grants_version);
    const ask = {
      agentId: req.agentId,
      connectionId: req.connectionId,
      tool: req.tool,
      args: req.args,
      now: Math.floor(Date.now() / 1000),
    };
    let decision = this.#engine.decide({ ...ask, approved: false });
    let approval: Approval | null = null;
    if (!decision.allowed) {
      // Would a person's approval allow it? Then it needs one, bound to exactly this call.
      const withApproval = this.#engine.decide({ ...ask, approved: true });
      if (withApproval.allowed) {
        const binding = {
          orgId: req.orgId,
          ...ask,
          policyVersion: withApproval.policyVersion,
          requestedBy: req.onBehalfOf ?? null,
        };
        approval = await consumeApproval(db, binding);
        if (!approval) {
          const settings = toOrg(agent).settings;
          const pending = await requestApproval(db, {
            ...binding,
            requestId: req.requestId,
            runId: req.runId,
            minutes: settings.approvalMinutes,
          });
          // The call pauses: a person deciding within the wait lets it go on (or refuses it) at once.
          const waiting = this.#waiting.get(req.agentId) ?? 0;
          const wait =
            req.approval !== 'return' && waiting < MAX_WAITING_PER_AGENT
              ? settings.approvalWaitSeconds * 1000
              : 0;
          this.#waiting.set(req.agentId, waiting + 1);
          let decided: Approval;
          try {
            decided = await awaitDecision(db, req.orgId, pending.id, wait, signal);
          } finally {
            const left = (this.#waiting.get(req.agentId) ?? 1) - 1;
            if (left > 0) this.#waiting.set(req.agentId, left);
            else this.#waiting.delete(req.agentId);
          }
          if (signal.aborted) {
            const why = PaddockError.isInstance(signal.reason)
              ? `${signal.reason.message} (while waiting for approval)`
              : signal.reason === CANCELLED
                ? 'the caller gave up while waiting for approval'
                : 'the agent was stopped while waiting for approval';
            await denied(why, [], withApproval.policyVersion);
            throw abortError(signal);
          }
          if (decided.status === 'denied') {
            await denied(
              `approval ${decided.id} was denied`,
              withApproval.grants,
              withApproval.policyVersion,
            );
            throw new PaddockError(
              403,
              'approval_denied',
              `A person denied this call (request ${decided.id}).`,
              {
                details: { approvalId: decided.id, reason: decided.reason },
              },
            );
          }
          if (decided.status === 'approved') {
            // Time passed while waiting: the stop, the grants and the decision are taken afresh,
            // and an approval given under grants that changed meanwhile no longer fits.
            const now = await this.#agentRow(req);
            const stillActive =
              now?.agent_state === 'active' &&
              now.agents_stopped_at === null &&
              !this.#braked(req.orgId, req.agentId);
            if (!now || !stillActive || signal.aborted) {
              await denied('the agent was stopped while waiting for approval', [], null);
              throw signal.aborted ? abortError(signal) : stoppedError(now?.agents_stopped_at != null);
            }
            await this.#loadGrants(req, now.grants_version);
            const again = this.#engine.decide({ ...ask, now: Math.floor(Date.now() / 1000), approved: true });
            if (again.allowed && again.policyVersion === binding.policyVersion) {
              approval = await consumeApproval(db, binding);
            }
          }
        }
        if (!approval) {
          const pending = await requestApproval(db, {
            ...binding,
            requestId: req.requestId,
            runId: req.runId,
            minutes: toOrg(agent).settings.approvalMinutes,
          });
          throw new PaddockError(
            403,
            'approval_required',
            `This call needs a person's approval: request ${pending.id} is waiting in the approvals inbox. Call again with the same arguments once it is approved.`,
            { details: { approvalId: pending.id, expiresAt: pending.expiresAt } },
          );
        }
        decision = withApproval;
      }
    }
    if (!decision.allowed) {
      await denied(
        decision.grants.length ? 'an explicit deny' : 'no grant allows this call',
        decision.grants,
        decision.policyVersion,
      );
      throw new PaddockError(
        403,
        'tool_denied',
        `No grant allows ${req.tool} with these arguments for this agent.`,
      );
    }
    // An open session needs no connection row (connections are never edited, and deleting one
    // deletes its grants, so no decision reaches here for it).
    const open = this.#sessions.get(`${req.agentId}/${req.connectionId}`);
    const conn = open
      ? undefined
      : await db
          .selectFrom('connections')
          .select(['id', 'org_id', 'transport', 'command', 'args', 'url', 'env', 'headers'])
          .where('org_id', '=', req.orgId)
          .where('id', '=', req.connectionId)
          .executeTakeFirst();
    if (!open && !conn) {
      // Deleted since the decision (an approval it used stays on record with this denial).
      await denied('the connection no longer exists', decision.grants, decision.policyVersion);
      throw new NotFoundError('connection_not_found', 'No such connection in this organization.');
    }
    // Durable before the call runs: an allowed call is never executed without its record.
    const allowed = await this.#o.audit.append({
      ...base,
      action: 'tool.call.allowed',
      details: {
        grants: decision.grants,
        policyVersion: decision.policyVersion,
        approvalId: approval?.id ?? null,
        args: req.args,
        onBehalfOf: req.onBehalfOf ?? null,
      },
    });
    const started = performance.now();
    let result: { content?: unknown; isError?: boolean } | undefined;
    let error: string | undefined;
    let scrub = <T>(content: T): T => content;
    let refusal: PaddockError | undefined;
    try {
      // A stop acknowledged while the decision was being recorded: start no server for it.
      signal.throwIfAborted();
      if (open) open.lastUsed = Date.now();
      const session = open ?? this.#session(req, conn!);
      const ready = await session.ready;
      scrub = ready.scrub;
      const client = ready.client;
      // Checked again right before sending: a stop acknowledged meanwhile keeps the call from running.
      signal.throwIfAborted();
      result = (await client.callTool({ name: req.tool, arguments: req.args }, undefined, {
        timeout: this.#o.callTimeoutMs ?? 30_000,
        signal,
      })) as typeof result;
    } catch (err) {
      // What the server said in its error goes through its scrubber like its results.
      error = signal.aborted ? abortCause(signal) : scrub((err as Error).message);
      // Paddock's own refusals (a secret out of scope, no sandbox) keep their code.
      if (PaddockError.isInstance(err) && !signal.aborted) refusal = err;
    }
    const durationMs = Math.round((performance.now() - started) * 100) / 100;
    const size = result ? JSON.stringify(result.content ?? null).length : 0;
    // The decision was durable before the call; the result record joins the writer's next group
    // commit without holding the answer back (a crash in between leaves "allowed, no result").
    const completed = this.#o.audit
      .appendSoon({
        ...base,
        action: 'tool.call.completed',
        outcome: error || result?.isError ? 'failure' : 'success',
        details: { allowedEntry: allowed.index, durationMs, resultBytes: size, error: error ?? null },
      })
      .catch((err: unknown) => this.#o.log?.error({ err }, 'could not record a tool call result'))
      .finally(() => this.#recording.delete(completed));
    this.#recording.add(completed);
    if (signal.aborted) throw abortError(signal);
    if (refusal) throw refusal;
    if (error) throw new PaddockError(502, 'tool_failed', `The tool failed: ${error}`);
    return {
      content: scrub(result?.content ?? null),
      isError: result?.isError === true,
      durationMs,
      auditIndex: allowed.index,
    };
  }
}
