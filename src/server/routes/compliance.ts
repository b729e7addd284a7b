/**
 * The compliance center: the criteria grid, controls with their latest result and history,
 * evidence records, and collecting now. Owners, admins and auditors read; owners and admins
 * collect. Reviews, registers and documents are in the other compliance-*.ts files.
 */
import { z } from 'zod';
import {
  CONTROL_IDS,
  CONTROLS,
  CRITERIA,
  collectEvidence,
  collectionTrend,
  controlById,
  coverage,
  criteriaGrid,
  getEvidence,
  latestResults,
  listEvidence,
  resultHistory,
} from '../../compliance/index.ts';
import { compliancePlatform } from '../deps.ts';
import { defineRoute } from '../route.ts';
import { Id, OrgParams, Timestamp } from '../schemas.ts';

export const ControlStatusSchema = z.enum(['pass', 'warning', 'fail', 'not_applicable']);
export const ControlIdSchema = z.enum(CONTROL_IDS).describe('a control id, e.g. PAD-GATE-01');
export const CriterionIdSchema = z
  .enum(CRITERIA.map((c) => c.id) as [string, ...string[]])
  .describe('a criterion id, e.g. CC6.1');

export const FigureSpecSchema = z
  .object({
    name: z.string(),
    where: z.object({
      actions: z.array(z.string()).optional(),
      prefix: z.string().optional(),
      outcome: z.string().optional(),
      from: z.string().optional(),
      to: z.string().optional(),
      actor: z.string().optional(),
      target: z.string().optional(),
    }),
    by: z.enum(['action', 'outcome', 'actor', 'target', 'day']).optional(),
  })
  .meta({ id: 'FigureSpec' });

export const EvidenceRecordSchema = z
  .object({
    id: Id,
    orgId: Id,
    controlId: z.string(),
    kind: z.string(),
    collectedAt: Timestamp,
    period: z.object({ from: Timestamp, to: Timestamp }),
    data: z.unknown().describe('the evidence; with a figure, data.value is the figure’s value'),
    figure: FigureSpecSchema.optional(),
    hash: z.string().describe('SHA-256 (hex) of the RFC 8785 canonical JSON of {kind, data, figure}'),
    log: z
      .object({
        treeSize: z.number().int(),
        checkpoint: z.string().describe('the C2SP signed checkpoint of that tree size'),
        range: z
          .tuple([z.number().int(), z.number().int()])
          .describe('entries [first, end) it was computed from'),
      })
      .nullable(),
  })
  .meta({ id: 'EvidenceRecord' });

export const ControlResultSchema = z
  .object({
    id: Id,
    collectionId: Id,
    controlId: z.string(),
    status: ControlStatusSchema,
    reason: z.string(),
    evaluatedAt: Timestamp,
    evidence: z.array(Id),
  })
  .meta({ id: 'ControlResult' });

export const ControlSchema = z
  .object({
    id: z.string(),
    title: z.string(),
    description: z.string(),
    criteria: z.array(z.string()),
    latest: ControlResultSchema.nullable(),
  })
  .meta({ id: 'Control' });

export const CriterionRowSchema = z
  .object({
    id: z.string(),
    group: z.string(),
    title: z.string(),
    responsibility: z.enum(['paddock', 'customer']),
    state: z.enum(['pass', 'warning', 'fail', 'not_applicable', 'not_tested', 'customer']),
    controls: z.array(
      z.object({
        id: z.string(),
        title: z.string(),
        status: ControlStatusSchema.nullable(),
        reason: z.string().nullable(),
      }),
    ),
    documents: z.array(
      z.object({
        id: Id,
        criterion: z.string(),
        name: z.string(),
        contentType: z.string(),
        size: z.number().int(),
        sha256: z.string(),
        uploadedBy: z.string(),
        uploadedAt: Timestamp,
      }),
    ),
  })
  .meta({ id: 'CriterionRow' });

export const CriteriaGridSchema = z.object({
  criteria: z.array(CriterionRowSchema),
  coverage: z.object({ paddock: z.array(z.string()), customer: z.array(z.string()) }),
});

export const CollectionSchema = z
  .object({
    id: Id,
    trigger: z.enum(['schedule', 'request']),
    startedAt: Timestamp,
    period: z.object({ from: Timestamp, to: Timestamp }),
    log: z.object({
      treeSize: z.number().int(),
      checkpoint: z.string(),
      range: z.tuple([z.number().int(), z.number().int()]),
    }),
    results: z.array(ControlResultSchema),
    evidence: z.number().int(),
  })
  .meta({ id: 'Collection' });

export const ControlDetailSchema = z.object({
  control: ControlSchema,
  evidence: z.array(EvidenceRecordSchema).describe('the evidence of its latest result'),
  history: z.array(ControlResultSchema).describe('its results, newest first'),
});

export const CollectionTrendSchema = z.object({
  collections: z.array(
    z.object({
      id: Id,
      trigger: z.enum(['schedule', 'request']),
      startedAt: Timestamp,
      treeSize: z.number().int().describe('the log size it read up to (its signed checkpoint)'),
      counts: z
        .object({
          pass: z.number().int(),
          warning: z.number().int(),
          fail: z.number().int(),
          not_applicable: z.number().int(),
        })
        .describe('its control results by status'),
    }),
  ),
});

export const EvidenceQuerySchema = z.strictObject({
  control: ControlIdSchema.optional(),
  kind: z.string().max(100).optional(),
  from: Timestamp.optional().describe('collected at or after'),
  to: Timestamp.optional().describe('collected before'),
  before: Timestamp.optional().describe('continue before this collection time (newest first)'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const ControlListSchema = z.object({ controls: z.array(ControlSchema) });

const ControlParams = OrgParams.extend({ control: ControlIdSchema });

export const complianceRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/compliance/criteria',
    summary:
      'The SOC 2 criteria grid: each criterion with its controls’ latest results, or the customer’s responsibility with their documents',
    tag: 'compliance',
    access: { permission: 'compliance.read' },
    params: OrgParams,
    response: CriteriaGridSchema,
    handler: async ({ ctx, deps }) => ({
      criteria: await criteriaGrid(deps.store.db, ctx.scope.orgId),
      coverage: coverage(),
    }),
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/compliance/controls',
    summary: 'Paddock’s controls, the criteria each supports, and each one’s latest result',
    tag: 'compliance',
    access: { permission: 'compliance.read' },
    params: OrgParams,
    response: ControlListSchema,
    handler: async ({ ctx, deps }) => {
      const latest = await latestResults(deps.store.db, ctx.scope.orgId);
      return {
        controls: CONTROLS.map((c) => ({
          id: c.id,
          title: c.title,
          description: c.description,
          criteria: c.criteria,
          latest: latest.get(c.id) ?? null,
        })),
      };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/compliance/controls/{control}',
    summary: 'One control: its latest result with the evidence it was drawn from, and its history',
    tag: 'compliance',
    access: { permission: 'compliance.read' },
    params: ControlParams,
    query: z.strictObject({ limit: z.coerce.number().int().min(1).max(365).default(30) }),
    response: ControlDetailSchema,
    handler: async ({ ctx, deps, params, query }) => {
      const c = controlById(params.control)!;
      const history = await resultHistory(deps.store.db, ctx.scope.orgId, c.id, query.limit);
      const latest = history[0] ?? null;
      const evidence = [];
      for (const id of latest?.evidence ?? [])
        evidence.push(await getEvidence(deps.store.db, ctx.scope.orgId, id));
      return {
        control: { id: c.id, title: c.title, description: c.description, criteria: c.criteria, latest },
        evidence,
        history,
      };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/compliance/collections',
    summary:
      'The latest collections, oldest first, each with its control results counted by status (the trend)',
    tag: 'compliance',
    access: { permission: 'compliance.read' },
    params: OrgParams,
    query: z.strictObject({ limit: z.coerce.number().int().min(1).max(365).default(30) }),
    response: CollectionTrendSchema,
    handler: async ({ ctx, deps, query }) => ({
      collections: await collectionTrend(deps.store.db, ctx.scope.orgId, query.limit),
    }),
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/compliance/evidence',
    summary: 'Evidence records, newest first (filter by control, kind, collection time)',
    tag: 'compliance',
    access: { permission: 'compliance.read' },
    params: OrgParams,
    query: EvidenceQuerySchema,
    response: z.object({ evidence: z.array(EvidenceRecordSchema) }),
    handler: async ({ ctx, deps, query }) => ({
      evidence: await listEvidence(deps.store.db, ctx.scope.orgId, query),
    }),
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/compliance/evidence/{evidence}',
    summary: 'One evidence record, with its hash and the log checkpoint it was computed at',
    tag: 'compliance',
    access: { permission: 'compliance.read' },
    params: OrgParams.extend({ evidence: Id }),
    response: EvidenceRecordSchema,
    handler: async ({ ctx, deps, params }) => getEvidence(deps.store.db, ctx.scope.orgId, params.evidence),
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/compliance/collect',
    summary:
      'Collect evidence now: every control’s collector over the log since the last collection, each control tested',
    tag: 'compliance',
    access: { permission: 'compliance.manage' },
    params: OrgParams,
    // `verify=full`: verify the whole audit log now, not only the entries since the last collection.
    query: z.strictObject({ verify: z.enum(['full', 'auto']).default('auto') }),
    response: CollectionSchema,
    status: 201,
    handler: async ({ ctx, deps, query }) =>
      collectEvidence(
        deps.store.db,
        ctx.scope.orgId,
        compliancePlatform(deps),
        { trigger: 'request', actor: ctx.actor, requestId: ctx.requestId },
        { verify: query.verify },
      ),
  }),
];
