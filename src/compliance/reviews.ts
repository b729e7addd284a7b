/**
 * Access reviews. An agents review sets each agent's grants against the tools it actually used
 * in the period, from the log under a signed checkpoint (granted and never used is the
 * least-privilege diff); a people review sets each person's role against their last sign-in and
 * token use. An owner or admin keeps, revokes — through the real grant revocation or removal —
 * or defers each line, then signs the review off: the sign-off is stored as evidence, with one
 * recomputable figure per agent (its allowed calls by tool over the period). Auditors read
 * reviews and may comment; they change nothing else.
 */
import type { Kysely } from 'kysely';
import { recordChange } from '../audit/index.ts';
import { BadRequestError, ConflictError, NotFoundError } from '../errors/index.ts';
import { listPeople, type OrgContext, trustedScope } from '../identity/index.ts';
import { newId } from '../ids/index.ts';
import { removePerson } from '../offboarding/index.ts';
import { revokeGrant } from '../policy/grants-service.ts';
import type { Database, Db } from '../store/index.ts';
import type {
  ComplianceReviewCommentTable,
  ComplianceReviewLineTable,
  ComplianceReviewTable,
} from '../store/schema.ts';
import { latest, peopleActivity } from './activity.ts';
import { insertEvidence } from './evidence-store.ts';
import type { FigureSpec } from './figures.ts';
import { LogWindow } from './log-window.ts';

export const ACCESS_REVIEW_CONTROL = 'PAD-IAM-02';
export type ReviewKind = ComplianceReviewTable['kind'];
export type Decision = NonNullable<ComplianceReviewLineTable['decision']>;

export interface ReviewLine {
  id: string;
  subject: { type: 'agent' | 'person'; id: string };
  item: { type: 'grant' | 'membership'; id: string };
  facts: Record<string, unknown>;
  finding: string;
  decision: Decision | null;
  decidedBy: string | null;
  decidedAt: string | null;
  note: string | null;
}

export interface ReviewComment {
  id: string;
  lineId: string | null;
  authorId: string;
  authorRole: string;
  body: string;
  createdAt: string;
}

export interface Review {
  id: string;
  kind: ReviewKind;
  period: { from: string; to: string };
  treeSize: number;
  checkpoint: string;
  status: ComplianceReviewTable['status'];
  createdBy: string;
  createdAt: string;
  signedOffBy: string | null;
  signedOffAt: string | null;
  evidenceId: string | null;
  lines?: ReviewLine[];
  comments?: ReviewComment[];
}

const toReview = (r: ComplianceReviewTable): Review => ({
  id: r.id,
  kind: r.kind,
  period: { from: r.period_from, to: r.period_to },
  treeSize: Number(r.tree_size),
  checkpoint: r.checkpoint,
  status: r.status,
  createdBy: r.created_by,
  createdAt: r.created_at,
  signedOffBy: r.signed_off_by,
  signedOffAt: r.signed_off_at,
  evidenceId: r.evidence_id,
});

const toLine = (r: ComplianceReviewLineTable): ReviewLine => ({
  id: r.id,
  subject: { type: r.subject_type, id: r.subject_id },
  item: { type: r.item_type, id: r.item_id },
  facts: JSON.parse(r.facts) as Record<string, unknown>,
  finding: r.finding,
  decision: r.decision,
  decidedBy: r.decided_by,
  decidedAt: r.decided_at,
  note: r.note,
});

const toComment = (r: ComplianceReviewCommentTable): ReviewComment => ({
  id: r.id,
  lineId: r.line_id,
  authorId: r.author_id,
  authorRole: r.author_role,
  body: r.body,
  createdAt: r.created_at,
});

/** The index range `[lo, hi)` of the entries below `size` whose time is in [from, to). */
export async function timeRange(
  db: Db,
  logId: string,
  size: number,
  from: string,
  to: string,
): Promise<[number, number]> {
  const span = await db
    .selectFrom('audit_entries')
    .select((eb) => [eb.fn.min('idx').as('lo'), eb.fn.max('idx').as('hi')])
    .where('log_id', '=', logId)
    .where('idx', '<', size)
    .where('time', '>=', from)
    .where('time', '<', to)
    .executeTakeFirstOrThrow();
  if (span.lo === null || span.hi === null) return [size, size];
  return [Number(span.lo), Number(span.hi) + 1];
}

type Line = Omit<
  ComplianceReviewLineTable,
  'id' | 'org_id' | 'review_id' | 'position' | 'decision' | 'decided_by' | 'decided_at' | 'note'
>;

async function agentLines(
  db: Db,
  orgId: string,
  window: LogWindow,
  period: Review['period'],
): Promise<Line[]> {
  // Calls allowed per agent and tool in the period, from the log.
  const used = new Map<string, Map<string, number>>();
  for (const e of window.entries()) {
    if (e.action !== 'tool.call.allowed' || e.actor.type !== 'agent' || e.target?.type !== 'tool') continue;
    if (e.time < period.from || e.time >= period.to) continue;
    let m = used.get(e.actor.id);
    if (!m) {
      m = new Map();
      used.set(e.actor.id, m);
    }
    m.set(e.target.id, (m.get(e.target.id) ?? 0) + 1);
  }
  const grants = await db
    .selectFrom('grants as g')
    .innerJoin('agents as a', 'a.id', 'g.agent_id')
    .innerJoin('connections as c', 'c.id', 'g.connection_id')
    .select([
      'g.id',
      'g.agent_id',
      'a.name as agent_name',
      'g.connection_id',
      'c.name as connection_name',
      'g.tool',
      'g.kind',
      'g.status',
      'g.requires_approval',
      'g.constraints',
      'g.created_by',
      'g.created_at',
    ])
    .where('g.org_id', '=', orgId)
    .where('g.effect', '=', 'allow')
    .where('g.status', 'in', ['active', 'suspended'])
    .orderBy('a.name')
    .orderBy('g.connection_id')
    .orderBy('g.tool')
    .execute();
  return grants.map((g) => {
    const calls = used.get(g.agent_id) ?? new Map<string, number>();
    const prefix = `${g.connection_id}/`;
    // Tool calls are what a tool grant covers; prompt and resource grants cover none of them.
    const ofTools = (g.kind ?? 'tool') === 'tool';
    const tools = [...calls.entries()]
      .filter(([t]) => ofTools && (g.tool === '*' ? t.startsWith(prefix) : t === `${prefix}${g.tool}`))
      .map(([t, n]) => ({ tool: t.slice(prefix.length), calls: n }))
      .sort((a, b) => a.tool.localeCompare(b.tool));
    const n = tools.reduce((s, t) => s + t.calls, 0);
    return {
      subject_type: 'agent',
      subject_id: g.agent_id,
      item_type: 'grant',
      item_id: g.id,
      facts: JSON.stringify({
        agent: g.agent_name,
        connection: g.connection_id,
        connectionName: g.connection_name,
        ...(ofTools ? {} : { kind: g.kind }),
        tool: g.tool,
        grantStatus: g.status,
        requiresApproval: g.requires_approval === 1,
        constraints: (JSON.parse(g.constraints) as unknown[]).length,
        grantedBy: g.created_by,
        grantedAt: g.created_at,
        calls: n,
        toolsUsed: tools,
      }),
      finding: n === 0 ? 'unused' : 'used',
    };
  });
}

async function peopleLines(db: Db, orgId: string, period: Review['period'], size: number): Promise<Line[]> {
  const people = await listPeople(db, trustedScope(orgId));
  const activity = await peopleActivity(db, orgId, size);
  return people
    .sort((a, b) => a.email.localeCompare(b.email))
    .map((p) => {
      const a = activity.get(p.id);
      const last = latest(a?.lastSignInAt ?? null, a?.lastTokenUseAt ?? null);
      return {
        subject_type: 'person',
        subject_id: p.id,
        item_type: 'membership',
        item_id: p.id,
        facts: JSON.stringify({
          email: p.email,
          name: p.name,
          role: p.role,
          joinedAt: p.joinedAt,
          lastSignInAt: a?.lastSignInAt ?? null,
          lastTokenUseAt: a?.lastTokenUseAt ?? null,
          liveTokens: a?.liveTokens ?? 0,
        }),
        finding: last && last >= period.from ? 'active' : 'dormant',
      };
    });
}

export interface NewReview {
  kind: ReviewKind;
  from?: string | undefined;
  to?: string | undefined;
}

/**
 * Opens a review over a period (the last 90 days by default), read from the log at a fresh
 * signed checkpoint (`sign`).
 */
export async function createReview(
  db: Kysely<Database>,
  ctx: OrgContext,
  input: NewReview,
  sign: (orgId: string) => Promise<{ size: number; note: string }>,
): Promise<Review> {
  const now = new Date();
  const to = input.to ?? now.toISOString();
  const from = input.from ?? new Date(Date.parse(to) - 90 * 86_400_000).toISOString();
  if (from >= to) throw new BadRequestError('invalid_period', '`from` must come before `to`.');
  const orgId = ctx.scope.orgId;
  const cp = await sign(orgId);
  const period = { from, to };
  const range = await timeRange(db, orgId, cp.size, from, to);
  const window =
    input.kind === 'agents'
      ? await LogWindow.read(db, orgId, { treeSize: cp.size, checkpoint: cp.note, range })
      : null;
  const lines = window
    ? await agentLines(db, orgId, window, period)
    : await peopleLines(db, orgId, period, cp.size);
  return db.transaction().execute(async (trx) => {
    const row: ComplianceReviewTable = {
      id: newId('rev'),
      org_id: orgId,
      kind: input.kind,
      period_from: from,
      period_to: to,
      tree_size: cp.size,
      checkpoint: cp.note,
      status: 'open',
      created_by: ctx.actor.id,
      created_at: now.toISOString(),
      signed_off_by: null,
      signed_off_at: null,
      evidence_id: null,
    };
    await trx.insertInto('compliance_reviews').values(row).execute();
    let position = 0;
    for (const l of lines) {
      await trx
        .insertInto('compliance_review_lines')
        .values({
          ...l,
          id: newId('rvl'),
          org_id: orgId,
          review_id: row.id,
          position: position++,
          decision: null,
          decided_by: null,
          decided_at: null,
          note: null,
        })
        .execute();
    }
    const findings: Record<string, number> = {};
    for (const l of lines) findings[l.finding] = (findings[l.finding] ?? 0) + 1;
    await recordChange(trx, ctx, {
      action: 'compliance.review.created',
      target: { type: 'review', id: row.id },
      details: { kind: input.kind, period, treeSize: cp.size, lines: lines.length, findings },
    });
    return getReview(trx, orgId, row.id);
  });
}

export async function listReviews(db: Db, orgId: string): Promise<Review[]> {
  const rows = await db
    .selectFrom('compliance_reviews')
    .selectAll()
    .where('org_id', '=', orgId)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .execute();
  return rows.map(toReview);
}

async function requireReview(db: Db, orgId: string, id: string): Promise<ComplianceReviewTable> {
  const row = await db
    .selectFrom('compliance_reviews')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw new NotFoundError('review_not_found', 'No such access review in this organization.');
  return row;
}

/** A review with its lines and comments. */
export async function getReview(db: Db, orgId: string, id: string): Promise<Review> {
  const review = toReview(await requireReview(db, orgId, id));
  const lines = await db
    .selectFrom('compliance_review_lines')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('review_id', '=', id)
    .orderBy('position')
    .execute();
  const comments = await db
    .selectFrom('compliance_review_comments')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('review_id', '=', id)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return { ...review, lines: lines.map(toLine), comments: comments.map(toComment) };
}

export interface LineDecision {
  decision: Decision;
  note?: string | undefined;
}

/**
 * Keeps, defers or revokes one line. A revocation goes through the real path first — the grant
 * is revoked as `DELETE …/grants/{grant}` does, the person removed as `DELETE …/people/{person}`
 * does (their private agents and connections handed to the reviewer) — and is final.
 */
export async function decideLine(
  db: Kysely<Database>,
  ctx: OrgContext,
  reviewId: string,
  lineId: string,
  input: LineDecision,
  publish: Parameters<typeof removePerson>[1],
): Promise<ReviewLine> {
  const orgId = ctx.scope.orgId;
  const review = await requireReview(db, orgId, reviewId);
  const line = await db
    .selectFrom('compliance_review_lines')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('review_id', '=', reviewId)
    .where('id', '=', lineId)
    .executeTakeFirst();
  if (!line) throw new NotFoundError('line_not_found', 'No such line in this review.');
  if (review.status !== 'open') throw new ConflictError('review_signed_off', 'This review is signed off.');
  if (line.decision === 'revoke') throw new ConflictError('line_revoked', 'This line was revoked already.');
  if (input.decision === 'revoke') {
    if (line.item_type === 'grant') await revokeGrant(db, ctx, line.subject_id, line.item_id);
    else await removePerson(db, publish, ctx, line.subject_id, {});
  }
  return db.transaction().execute(async (trx) => {
    const now = new Date().toISOString();
    await trx
      .updateTable('compliance_review_lines')
      .set({ decision: input.decision, decided_by: ctx.actor.id, decided_at: now, note: input.note ?? null })
      .where('org_id', '=', orgId)
      .where('id', '=', lineId)
      .execute();
    await recordChange(trx, ctx, {
      action: 'compliance.review.line.decided',
      target: { type: 'review', id: reviewId },
      details: {
        line: lineId,
        subject: { type: line.subject_type, id: line.subject_id },
        item: { type: line.item_type, id: line.item_id },
        finding: line.finding,
        decision: input.decision,
        note: input.note ?? null,
      },
    });
    return toLine({
      ...line,
      decision: input.decision,
      decided_by: ctx.actor.id,
      decided_at: now,
      note: input.note ?? null,
    });
  });
}

/**
 * Signs a review off once every line is decided: stores it as evidence of the access-review
 * control — the decisions, and for an agents review one figure per agent (its allowed calls by
 * tool over the period), recomputable from the entries of its range under the review's checkpoint.
 */
export async function signOffReview(
  db: Kysely<Database>,
  ctx: OrgContext,
  reviewId: string,
): Promise<Review> {
  const orgId = ctx.scope.orgId;
  const review = await getReview(db, orgId, reviewId);
  if (review.status !== 'open')
    throw new ConflictError('review_signed_off', 'This review is signed off already.');
  const open = review.lines!.filter((l) => l.decision === null);
  if (open.length > 0) {
    throw new ConflictError(
      'review_incomplete',
      `${open.length} line${open.length === 1 ? '' : 's'} still to decide (keep, revoke or defer) before signing off.`,
    );
  }
  const range = await timeRange(db, orgId, review.treeSize, review.period.from, review.period.to);
  const snapshot = { treeSize: review.treeSize, checkpoint: review.checkpoint, range };
  const window = review.kind === 'agents' ? await LogWindow.read(db, orgId, snapshot) : null;
  return db.transaction().execute(async (trx) => {
    const now = new Date().toISOString();
    const common = {
      orgId,
      controlId: ACCESS_REVIEW_CONTROL,
      collectionId: null,
      collectedAt: now,
      period: review.period,
    };
    const agents = [...new Set(review.lines!.map((l) => l.subject.id))];
    if (window) {
      for (const agent of agents) {
        const figure: FigureSpec = {
          name: `tool calls allowed to ${agent}, by tool`,
          where: {
            actions: ['tool.call.allowed'],
            actor: `agent:${agent}`,
            from: review.period.from,
            to: review.period.to,
          },
          by: 'target',
        };
        await insertEvidence(trx, {
          ...common,
          draft: {
            kind: 'access_review.tool_use',
            data: { value: window.figure(figure), review: reviewId, agent },
            figure,
          },
          log: snapshot,
        });
      }
    }
    const decisions: Record<string, number> = {};
    for (const l of review.lines!) decisions[l.decision!] = (decisions[l.decision!] ?? 0) + 1;
    const record = await insertEvidence(trx, {
      ...common,
      draft: {
        kind: 'access_review.signed_off',
        data: {
          review: reviewId,
          kind: review.kind,
          period: review.period,
          createdBy: review.createdBy,
          signedOffBy: ctx.actor.id,
          signedOffAt: now,
          decisions,
          lines: review.lines!.map((l) => ({
            subject: l.subject,
            item: l.item,
            finding: l.finding,
            facts: l.facts,
            decision: l.decision,
            decidedBy: l.decidedBy,
            decidedAt: l.decidedAt,
            note: l.note,
          })),
        },
      },
      // Either kind was read from the log under the review's checkpoint: agents' calls over the
      // period's range, people's last sign-ins and token use over the whole log up to it.
      log: window ? snapshot : { ...snapshot, range: [0, review.treeSize] },
    });
    await trx
      .updateTable('compliance_reviews')
      .set({ status: 'signed_off', signed_off_by: ctx.actor.id, signed_off_at: now, evidence_id: record.id })
      .where('org_id', '=', orgId)
      .where('id', '=', reviewId)
      .execute();
    await recordChange(trx, ctx, {
      action: 'compliance.review.signed_off',
      target: { type: 'review', id: reviewId },
      details: { evidence: record.id, hash: record.hash, decisions },
    });
    return getReview(trx, orgId, reviewId);
  });
}

/** A comment on a review (or one of its lines): the one thing an auditor may add. */
export async function commentOnReview(
  db: Kysely<Database>,
  ctx: OrgContext,
  reviewId: string,
  input: { body: string; lineId?: string | undefined },
): Promise<ReviewComment> {
  const orgId = ctx.scope.orgId;
  return db.transaction().execute(async (trx) => {
    await requireReview(trx, orgId, reviewId);
    if (input.lineId) {
      const line = await trx
        .selectFrom('compliance_review_lines')
        .select('id')
        .where('org_id', '=', orgId)
        .where('review_id', '=', reviewId)
        .where('id', '=', input.lineId)
        .executeTakeFirst();
      if (!line) throw new NotFoundError('line_not_found', 'No such line in this review.');
    }
    const row: ComplianceReviewCommentTable = {
      id: newId('rvc'),
      org_id: orgId,
      review_id: reviewId,
      line_id: input.lineId ?? null,
      author_id: ctx.actor.id,
      author_role: ctx.role,
      body: input.body,
      created_at: new Date().toISOString(),
    };
    await trx.insertInto('compliance_review_comments').values(row).execute();
    await recordChange(trx, ctx, {
      action: 'compliance.review.commented',
      target: { type: 'review', id: reviewId },
      details: { comment: row.id, line: row.line_id, role: ctx.role, body: input.body },
    });
    return toComment(row);
  });
}
