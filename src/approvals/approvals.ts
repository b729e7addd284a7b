/**
 * Approvals for high-risk calls. A call that only an approval-requiring grant allows pauses as
 * a request; a person approves or denies it. An approval is single-use and bound to the agent,
 * the tool, a digest of the exact arguments, the agent's policy version and an expiry, so a
 * changed argument, a changed grant or a late retry needs a new one. Agents cannot reach the
 * decision at all (it takes a person); with the org's two-person rule, the person who asked
 * for the call cannot be the one who approves it.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { Kysely } from 'kysely';
import { recordAudit, recordChange } from '../audit/index.ts';
import { ConflictError, ForbiddenError, NotFoundError, RateLimitedError } from '../errors/index.ts';
import type { OrgContext } from '../identity/context.ts';
import { newId } from '../ids/index.ts';
import { policyVersion } from '../policy/engine.ts';
import type { Database, Db } from '../store/index.ts';
import type { ApprovalEndedBecause, ApprovalTable, AskedKind } from '../store/schema.ts';

export type ApprovalStatus = ApprovalTable['status'];

export interface Approval {
  id: string;
  agentId: string;
  connectionId: string;
  /** What `tool` names: a tool, a resource's URI (a read), a prompt (a get). */
  kind: AskedKind;
  tool: string;
  args: Record<string, unknown>;
  argsDigest: string;
  policyVersion: string;
  status: ApprovalStatus;
  requestedBy: string | null;
  requestedAt: string;
  expiresAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  reason: string | null;
  usedAt: string | null;
  /** The run that asked, when one did: the approval serves that run's call only. */
  runId: string | null;
  /** What ended it before its time, if something did. */
  endedBecause: ApprovalEndedBecause | null;
}

/** What an approval is bound to: one agent, one tool, the exact arguments, one policy version. */
export interface CallBinding {
  orgId: string;
  agentId: string;
  connectionId: string;
  /** A tool call when absent; a resource read or a prompt get otherwise. */
  kind?: AskedKind | undefined;
  tool: string;
  args: Record<string, unknown>;
  policyVersion: string;
  /**
   * The person answerable for the call (who asked, or who issued the agent's token): an
   * approval serves only their calls, and under the two-person rule they cannot give it.
   */
  requestedBy: string | null;
  /**
   * The run making the call, if one is: its approval serves it alone, so an approval left unused
   * by a run that ended cannot let a later identical call through.
   */
  runId?: string | undefined;
}

const MAX_PENDING_PER_AGENT = 20;

/** The agent (or every agent of its org: `org`) was stopped before its call's request was made. */
export class StoppedWhileAsking extends ConflictError {
  readonly org: boolean;
  constructor(org: boolean) {
    super('agent_stopped', 'The agent was stopped: no approval is asked for it.');
    this.org = org;
  }
}

export function argsDigest(args: Record<string, unknown>): string {
  return createHash('sha256')
    .update(canonicalize(args) ?? '{}')
    .digest('hex');
}

/** What closed a request, in the words its approver reads (in an error, on a Slack card). */
export function whyEnded(because: ApprovalEndedBecause | null | undefined): string {
  return ENDED_BECAUSE[because ?? 'time'];
}

const ENDED_BECAUSE: Record<ApprovalEndedBecause | 'time', string> = {
  time: 'no one decided it in time',
  'run-ended': 'the run that asked for it ended',
  'agent-stopped': 'its agent was stopped',
  'all-agents-stopped': 'every agent of the organization was stopped',
  'person-removed': 'the person it was asked for was removed',
};

function toApproval(r: ApprovalTable): Approval {
  return {
    id: r.id,
    agentId: r.agent_id,
    connectionId: r.connection_id,
    kind: r.kind ?? 'tool',
    tool: r.tool,
    args: JSON.parse(r.args) as Record<string, unknown>,
    argsDigest: r.args_digest,
    policyVersion: r.policy_version,
    status: r.status,
    requestedBy: r.requested_by,
    requestedAt: r.requested_at,
    expiresAt: r.expires_at,
    decidedBy: r.decided_by,
    decidedAt: r.decided_at,
    reason: r.reason,
    usedAt: r.used_at,
    runId: r.run_id ?? null,
    endedBecause: r.ended_because ?? null,
  };
}

const bound = (db: Db, b: CallBinding, digest: string) =>
  db
    .selectFrom('approvals')
    .selectAll()
    .where('org_id', '=', b.orgId)
    .where('requested_by', b.requestedBy === null ? 'is' : '=', b.requestedBy)
    .where('agent_id', '=', b.agentId)
    .where('args_digest', '=', digest)
    .where('connection_id', '=', b.connectionId)
    .where('kind', '=', b.kind ?? 'tool')
    .where('tool', '=', b.tool)
    .where('policy_version', '=', b.policyVersion)
    .where('run_id', b.runId === undefined ? 'is' : '=', b.runId ?? null)
    .where('expires_at', '>', new Date().toISOString());

/**
 * Uses up an approval for exactly this call, if one is granted and still valid. The update is
 * conditional on the row still being `approved`, so two racing calls cannot both use it.
 */
export async function consumeApproval(db: Db, b: CallBinding): Promise<Approval | null> {
  const digest = argsDigest(b.args);
  const candidates = await bound(db, b, digest).where('status', '=', 'approved').execute();
  for (const row of candidates) {
    const now = new Date().toISOString();
    const r = await db
      .updateTable('approvals')
      .set({ status: 'used', used_at: now })
      .where('id', '=', row.id)
      .where('status', '=', 'approved')
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 1) return toApproval({ ...row, status: 'used', used_at: now });
  }
  return null;
}

/** The pending request for this call, made if there is none yet (a retry does not pile up requests). */
export async function requestApproval(
  db: Kysely<Database>,
  b: CallBinding & { requestId: string; minutes: number },
): Promise<Approval> {
  return db.transaction().execute(async (trx) => {
    // The agent's row lock (a no-op update) queues concurrent requests for one agent: on
    // PostgreSQL two could otherwise both find nothing pending and both add a request, or both
    // pass the cap below (SQLite's immediate transactions already run one at a time).
    await trx
      .updateTable('agents')
      .set((eb) => ({ grants_version: eb.ref('grants_version') }))
      .where('org_id', '=', b.orgId)
      .where('id', '=', b.agentId)
      .execute();
    // And the org's, which a stop of all its agents takes too: a stop that committed while this
    // waited ended what was asked before it; nothing is asked after it.
    await trx
      .updateTable('orgs')
      .set((eb) => ({ agents_stopped_at: eb.ref('agents_stopped_at') }))
      .where('id', '=', b.orgId)
      .execute();
    const standing = await trx
      .selectFrom('agents')
      .innerJoin('orgs', 'orgs.id', 'agents.org_id')
      .select(['agents.state', 'orgs.agents_stopped_at'])
      .where('agents.org_id', '=', b.orgId)
      .where('agents.id', '=', b.agentId)
      .executeTakeFirst();
    if (standing && (standing.state !== 'active' || standing.agents_stopped_at !== null))
      throw new StoppedWhileAsking(standing.agents_stopped_at !== null);
    const digest = argsDigest(b.args);
    const pending = await bound(trx, b, digest).where('status', '=', 'pending').executeTakeFirst();
    if (pending) return toApproval(pending);
    // An agent cannot flood the inbox by varying its arguments.
    const waiting = await trx
      .selectFrom('approvals')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('org_id', '=', b.orgId)
      .where('agent_id', '=', b.agentId)
      .where('status', '=', 'pending')
      .where('expires_at', '>', new Date().toISOString())
      .executeTakeFirstOrThrow();
    if (Number(waiting.n) >= MAX_PENDING_PER_AGENT) {
      throw new RateLimitedError(
        `This agent already has ${MAX_PENDING_PER_AGENT} calls waiting for approval; decide those first.`,
      );
    }
    const now = new Date();
    const row: ApprovalTable = {
      id: newId('apr'),
      org_id: b.orgId,
      agent_id: b.agentId,
      connection_id: b.connectionId,
      kind: b.kind ?? 'tool',
      tool: b.tool,
      args_digest: digest,
      // Exactly what will run: an approver must see what they approve (readable by owners,
      // admins and auditors only; the audit log keeps its redacted form).
      args: JSON.stringify(b.args),
      policy_version: b.policyVersion,
      status: 'pending',
      requested_by: b.requestedBy,
      requested_at: now.toISOString(),
      expires_at: new Date(now.getTime() + b.minutes * 60_000).toISOString(),
      decided_by: null,
      decided_at: null,
      reason: null,
      used_at: null,
      request_id: b.requestId,
      run_id: b.runId ?? null,
    };
    await trx.insertInto('approvals').values(row).execute();
    await recordAudit(trx, {
      orgId: b.orgId,
      runId: b.runId,
      actor: { type: 'agent', id: b.agentId },
      action: 'approval.requested',
      target: { type: 'approval', id: row.id },
      requestId: b.requestId,
      details: {
        ...(b.kind && b.kind !== 'tool' ? { kind: b.kind } : {}),
        tool: `${b.connectionId}/${b.tool}`,
        argsDigest: digest,
        policyVersion: b.policyVersion,
        requestedBy: b.requestedBy,
        expiresAt: row.expires_at,
      },
    });
    return toApproval(row);
  });
}

export async function listApprovals(
  db: Db,
  ctx: OrgContext,
  filter: { status?: ApprovalStatus | undefined; agentId?: string | undefined } = {},
): Promise<Approval[]> {
  let q = db.selectFrom('approvals').selectAll().where('org_id', '=', ctx.scope.orgId);
  const now = new Date().toISOString();
  // "expired" is a request past its expiry, pending or approved and never used; "pending" and
  // "approved" exclude those (an approval past its expiry can no longer be used).
  if (filter.status === 'expired')
    q = q.where((eb) =>
      eb.or([
        eb('status', '=', 'expired'),
        eb.and([eb('status', 'in', ['pending', 'approved']), eb('expires_at', '<=', now)]),
      ]),
    );
  else if (filter.status === 'pending' || filter.status === 'approved')
    q = q.where('status', '=', filter.status).where('expires_at', '>', now);
  else if (filter.status) q = q.where('status', '=', filter.status);
  if (filter.agentId) q = q.where('agent_id', '=', filter.agentId);
  const rows = await q.orderBy('requested_at', 'desc').limit(500).execute();
  // A request past its expiry reads as expired: pending, it can no longer be approved; approved,
  // it can no longer be used (who approved it stays on it).
  return rows
    .map((r) =>
      (r.status === 'pending' || r.status === 'approved') && r.expires_at <= now
        ? { ...r, status: 'expired' as const }
        : r,
    )
    .filter((r) => !filter.status || r.status === filter.status)
    .map(toApproval);
}

/**
 * The person answerable for what a request asks: the person it runs for, or, for a run a service
 * token started (it runs for no person), the person who made that token.
 */
async function answerableFor(trx: Db, row: ApprovalTable): Promise<string | null> {
  if (row.requested_by !== null || row.run_id === null) return row.requested_by;
  const made = await trx
    .selectFrom('runs as r')
    .innerJoin('api_tokens as t', (j) =>
      j.onRef('t.id', '=', 'r.token_id').onRef('t.org_id', '=', 'r.org_id'),
    )
    .select('t.created_by')
    .where('r.org_id', '=', row.org_id)
    .where('r.id', '=', row.run_id)
    .executeTakeFirst();
  return made?.created_by ?? null;
}

/** A person approves or denies a pending request. Audited with who and why. */
export async function decideApproval(
  db: Kysely<Database>,
  ctx: OrgContext,
  id: string,
  decision: 'approve' | 'deny',
  reason: string | undefined,
): Promise<Approval> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('approvals')
      .selectAll()
      .where('org_id', '=', ctx.scope.orgId)
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw new NotFoundError('approval_not_found', 'No such approval request in this organization.');
    if (!ctx.userId) {
      throw new ForbiddenError(
        'person_required',
        'Only a person can decide an approval, not a service token.',
      );
    }
    if (row.status !== 'pending') {
      throw new ConflictError('approval_decided', `This request is already ${row.status}.`);
    }
    if (row.expires_at <= new Date().toISOString()) {
      throw new ConflictError(
        'approval_expired',
        `This request is no longer open: ${whyEnded(row.ended_because)}. The agent must ask again.`,
      );
    }
    // Approving under grants that changed since the call was asked would approve something else.
    const active = await trx
      .selectFrom('grants')
      .select('id')
      .where('org_id', '=', ctx.scope.orgId)
      .where('agent_id', '=', row.agent_id)
      .where('status', '=', 'active')
      .execute();
    if (decision === 'approve' && policyVersion(active) !== row.policy_version) {
      throw new ConflictError(
        'approval_stale',
        "The agent's grants changed since this call was asked; the agent must ask again.",
      );
    }
    if (ctx.org.settings.approvalsNeedTwoPeople && (await answerableFor(trx, row)) === ctx.userId) {
      throw new ForbiddenError(
        'self_approval',
        'This organization needs two people: someone other than the requester must approve.',
      );
    }
    const now = new Date().toISOString();
    const status = decision === 'approve' ? 'approved' : 'denied';
    const r = await trx
      .updateTable('approvals')
      .set({ status, decided_by: ctx.userId, decided_at: now, reason: reason ?? null })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) throw new ConflictError('approval_decided', 'Someone decided first.');
    await recordChange(trx, ctx, {
      // Among the run's own entries when a run asked: the record of what it did names who allowed it.
      runId: row.run_id ?? undefined,
      action: decision === 'approve' ? 'approval.granted' : 'approval.denied',
      target: { type: 'approval', id },
      details: {
        agentId: row.agent_id,
        tool: `${row.connection_id}/${row.tool}`,
        argsDigest: row.args_digest,
        policyVersion: row.policy_version,
        requestedBy: row.requested_by,
        reason: reason ?? null,
      },
    });
    return toApproval({ ...row, status, decided_by: ctx.userId, decided_at: now, reason: reason ?? null });
  });
}

/**
 * Ends what was asked for these calls and not yet used: pending requests can no longer be
 * approved, and approvals given can no longer be used. For a run that ended, an agent stopped, a
 * person removed: nothing asked or approved before goes on after. Returns how many.
 */
export async function expireApprovals(
  trx: Db,
  orgId: string,
  of: { runId: string } | { agentId: string } | { personId: string } | { all: true },
): Promise<number> {
  const because: ApprovalEndedBecause =
    'runId' in of
      ? 'run-ended'
      : 'agentId' in of
        ? 'agent-stopped'
        : 'personId' in of
          ? 'person-removed'
          : 'all-agents-stopped';
  let q = trx
    .updateTable('approvals')
    .set({ expires_at: new Date().toISOString(), ended_because: because })
    .where('org_id', '=', orgId)
    .where('status', 'in', ['pending', 'approved'])
    .where('expires_at', '>', new Date().toISOString());
  if ('runId' in of) q = q.where('run_id', '=', of.runId);
  else if ('agentId' in of) q = q.where('agent_id', '=', of.agentId);
  else if ('personId' in of) q = q.where('requested_by', '=', of.personId);
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/**
 * Waits (polling, so a decision on any replica counts) until a request is decided, expires, or
 * `ms` pass, or `signal` aborts (the kill switch). Returns the request as it then stands.
 */
export async function awaitDecision(
  db: Db,
  orgId: string,
  id: string,
  ms: number,
  signal: AbortSignal,
): Promise<Approval> {
  const until = Date.now() + ms;
  for (;;) {
    const row = await db
      .selectFrom('approvals')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    if (row.status !== 'pending' || Date.now() >= until || signal.aborted) return toApproval(row);
    await new Promise((r) => setTimeout(r, Math.min(WAIT_POLL_MS, Math.max(1, until - Date.now()))));
  }
}

const WAIT_POLL_MS = 200;
