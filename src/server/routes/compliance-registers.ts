/**
 * The compliance center's registers: vendors (generated from use, with the org's assessment),
 * incidents (timeline, severity, actions), and exercises — tabletops recorded by people, and
 * kill-switch drills run here through the real kill switch and measured from the log.
 */
import { z } from 'zod';
import { setAgentState } from '../../agents/index.ts';
import {
  assessVendor,
  currentVendorRegister,
  getExercise,
  getIncident,
  INCIDENT_STATUSES,
  listExercises,
  listIncidents,
  openIncident,
  recordTabletop,
  runKillSwitchDrill,
  SEVERITIES,
  updateIncident,
  VENDOR_KINDS,
} from '../../compliance/index.ts';
import { defineRoute } from '../route.ts';
import { Id, Name, OrgParams, Timestamp } from '../schemas.ts';

const Day = z.iso.date().describe('a date, YYYY-MM-DD');

export const VendorAssessmentSchema = z
  .object({
    dataHandling: z.string(),
    soc2ReportDate: z.string().nullable(),
    reviewedAt: z.string().nullable(),
    nextReviewAt: z.string().nullable(),
    notes: z.string(),
    updatedBy: z.string(),
    updatedAt: Timestamp,
  })
  .meta({ id: 'VendorAssessment' });

export const VendorSchema = z
  .object({
    kind: z.enum(VENDOR_KINDS),
    name: z.string(),
    sources: z
      .array(z.string())
      .describe('where it was found: model keys, model calls, connections, the egress allowlist'),
    inUse: z.boolean(),
    calls: z
      .object({ total: z.number().int(), byModel: z.record(z.string(), z.number().int()) })
      .nullable()
      .describe('model providers: the calls made, per model'),
    assessment: VendorAssessmentSchema.nullable(),
    status: z.enum(['reviewed', 'review_due', 'unreviewed', 'not_in_use']),
  })
  .meta({ id: 'Vendor' });

export const VendorAssessmentBodySchema = z.strictObject({
  kind: z.enum(VENDOR_KINDS),
  name: Name(300),
  dataHandling: z
    .string()
    .max(4000)
    .default('')
    .describe('what data they receive, where it is kept, for how long'),
  soc2ReportDate: Day.nullable().default(null).describe('the date of their latest SOC 2 report'),
  reviewedAt: Day.nullable().default(null),
  nextReviewAt: Day.nullable().default(null),
  notes: z.string().max(4000).default(''),
});

export const IncidentSchema = z
  .object({
    id: Id,
    title: z.string(),
    severity: z.enum(SEVERITIES),
    status: z.enum(INCIDENT_STATUSES),
    summary: z.string(),
    detectedAt: Timestamp,
    resolvedAt: Timestamp.nullable(),
    timeline: z.array(z.object({ time: Timestamp, note: z.string(), by: z.string() })),
    actions: z.array(
      z.object({ id: z.string(), action: z.string(), owner: z.string().nullable(), done: z.boolean() }),
    ),
    createdBy: z.string(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Incident' });

export const IncidentBodySchema = z.strictObject({
  title: z.string().min(1).max(200),
  severity: z.enum(SEVERITIES),
  summary: z.string().max(8000).default(''),
  detectedAt: Timestamp.optional(),
});

export const IncidentChangeBodySchema = z.strictObject({
  status: z.enum(INCIDENT_STATUSES).optional(),
  severity: z.enum(SEVERITIES).optional(),
  summary: z.string().max(8000).optional(),
  note: z.string().min(1).max(4000).optional().describe('a line for the timeline'),
  addActions: z
    .array(
      z.strictObject({
        action: z.string().min(1).max(500),
        owner: z.string().max(200).nullable().optional(),
      }),
    )
    .max(20)
    .optional(),
  doneActions: z.array(z.string().max(64)).max(50).optional(),
});

export const ExerciseSchema = z
  .object({
    id: Id,
    kind: z.enum(['tabletop', 'kill_switch_drill']),
    title: z.string(),
    heldAt: Timestamp,
    outcome: z.enum(['pass', 'fail', 'partial']),
    facts: z
      .record(z.string(), z.unknown())
      .describe('a tabletop’s participants, scenario and findings; a drill’s measurements'),
    createdBy: z.string(),
    createdAt: Timestamp,
  })
  .meta({ id: 'Exercise' });

export const TabletopBodySchema = z.strictObject({
  title: z.string().min(1).max(200),
  heldAt: Timestamp,
  participants: z.array(z.string().min(1).max(200)).max(100).default([]),
  scenario: z.string().max(8000),
  findings: z.string().max(8000).default(''),
  outcome: z.enum(['pass', 'fail', 'partial']),
});

export const DrillBodySchema = z.strictObject({
  agentId: Id.describe('the agent to stop (it must be running)'),
  resume: z.boolean().default(true).describe('start the agent again after the drill'),
});

export const VendorListSchema = z.object({
  vendors: z.array(VendorSchema),
  callsAsOf: z
    .object({ collectedAt: Timestamp, treeSize: z.number().int() })
    .nullable()
    .describe('model calls are as the latest collection counted them, at this log size; null before any'),
});
export const IncidentListSchema = z.object({ incidents: z.array(IncidentSchema) });
export const ExerciseListSchema = z.object({ exercises: z.array(ExerciseSchema) });

const iso = (t: string) => new Date(t).toISOString();

export const complianceRegisterRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/compliance/vendors',
    summary:
      'The vendor register: every vendor in use (from keys, connections, and the model calls the latest collection counted), with its assessment',
    tag: 'compliance',
    access: { permission: 'compliance.read' },
    params: OrgParams,
    response: VendorListSchema,
    handler: async ({ ctx, deps }) => {
      const r = await currentVendorRegister(deps.store.db, ctx.scope.orgId);
      return { vendors: r.vendors, callsAsOf: r.asOf };
    },
  }),
  defineRoute({
    method: 'put',
    path: '/api/v1/orgs/{org}/compliance/vendors',
    summary:
      'Record the organization’s assessment of a vendor (data handling, SOC 2 report date, review dates)',
    tag: 'compliance',
    access: { permission: 'compliance.manage' },
    params: OrgParams,
    body: VendorAssessmentBodySchema,
    response: VendorAssessmentSchema,
    handler: async ({ ctx, deps, body }) => assessVendor(deps.store.db, ctx, body),
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/compliance/incidents',
    summary: 'The incident register, newest first',
    tag: 'compliance',
    access: { permission: 'compliance.read' },
    params: OrgParams,
    response: IncidentListSchema,
    handler: async ({ ctx, deps }) => ({ incidents: await listIncidents(deps.store.db, ctx.scope.orgId) }),
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/compliance/incidents',
    summary: 'Open an incident',
    tag: 'compliance',
    access: { permission: 'compliance.manage' },
    params: OrgParams,
    body: IncidentBodySchema,
    response: IncidentSchema,
    status: 201,
    handler: async ({ ctx, deps, body }) =>
      openIncident(deps.store.db, ctx, { ...body, detectedAt: body.detectedAt && iso(body.detectedAt) }),
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/compliance/incidents/{incident}',
    summary: 'One incident with its timeline and actions',
    tag: 'compliance',
    access: { permission: 'compliance.read' },
    params: OrgParams.extend({ incident: Id }),
    response: IncidentSchema,
    handler: async ({ ctx, deps, params }) => getIncident(deps.store.db, ctx.scope.orgId, params.incident),
  }),
  defineRoute({
    method: 'patch',
    path: '/api/v1/orgs/{org}/compliance/incidents/{incident}',
    summary: 'Update an incident: status, severity, summary, a timeline note, actions added or done',
    tag: 'compliance',
    access: { permission: 'compliance.manage' },
    params: OrgParams.extend({ incident: Id }),
    body: IncidentChangeBodySchema,
    response: IncidentSchema,
    handler: async ({ ctx, deps, params, body }) => updateIncident(deps.store.db, ctx, params.incident, body),
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/compliance/exercises',
    summary: 'Tabletop exercises and kill-switch drills, newest first',
    tag: 'compliance',
    access: { permission: 'compliance.read' },
    params: OrgParams,
    response: ExerciseListSchema,
    handler: async ({ ctx, deps }) => ({ exercises: await listExercises(deps.store.db, ctx.scope.orgId) }),
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/compliance/exercises/{exercise}',
    summary: 'One exercise or drill',
    tag: 'compliance',
    access: { permission: 'compliance.read' },
    params: OrgParams.extend({ exercise: Id }),
    response: ExerciseSchema,
    handler: async ({ ctx, deps, params }) => getExercise(deps.store.db, ctx.scope.orgId, params.exercise),
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/compliance/exercises',
    summary: 'Record a tabletop exercise (scenario, participants, findings, outcome)',
    tag: 'compliance',
    access: { permission: 'compliance.manage' },
    params: OrgParams,
    body: TabletopBodySchema,
    response: ExerciseSchema,
    status: 201,
    handler: async ({ ctx, deps, body }) =>
      recordTabletop(deps.store.db, ctx, { ...body, heldAt: iso(body.heldAt) }),
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/compliance/drills',
    summary:
      'Run a kill-switch drill: stop the agent through the kill switch, measure the time to halt from the log, resume it',
    tag: 'compliance',
    access: { permission: 'compliance.manage' },
    params: OrgParams,
    body: DrillBodySchema,
    response: ExerciseSchema,
    status: 201,
    handler: async ({ ctx, deps, body }) =>
      runKillSwitchDrill(deps.store.db, ctx, body.agentId, {
        kill: {
          stop: async (id) => void (await deps.killSwitch.stopAgent(ctx, id)),
          resume: async (id) => void (await setAgentState(deps.store.db, ctx, id, 'active')),
        },
        settle: () => deps.audit.flush(),
        resume: body.resume,
      }),
  }),
];
