/** The approvals inbox: high-risk calls waiting for a person. */
import { z } from 'zod';
import { decideApproval, listApprovals } from '../../approvals/approvals.ts';
import { defineRoute } from '../route.ts';
import { Id, OrgParams, Timestamp } from '../schemas.ts';

export const ApprovalStatusSchema = z.enum(['pending', 'approved', 'denied', 'used', 'expired']);

export const ApprovalSchema = z
  .object({
    id: Id,
    agentId: Id,
    connectionId: Id,
    kind: z
      .enum(['tool', 'resource', 'prompt'])
      .describe('what `tool` names: a tool (a call), a resource URI (a read), a prompt (a get)'),
    tool: z.string(),
    args: z.record(z.string(), z.unknown()).describe('the exact arguments (secrets redacted)'),
    argsDigest: z
      .string()
      .describe('SHA-256 of the RFC 8785 form of the arguments; the approval binds to it'),
    policyVersion: z.string(),
    status: ApprovalStatusSchema,
    requestedBy: z.string().nullable(),
    requestedAt: Timestamp,
    expiresAt: Timestamp,
    decidedBy: z.string().nullable(),
    decidedAt: Timestamp.nullable(),
    reason: z.string().nullable(),
    usedAt: Timestamp.nullable(),
    runId: Id.nullable().describe(
      'the run that asked, when one did: the approval serves that run’s call only, and ends with the run',
    ),
    endedBecause: z
      .enum(['run-ended', 'agent-stopped', 'all-agents-stopped', 'person-removed'])
      .nullable()
      .describe(
        'what ended it before its time, if something did: its run ended, its agent or every agent of the organization was stopped, or the person it was asked for was removed',
      ),
  })
  .meta({ id: 'Approval' });

const ApprovalParams = OrgParams.extend({ approval: Id });
export const DecisionBodySchema = z.strictObject({ reason: z.string().max(1000).optional() });
export const ApprovalListSchema = z.object({ approvals: z.array(ApprovalSchema) });

export const approvalRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/approvals',
    summary: 'Approval requests, newest first (filter by status or agent)',
    tag: 'approvals',
    access: { permission: 'approvals.read' },
    params: OrgParams,
    query: z.strictObject({
      status: z
        .union([ApprovalStatusSchema, z.literal('all')])
        .optional()
        .describe('one status, or `all` (the same as none)'),
      agent: Id.optional(),
    }),
    response: ApprovalListSchema,
    handler: async ({ ctx, deps, query }) => ({
      approvals: await listApprovals(deps.store.db, ctx, {
        status: query.status === 'all' ? undefined : query.status,
        agentId: query.agent,
      }),
    }),
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/approvals/{approval}/approve',
    summary:
      'Approve one call, once: the agent may make exactly this call, with these arguments, until expiry',
    tag: 'approvals',
    access: { permission: 'approvals.decide' },
    params: ApprovalParams,
    body: DecisionBodySchema,
    response: ApprovalSchema,
    handler: async ({ ctx, deps, params, body }) => {
      const decided = await decideApproval(deps.store.db, ctx, params.approval, 'approve', body.reason);
      // A run waiting for this call goes on now (the runtime's sweep is the backstop).
      await deps.runs.resumeDecided(ctx.scope.orgId, decided.id);
      return decided;
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/approvals/{approval}/deny',
    summary: 'Deny a waiting call',
    tag: 'approvals',
    access: { permission: 'approvals.decide' },
    params: ApprovalParams,
    body: DecisionBodySchema,
    response: ApprovalSchema,
    handler: async ({ ctx, deps, params, body }) => {
      const decided = await decideApproval(deps.store.db, ctx, params.approval, 'deny', body.reason);
      // A run waiting for this call goes on now (the runtime's sweep is the backstop).
      await deps.runs.resumeDecided(ctx.scope.orgId, decided.id);
      return decided;
    },
  }),
];
