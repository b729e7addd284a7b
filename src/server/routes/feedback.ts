/**
 * Team feedback: flag a run's answer as wrong (with the correction and why), list an agent's
 * flags with its flagged rate per day, resolve one with a note.
 */
import { z } from 'zod';
import { flagOutput, listFeedback, resolveFeedback } from '../../feedback/index.ts';
import { defineRoute } from '../route.ts';
import { Id, OrgParams, Timestamp } from '../schemas.ts';

export const FeedbackSchema = z
  .object({
    id: Id,
    agentId: Id,
    runId: Id,
    entry: z
      .object({ index: z.number().int(), leafHash: z.string() })
      .describe('the audit entry that recorded the answer: its index in the org’s log and its leaf hash'),
    personId: z.string().describe('who flagged it'),
    correction: z.string(),
    reason: z.string(),
    status: z.enum(['open', 'resolved']),
    resolvedBy: z.string().nullable(),
    resolution: z.string().nullable().describe('the note it was resolved with'),
    resolvedAt: Timestamp.nullable(),
    createdAt: Timestamp,
  })
  .meta({ id: 'Feedback' });

export const FeedbackBodySchema = z.strictObject({
  correction: z.string().trim().min(1).max(20_000).describe('what the answer should have been'),
  reason: z.string().trim().min(1).max(4_000).describe('why the answer is wrong'),
});
export const FeedbackListQuerySchema = z.strictObject({
  status: z.enum(['open', 'resolved']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  days: z.coerce.number().int().min(1).max(366).default(30),
});
export const FeedbackListSchema = z.object({
  feedback: z.array(FeedbackSchema),
  days: z
    .array(z.object({ day: z.string(), runs: z.number().int(), flagged: z.number().int() }))
    .describe('per day (UTC), oldest first: the agent’s runs that ended, and the flags given'),
});
export const FeedbackResolveSchema = z.strictObject({ note: z.string().trim().min(1).max(4_000) });

export const feedbackRoutes = [
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/runs/{run}/feedback',
    summary:
      'Flag a run’s answer as wrong, with the correction and why (linked to the audit entry that recorded the answer)',
    tag: 'feedback',
    access: { permission: 'runs.start' },
    params: OrgParams.extend({ run: Id }),
    body: FeedbackBodySchema,
    response: FeedbackSchema,
    status: 201,
    handler: async ({ ctx, deps, params, body }) =>
      flagOutput(deps.store.db, ctx, params.run, body, () => deps.audit.flush()),
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/agents/{agent}/feedback',
    summary: 'An agent’s feedback, newest first (members: their own), and its flagged rate per day',
    tag: 'feedback',
    access: { permission: 'runs.read' },
    params: OrgParams.extend({ agent: Id }),
    query: FeedbackListQuerySchema,
    response: FeedbackListSchema,
    handler: async ({ ctx, deps, params, query }) => listFeedback(deps.store.db, ctx, params.agent, query),
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/feedback/{feedback}/resolve',
    summary: 'Resolve a flag with a note',
    tag: 'feedback',
    access: { permission: 'feedback.resolve' },
    params: OrgParams.extend({ feedback: Id }),
    body: FeedbackResolveSchema,
    response: FeedbackSchema,
    handler: async ({ ctx, deps, params, body }) =>
      resolveFeedback(deps.store.db, ctx, params.feedback, body.note),
  }),
];
