/**
 * Access reviews of people and of agents: open one, decide each line (keep, revoke through the
 * real revocation, defer), sign it off (stored as evidence). Auditors read them and may comment
 * (`compliance.comment`, the only thing they may add).
 */
import { z } from 'zod';
import {
  commentOnReview,
  createReview,
  decideLine,
  getReview,
  listReviews,
  signOffReview,
} from '../../compliance/index.ts';
import { defineRoute } from '../route.ts';
import { Id, OrgParams, Timestamp } from '../schemas.ts';

export const ReviewLineSchema = z
  .object({
    id: Id,
    subject: z.object({ type: z.enum(['agent', 'person']), id: Id }),
    item: z.object({ type: z.enum(['grant', 'membership']), id: Id }),
    facts: z
      .record(z.string(), z.unknown())
      .describe('what the reviewer sees: the tool and its use, or the role and its last sign-in'),
    finding: z
      .string()
      .describe('agents: used / unused (granted, never used in the period); people: active / dormant'),
    decision: z.enum(['keep', 'revoke', 'defer']).nullable(),
    decidedBy: z.string().nullable(),
    decidedAt: Timestamp.nullable(),
    note: z.string().nullable(),
  })
  .meta({ id: 'ReviewLine' });

export const ReviewCommentSchema = z
  .object({
    id: Id,
    lineId: Id.nullable(),
    authorId: z.string(),
    authorRole: z.string(),
    body: z.string(),
    createdAt: Timestamp,
  })
  .meta({ id: 'ReviewComment' });

export const ReviewSchema = z
  .object({
    id: Id,
    kind: z.enum(['agents', 'people']),
    period: z.object({ from: Timestamp, to: Timestamp }),
    treeSize: z.number().int().describe('the log size (signed checkpoint) the review was read at'),
    checkpoint: z.string(),
    status: z.enum(['open', 'signed_off']),
    createdBy: z.string(),
    createdAt: Timestamp,
    signedOffBy: z.string().nullable(),
    signedOffAt: Timestamp.nullable(),
    evidenceId: Id.nullable().describe('the evidence record of the sign-off'),
    lines: z.array(ReviewLineSchema).optional(),
    comments: z.array(ReviewCommentSchema).optional(),
  })
  .meta({ id: 'Review' });

export const ReviewBodySchema = z.strictObject({
  kind: z.enum(['agents', 'people']),
  from: Timestamp.optional().describe('start of the period (default: 90 days before `to`)'),
  to: Timestamp.optional().describe('end of the period (default: now)'),
});
export const LineDecisionBodySchema = z.strictObject({
  decision: z.enum(['keep', 'revoke', 'defer']),
  note: z.string().max(2000).optional(),
});
export const CommentBodySchema = z.strictObject({
  body: z.string().min(1).max(4000),
  lineId: Id.optional().describe('the line the comment is about, if one'),
});

export const ReviewListSchema = z.object({ reviews: z.array(ReviewSchema) });

const ReviewParams = OrgParams.extend({ review: Id });
const iso = (t: string | undefined) => (t === undefined ? undefined : new Date(t).toISOString());

export const complianceReviewRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/compliance/reviews',
    summary: 'Access reviews, newest first',
    tag: 'compliance',
    access: { permission: 'compliance.read' },
    params: OrgParams,
    response: ReviewListSchema,
    handler: async ({ ctx, deps }) => ({ reviews: await listReviews(deps.store.db, ctx.scope.orgId) }),
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/compliance/reviews',
    summary:
      'Open an access review: agents (grants against the tools used in the period) or people (roles against sign-ins)',
    tag: 'compliance',
    access: { permission: 'compliance.manage' },
    params: OrgParams,
    body: ReviewBodySchema,
    response: ReviewSchema,
    status: 201,
    handler: async ({ ctx, deps, body }) =>
      createReview(deps.store.db, ctx, { kind: body.kind, from: iso(body.from), to: iso(body.to) }, (orgId) =>
        deps.audit.checkpoint(orgId),
      ),
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/compliance/reviews/{review}',
    summary: 'One access review with its lines and comments',
    tag: 'compliance',
    access: { permission: 'compliance.read' },
    params: ReviewParams,
    response: ReviewSchema,
    handler: async ({ ctx, deps, params }) => getReview(deps.store.db, ctx.scope.orgId, params.review),
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/compliance/reviews/{review}/lines/{line}',
    summary: 'Decide one line: keep, revoke (the grant is revoked, or the person removed), or defer',
    tag: 'compliance',
    access: { permission: 'compliance.manage' },
    params: ReviewParams.extend({ line: Id }),
    body: LineDecisionBodySchema,
    response: ReviewLineSchema,
    handler: async ({ ctx, deps, params, body }) =>
      decideLine(deps.store.db, ctx, params.review, params.line, body, (e) => deps.sessions.publish(e)),
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/compliance/reviews/{review}/sign-off',
    summary: 'Sign the review off once every line is decided; the sign-off is stored as evidence',
    tag: 'compliance',
    access: { permission: 'compliance.manage' },
    params: ReviewParams,
    response: ReviewSchema,
    handler: async ({ ctx, deps, params }) => signOffReview(deps.store.db, ctx, params.review),
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/compliance/reviews/{review}/comments',
    summary: 'Comment on a review or one of its lines (auditors may; it changes nothing else)',
    tag: 'compliance',
    access: { permission: 'compliance.comment' },
    params: ReviewParams,
    body: CommentBodySchema,
    response: ReviewCommentSchema,
    status: 201,
    handler: async ({ ctx, deps, params, body }) => commentOnReview(deps.store.db, ctx, params.review, body),
  }),
];
