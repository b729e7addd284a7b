/**
 * The tool gate: the one way every tool call runs, whoever carried it (the MCP endpoint, the REST
 * test call, a run in the org's cell). Each call goes through named steps — stopped → inspect (the
 * agent's checks on the arguments) → decide → approve → record → call → record the result — held
 * in the kill registry from the moment its standing was read, on the agent's own MCP session from
 * the pool.
 */

import type { LoggingLevel, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Kysely } from 'kysely';
import { readAgentStanding } from '../agents/index.ts';
import type { AuditTrail } from '../audit/index.ts';
import {
  type Opener,
  type OpenSession,
  openConnection,
  readConnectionToOpen,
  relistOnSession,
} from '../connections/index.ts';
import { ForbiddenError, NotFoundError, type PaddockError } from '../errors/index.ts';
import { newRequestId, trustedScope } from '../identity/index.ts';
import type { Logger } from '../log/index.ts';
import { type Decision, kindAsked } from '../policy/engine.ts';
import { activeGrants, hasSuspendedGrant } from '../policy/grants-service.ts';
import type { Database } from '../store/index.ts';
import { type AgentDelivery, everyDelivery, LocalDelivery } from './agent-channel.ts';
import { catchUp } from './catch-up.ts';
import { KillRegistry, type StopTarget } from './kill-registry.ts';
import type { StopPart } from './kill-switch.ts';
import { ListedTools } from './listed-tools.ts';
// The rows alone (not the sessions' module, which builds servers on this gate).
import { sessionLogLevels } from './mcp-sessions/rows.ts';
import { Namespaces } from './namespaces.ts';
import { callerReason, Refusal, refuse } from './refusals.ts';
import { Relays } from './relays.ts';
import type {
  CallInFlight,
  GateCaller,
  GateObserver,
  GateRequest,
  GateResult,
  UnknownToolObserver,
} from './request.ts';
import { SessionPool } from './session-pool.ts';
import { approve, WaitingRoom } from './steps/approve.ts';
import { type Ask, DENIED_CODE, Decider, deniedRefusal, unixNow } from './steps/decide.ts';
import { argsRefusal } from './steps/inspect.ts';
import { answerOf, invoke, type Outcome } from './steps/invoke.ts';
import { recordAllowed, recordDenial, recordResult, recordUnknownTool } from './steps/record.ts';
import { stoppedRefusal } from './steps/stopped.ts';
import type { SessionEvent } from './stop-bus.ts';

export interface GatewayOptions {
  db: Kysely<Database>;
  audit: AuditTrail;
  /** How sessions to connections are opened (sandbox, vault, egress proxy). */
  opener: Opener;
  /** A call ends after this long without an answer or progress (30 s by default)… */
  callTimeoutMs?: number;
  /** …and after this long in all, progress or not (10 minutes by default). */
  callMaxMs?: number;
  /**
   * Where what a server says outside the agent's requests goes (log lines, list changes,
   * resource updates): the agent's open client sessions (the HTTP endpoint's, on every replica).
   * The in-process servers attached to `localDelivery` get it too.
   */
  delivery?: AgentDelivery | undefined;
  /** An agent's MCP session closes after this long unused. */
  idleMs?: number;
  log?: Logger;
  /** Watches every call (metrics, traces). */
  observe?: GateObserver | undefined;
  /** Told of each call of an unknown name (metrics). */
  observeUnknown?: UnknownToolObserver | undefined;
}

/** An observer whose failures are logged and go no further: a bug in metrics or traces fails no call. */
function watchedSafely(o: GateObserver, log: Logger | undefined): GateObserver {
  const told = (err: unknown) => log?.error({ err }, 'a gate observer failed');
  return {
    started(req) {
      try {
        return o.started(req);
      } catch (err) {
        told(err);
        return undefined;
      }
    },
    done(watch, result) {
      try {
        o.done(watch, result);
      } catch (err) {
        told(err);
      }
    },
    failed(watch, err) {
      try {
        o.failed(watch, err);
      } catch (failed) {
        told(failed);
      }
    },
  };
}

export class ToolGateway implements StopPart {
  /** The calls in flight, and what ends them (the kill switch, brakes, token ends). */
  readonly kills = new KillRegistry();
  readonly #o: GatewayOptions;
  readonly #sessions: SessionPool;
  readonly #decider: Decider;
  readonly #waiting = new WaitingRoom();
  readonly #namespaces: Namespaces;
  readonly #listed: ListedTools;
  /** What the agents' sessions say back, relayed to them (see relays.ts). */
  readonly relays: Relays;
  /** The in-process delivery (long-lived agent servers attach to it), beside any other given. */
  readonly localDelivery: LocalDelivery;
  /** Result records not yet written (closing waits for them). */
  readonly #recording = new Set<Promise<unknown>>();
  /** The watcher of calls, whose failures change nothing of a call (`watchedSafely`). */
  readonly #observe: GateObserver | undefined;

  constructor(o: GatewayOptions) {
    this.#o = o;
    this.#observe = o.observe && watchedSafely(o.observe, o.log);
    this.#decider = new Decider((scope, agentId) => activeGrants(o.db, scope, agentId));
    this.#namespaces = new Namespaces(o.db);
    this.#listed = new ListedTools(o.db);
    this.localDelivery = new LocalDelivery();
    this.relays = new Relays({
      audit: o.audit,
      log: o.log,
      delivery: o.delivery ? everyDelivery(this.localDelivery, o.delivery) : this.localDelivery,
      decideAsk: (req, unable) => this.#decideAsk(req, unable),
      mayRead: (up, uri) => this.#mayRead(up.orgId, up.agentId, up.connectionId, uri),
      namespaceOf: (orgId, connectionId) => this.#namespaces.namespaceOf(orgId, connectionId),
      relist: async (up, client, scrub) =>
        (await relistOnSession(o.db, { ...up, requestId: newRequestId() }, client, scrub)) !== 'unchanged',
      agentsOn: (connectionId) => this.#sessions.agentsOn(connectionId),
      clientsOf: (agentId) => this.#sessions.clientsOf(agentId),
      storedLevels: (orgId, agentId) => sessionLogLevels(o.db, orgId, agentId),
    });
    this.#sessions = new SessionPool({
      open: async (conn, agentId, personId) => {
        const up = { orgId: conn.org_id, agentId, connectionId: conn.id, personId };
        const s = await openConnection(o.opener, conn, agentId, personId, (client, scrub) =>
          this.relays.attach(client, up, scrub),
        );
        await this.relays.opened(s.client, conn.org_id, agentId);
        return s;
      },
      busy: (agentId) => this.kills.inFlight({ agentId }) > 0,
      idleMs: o.idleMs,
    });
  }

  /** Runs one tool call through the gate: its result, or the PaddockError refusing or ending it. */
  async call(req: GateRequest): Promise<GateResult> {
    // Watched from its start (metrics, traces).
    const observe = this.#observe;
    const watch = observe?.started(req);
    const { orgId, agentId, token, runId, standing } = req.caller;
    // Held as of the standing's read (or before this one reads it): a stop that reaches this
    // replica from then on ends the call, even one committed just before the read.
    const held = this.kills.hold({ orgId, agentId, token, runId }, standing?.readAt ?? performance.now());
    const callerGaveUp = () => held.abort(callerReason(req.signal?.reason));
    let result: GateResult;
    try {
      if (req.signal?.aborted) callerGaveUp();
      else req.signal?.addEventListener('abort', callerGaveUp, { once: true });
      result = await this.#run({ ...req, scope: trustedScope(orgId), signal: held.signal });
    } catch (err) {
      observe?.failed(watch, err);
      throw err;
    } finally {
      req.signal?.removeEventListener('abort', callerGaveUp);
      held.release();
    }
    observe?.done(watch, result);
    return result;
  }

  async #run(call: CallInFlight): Promise<GateResult> {
    const { db, audit } = this.#o;
    const { agentId } = call.caller;
    let allowedEntryId: string;
    let session: () => Promise<OpenSession>;
    try {
      // 1. stopped
      const standing = call.caller.standing ?? (await readAgentStanding(db, call.scope, agentId));
      // No such agent: nothing to put on record (there is no agent to record it for).
      if (!standing)
        throw new Refusal(new NotFoundError('agent_not_found', 'No such agent in this organization.'), null);
      const stopped = stoppedRefusal(standing, call.signal);
      if (stopped) throw stopped;
      // 1b. inspect: the agent's checks on the arguments (data-loss prevention)
      const leak = argsRefusal(standing.checks, call);
      if (leak) throw leak;
      // 2. decide
      await this.#decider.prepare(call.scope, agentId, standing.grantsVersion);
      const ask: Ask = {
        agentId,
        connectionId: call.connectionId,
        action: call.action,
        tool: call.tool,
        completing: call.completing,
        args: call.action === 'complete' ? {} : call.args,
        now: unixNow(),
      };
      const verdict = this.#decider.verdict(ask);
      if (verdict.kind === 'denied') throw await this.#denied(call, ask, verdict.decision);
      // 3. approve
      const approval =
        verdict.kind === 'needs-approval'
          ? await approve(
              { db, decider: this.#decider, waiting: this.#waiting },
              call,
              standing,
              ask,
              verdict.decision,
            )
          : null;
      // 4. record: durable before the call runs (an allowed call never runs without its record).
      session = await this.#session(call, verdict.decision);
      allowedEntryId = await recordAllowed(audit, call, verdict.decision, approval);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      if (err.denial) await recordDenial(audit, call, err.denial);
      throw err.error;
    }
    // 5. call (what the session says meanwhile reaches the agent on its request)
    let scrub = <T>(c: T) => c;
    const outcome = await this.relays.during(call, () =>
      invoke(call, call.signal, session, {
        timeoutMs: this.#o.callTimeoutMs ?? 30_000,
        maxMs: this.#o.callMaxMs ?? 10 * 60_000,
        onprogress: this.relays.progressOf(call, () => scrub),
        scrubbing: (s) => {
          scrub = s;
        },
      }),
    );
    // 6. record the result: written before the answer, durable with the next sync.
    await this.#track(recordResult(audit, call, allowedEntryId, outcome));
    return answerOf(outcome, call.signal, allowedEntryId, call.action);
  }

  /** The refusal of a denied call, saying why (off the hot path: only denials read more). */
  async #denied(call: CallInFlight, ask: Ask, decision: Decision): Promise<Refusal> {
    const grants = this.#decider.grantsFor(ask);
    const kind = kindAsked(ask);
    // Only tools and prompts pin a definition (a resource grant is never suspended).
    const suspended =
      kind !== 'resource' &&
      !grants.some((g) => g.effect === 'allow') &&
      (await hasSuspendedGrant(this.#o.db, call.scope, ask.agentId, ask.connectionId, ask.tool, kind));
    return deniedRefusal(
      decision,
      {
        name: call.calledAs ?? call.tool,
        args: ask.args,
        now: ask.now,
        action: ask.action,
        completing: ask.completing,
      },
      grants,
      suspended,
    );
  }

  /**
   * How to reach the agent's session to the connection. An open session needs no connection row
   * (connections are never edited, and deleting one deletes its grants, so no decision reaches
   * here for it); otherwise one deleted since the decision is refused (an approval it used stays
   * on record with the denial).
   */
  async #session(call: CallInFlight, decision: Decision): Promise<() => Promise<OpenSession>> {
    const open = this.#sessions.find(call.caller.agentId, call.connectionId, call.caller.onBehalfOf);
    if (open) return () => open.ready;
    const conn = await readConnectionToOpen(this.#o.db, call.scope, call.connectionId);
    if (!conn) {
      throw refuse(
        new NotFoundError('connection_not_found', 'No such connection in this organization.'),
        'the connection no longer exists',
        decision.grants,
        decision.policyVersion,
      );
    }
    return () => this.#sessions.open(call.caller.agentId, conn, call.caller.onBehalfOf).ready;
  }

  /**
   * A server's request of the agent (sampling, elicitation), decided on the agent's grants like a
   * call (kill switch, then Cedar; default deny) and on record: its allowed entry and how to record
   * its end, or the refusal, recorded. `unable`: why it cannot be relayed whatever the grants say.
   */
  async #decideAsk(
    req: GateRequest,
    unable: string | undefined,
  ): Promise<{ entry: string; done: (outcome: Outcome) => void }> {
    const { db, audit } = this.#o;
    const call: CallInFlight = {
      ...req,
      scope: trustedScope(req.caller.orgId),
      signal: req.signal ?? new AbortController().signal,
    };
    try {
      // Read afresh: a request's standing may predate a stop.
      const standing = await readAgentStanding(db, call.scope, req.caller.agentId);
      if (!standing)
        throw new Refusal(new NotFoundError('agent_not_found', 'No such agent in this organization.'), null);
      const stopped = stoppedRefusal(standing, call.signal);
      if (stopped) throw stopped;
      await this.#decider.prepare(call.scope, req.caller.agentId, standing.grantsVersion);
      const ask: Ask = {
        agentId: req.caller.agentId,
        connectionId: req.connectionId,
        action: req.action,
        tool: '*',
        args: {},
        now: unixNow(),
      };
      const verdict = this.#decider.verdict(ask);
      // A grant of what a server asks takes no approval: only allowed passes.
      if (verdict.kind !== 'allowed') throw await this.#denied(call, ask, verdict.decision);
      if (unable) {
        const code = DENIED_CODE[req.action ?? 'call'];
        throw refuse(
          new ForbiddenError(code, `${unable.charAt(0).toUpperCase()}${unable.slice(1)}.`),
          unable,
          verdict.decision.grants,
          verdict.decision.policyVersion,
        );
      }
      const entry = await recordAllowed(audit, call, verdict.decision, null);
      return { entry, done: (outcome) => void this.#track(recordResult(audit, call, entry, outcome)) };
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      if (err.denial) await recordDenial(audit, call, err.denial);
      throw err.error;
    }
  }

  /** Whether the agent's grants allow reading `uri` of the connection now (no record). */
  async #mayRead(orgId: string, agentId: string, connectionId: string, uri: string): Promise<boolean> {
    const scope = trustedScope(orgId);
    const standing = await readAgentStanding(this.#o.db, scope, agentId);
    if (standing?.agentState !== 'active' || standing.orgStoppedAt !== null) return false;
    await this.#decider.prepare(scope, agentId, standing.grantsVersion);
    const verdict = this.#decider.verdict({
      agentId,
      connectionId,
      action: 'read',
      tool: uri,
      args: {},
      now: unixNow(),
    });
    return verdict.kind === 'allowed';
  }

  /**
   * A client with no stored session chose a log level for what the agent's servers say: an
   * in-process server (`holder`, its id), or a sessionless request ('': the whole agent).
   */
  setLogLevel(
    caller: Pick<GateCaller, 'orgId' | 'agentId'>,
    holder: string,
    level: LoggingLevel,
  ): Promise<void> {
    return this.relays.levelChosen(caller.orgId, caller.agentId, holder, level);
  }

  /**
   * A client session ends its subscription to a resource (recorded); the server is told when the
   * agent has no other session subscribed to it.
   */
  async unsubscribe(
    caller: GateCaller,
    connectionId: string,
    uri: string,
    sessionId: string | undefined,
  ): Promise<void> {
    if (this.relays.unsubscribed(caller.agentId, connectionId, uri, sessionId)) {
      const open = this.#sessions.find(caller.agentId, connectionId);
      await open?.ready.then((s) => s.client.unsubscribeResource({ uri })).catch(() => undefined);
    }
    await this.#track(
      this.#o.audit.appendWritten({
        orgId: caller.orgId,
        actor: { type: 'agent', id: caller.agentId },
        target: { type: 'resource', id: `${connectionId}/${uri}`.slice(0, 2100) },
        action: 'resource.unsubscribe.completed',
        requestId: caller.requestId,
        runId: caller.runId,
      }),
    );
  }

  /** The org's connection a namespace (`<namespace>__<tool>`) names, if any (kept in memory). */
  connectionOf(orgId: string, namespace: string): Promise<string | undefined> {
    return this.#namespaces.connectionOf(orgId, namespace);
  }

  /** The tools the agent's grants allow, as `tools/list` shows them (kept in memory while unchanged). */
  listedTools(orgId: string, agentId: string): Promise<Tool[]> {
    return this.#listed.of(orgId, agentId);
  }

  /** The same list as JSON (UTF-8), as a plain `tools/list` answer sends it (kept with the list). */
  listedToolsJson(orgId: string, agentId: string): Promise<Buffer> {
    return this.#listed.json(orgId, agentId);
  }

  /**
   * A call of a tool name the agent was never shown: refused like any call no grant allows, on
   * record (durable when this resolves); resolves with the refusal to answer with. The same for
   * a resource URI, a prompt or a completion's reference that names no connection (`asked`).
   */
  async unknownTool(
    caller: GateCaller,
    name: string,
    args: Record<string, unknown> | undefined,
    asked: Pick<GateRequest, 'action' | 'completing'> = {},
  ): Promise<PaddockError> {
    this.#o.observeUnknown?.(caller, name);
    await recordUnknownTool(this.#o.audit, caller, name, args, asked);
    const action = asked.action ?? 'call';
    const hint =
      kindAsked(asked) === 'resource'
        ? `no resource ${name} for this agent: read one that resources/list shows, or one a template of resources/templates/list gives (named <connection>+<uri>).`
        : action === 'call'
          ? `No tool named ${name} for this agent: call one that tools/list shows (named <connection>__<tool>).`
          : `No prompt named ${name} for this agent: use one that prompts/list shows (named <connection>__<prompt>).`;
    return new ForbiddenError(DENIED_CODE[action], hint.charAt(0).toUpperCase() + hint.slice(1));
  }

  /** A result record, waited for (closing waits too); one that fails is logged, the answer goes on. */
  #track(recording: Promise<unknown>): Promise<unknown> {
    const p = recording
      .catch((err: unknown) => this.#o.log?.error({ err }, 'could not record a tool call result'))
      .finally(() => this.#recording.delete(p));
    this.#recording.add(p);
    return p;
  }

  /** The gate's brake in a stop (see kill-switch.ts): its calls end and new ones are refused here. */
  brake(target: StopTarget): () => void {
    return this.kills.brake(target);
  }

  /**
   * What a stop or a change means for the gate on this replica (the stop bus delivers them, from
   * here or another replica): a stopped agent's or org's calls end and its MCP servers end
   * (awaited), a revoked token's calls end, and sessions holding a deleted connection or a changed
   * secret close.
   */
  async end(event: SessionEvent): Promise<void> {
    switch (event.kind) {
      case 'agent':
        this.kills.end(event);
        this.relays.end({ agentId: event.agentId });
        return this.#sessions.close({ agentId: event.agentId });
      case 'org':
        this.kills.end(event);
        this.relays.end({ orgId: event.orgId });
        return this.#sessions.close({ orgId: event.orgId });
      case 'agent-tokens':
      case 'run':
        return this.kills.end(event);
      case 'connection':
        this.#namespaces.forget(event.orgId);
        return this.#sessions.close({ connectionId: event.connectionId });
      case 'secret':
        return this.#sessions.close({ secretId: event.secretId });
      case 'person-connection':
        return this.#sessions.close({ personId: event.userId, connectionId: event.connectionId });
    }
  }

  /** Catches up after stop events may have been missed (see catch-up.ts). */
  resync(): Promise<void> {
    this.#namespaces.forget();
    return catchUp(this.#o.db, this.kills, this.#sessions);
  }

  /** The MCP servers this replica's agents hold sessions to, by org. */
  serversByOrg(): Map<string, number> {
    return this.#sessions.countByOrg();
  }

  async close(): Promise<void> {
    await Promise.all(this.#recording);
    await this.#sessions.closeAll();
  }
}
