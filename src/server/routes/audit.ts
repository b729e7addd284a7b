/**
 * The organization's audit trail, read-only: query, checkpoint, verifier key, inclusion and
 * consistency proofs, exports. Nothing writes to the trail through the API.
 */
import { z } from 'zod';
import {
  activity,
  CONTENT_TYPES,
  EXPORT_FORMATS,
  exportBounds,
  exportLines,
  exportProofText,
  getAuditEvent,
  queryAudit,
} from '../../audit/index.ts';
import { NotFoundError } from '../../errors/index.ts';
import { defineRoute } from '../route.ts';
import { AuditEventSchema, OrgParams, Timestamp } from '../schemas.ts';

const Index = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
// 26 characters since ids sort by time (`newTimeOrderedId`); 16 before.
const EntryId = z.string().regex(/^evt_([a-z0-9]{16}|[a-z0-9]{26})$/);
const Time = z.iso.datetime({ offset: true }).describe('ISO-8601 time');

export const AuditQuerySchema = z.strictObject({
  action: z.string().max(100).optional().describe('exact action, or a prefix ending in * (team.*)'),
  actor: z.string().max(100).optional().describe('who acted: person, token, agent or system id'),
  agent: z.string().max(100).optional().describe('what an agent did or had done to it'),
  outcome: z.enum(['success', 'failure', 'denied']).optional(),
  from: Time.optional(),
  to: Time.optional(),
  q: z.string().max(200).optional().describe('free text in the entry (empty: no filter)'),
  order: z.enum(['desc', 'asc']).default('desc'),
  cursor: Index.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export const AuditPageSchema = z.object({
  events: z.array(AuditEventSchema),
  nextCursor: z.number().nullable(),
});
export const AuditEntrySchema = z.object({
  event: AuditEventSchema,
  proof: z.object({
    treeSize: z.number(),
    hashes: z.array(z.string()),
    checkpoint: z.string(),
    tlogProof: z.string(),
  }),
});
export const VerifierKeySchema = z.object({ origin: z.string(), verifierKey: z.string() });
export const CheckpointSchema = z.object({
  treeSize: z.number(),
  checkpoint: z.string(),
  origin: z.string(),
  verifierKey: z.string(),
});
export const AuditExportQuerySchema = z.strictObject({
  format: z.enum([...EXPORT_FORMATS, 'proof']).default('jsonl'),
  from: Time.optional(),
  to: Time.optional(),
  treeSize: Index.optional().describe(
    'export within the tree of this signed size (from GET …/audit/checkpoint), so an export and its proof fetched separately match',
  ),
});

export const ActivityQuerySchema = z.strictObject({
  unit: z.enum(['hour', 'day']).default('day'),
  count: z.coerce
    .number()
    .int()
    .min(1)
    .max(366)
    .default(14)
    .describe('how many buckets, the last one the current hour or day'),
});
const count = (what: string) => z.number().int().describe(what);
export const ActivitySchema = z.object({
  unit: z.enum(['hour', 'day']),
  buckets: z.array(
    z.object({
      start: Timestamp.describe('the bucket’s start (UTC); the last bucket runs until now'),
      toolCalls: count('tool calls decided (allowed or denied)'),
      denied: count('tool calls denied'),
      approvalsRequested: count('calls that asked a person for approval'),
      modelCalls: count('model calls'),
      stops: count('agents stopped, one by one or all at once'),
    }),
  ),
});

function proofLink(slug: string, from: string | undefined, to: string | undefined, treeSize: number): string {
  const q = new URLSearchParams({ format: 'proof', treeSize: String(treeSize) });
  if (from) q.set('from', from);
  if (to) q.set('to', to);
  return `/api/v1/orgs/${slug}/audit/export?${q}`;
}

export const auditRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/audit',
    summary:
      'Query audit entries (newest first, or oldest first to replay a sequence), with cursor pagination',
    tag: 'audit',
    access: { permission: 'audit.read' },
    params: OrgParams,
    query: AuditQuerySchema,
    response: AuditPageSchema,
    handler: async ({ ctx, deps, query }) => {
      await deps.audit.flush();
      return queryAudit(deps.store.db, ctx.scope, {
        ...query,
        q: query.q || undefined,
        from: query.from && new Date(query.from).toISOString(),
        to: query.to && new Date(query.to).toISOString(),
      });
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/audit/activity',
    summary:
      'Activity over time: tool calls, denials, approvals asked for, model calls and stops per hour or day (counted from the log’s index, oldest first)',
    tag: 'audit',
    access: { permission: 'audit.read' },
    params: OrgParams,
    query: ActivityQuerySchema,
    response: ActivitySchema,
    handler: async ({ ctx, deps, query }) => {
      await deps.audit.flush();
      return { unit: query.unit, buckets: await activity(deps.store.db, ctx.scope, query) };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/audit/entries/{index}',
    summary:
      'One audit entry, by its index or its id, with its inclusion proof against the newest checkpoint',
    tag: 'audit',
    access: { permission: 'audit.read' },
    params: OrgParams.extend({
      index: z.union([Index, EntryId]).describe('the entry’s index in the log, or its id (evt_…)'),
    }),
    response: AuditEntrySchema,
    handler: async ({ ctx, deps, params }) => {
      // An entry named by id may still be on its way into the log (a gate decision): placed first.
      if (typeof params.index === 'string') await deps.audit.flush();
      const event = await getAuditEvent(deps.store.db, ctx.scope, params.index);
      if (!event) throw new NotFoundError('entry_not_found', `No entry ${params.index} in this log.`);
      const proof = await deps.audit.inclusionProof(ctx.scope.orgId, event.index);
      return { event, proof };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/audit/checkpoint',
    summary: 'The newest signed checkpoint (C2SP signed note), covering every entry so far',
    tag: 'audit',
    access: { permission: 'audit.read' },
    params: OrgParams,
    response: CheckpointSchema,
    handler: async ({ ctx, deps }) => {
      const cp = await deps.audit.checkpoint(ctx.scope.orgId);
      return { treeSize: cp.size, checkpoint: cp.note, ...(await deps.audit.verifierKey(ctx.scope.orgId)) };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/audit/key',
    summary: "The log's verifier key (name+keyid+base64), to check checkpoints without trusting Paddock",
    tag: 'audit',
    access: { permission: 'audit.read' },
    params: OrgParams,
    response: VerifierKeySchema,
    handler: async ({ ctx, deps }) => {
      await deps.audit.flush();
      return deps.audit.verifierKey(ctx.scope.orgId);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/audit/proof',
    summary: 'Inclusion proof of entry `index` in C2SP tlog-proof form',
    tag: 'audit',
    access: { permission: 'audit.read' },
    params: OrgParams,
    query: z.strictObject({ index: Index }),
    response: z.object({
      index: z.number(),
      treeSize: z.number(),
      hashes: z.array(z.string()),
      checkpoint: z.string(),
      tlogProof: z.string(),
    }),
    handler: async ({ ctx, deps, query }) => deps.audit.inclusionProof(ctx.scope.orgId, query.index),
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/audit/consistency',
    summary: 'Consistency proof between two tree sizes (RFC 6962)',
    tag: 'audit',
    access: { permission: 'audit.read' },
    params: OrgParams,
    query: z.strictObject({ from: Index, to: Index }),
    response: z.object({ from: z.number(), to: z.number(), hashes: z.array(z.string()) }),
    handler: async ({ ctx, deps, query }) => {
      await deps.audit.flush();
      return deps.audit.consistencyProof(ctx.scope.orgId, query.from, query.to);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/audit/export',
    summary:
      'Export entries as JSON lines, CSV or OCSF; `format=proof` gives the proof file for the same JSON-lines export',
    tag: 'audit',
    access: { permission: 'audit.read' },
    params: OrgParams,
    query: AuditExportQuerySchema,
    raw: {
      status: 200,
      description: 'The export file (attachment)',
      contentTypes: ['application/x-ndjson', 'text/csv', 'text/plain'],
    },
    handler: async ({ ctx, deps, query }) => {
      const logId = ctx.scope.orgId;
      const cp =
        query.treeSize === undefined
          ? await deps.audit.checkpoint(logId)
          : await deps.audit.checkpointAt(logId, query.treeSize);
      const window = {
        from: query.from && new Date(query.from).toISOString(),
        to: query.to && new Date(query.to).toISOString(),
      };
      const range = await exportBounds(deps.store.db, logId, cp.size, window);
      const name = `paddock-audit-${ctx.org.slug}-${range.a}-${range.b}`;
      if (query.format === 'proof') {
        const { origin } = await deps.audit.verifierKey(logId);
        const hashes = await deps.audit.rangeProof(logId, range.a, range.b, cp.size);
        return new Response(exportProofText(origin, range.a, range.b, hashes, cp.note), {
          headers: {
            'content-type': 'text/plain; charset=utf-8',
            'content-disposition': `attachment; filename="${name}.jsonl.proof"`,
          },
        });
      }
      const format = query.format;
      const lines = exportLines(deps.store.db, logId, format, range);
      const stream = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const next = await lines.next();
          if (next.done) controller.close();
          else controller.enqueue(new TextEncoder().encode(next.value));
        },
      });
      const ext = format === 'csv' ? 'csv' : format === 'ocsf' ? 'ocsf.jsonl' : 'jsonl';
      return new Response(stream, {
        headers: {
          'content-type': CONTENT_TYPES[format],
          'content-disposition': `attachment; filename="${name}.${ext}"`,
          'x-paddock-range': `${range.a}-${range.b}`,
          'x-paddock-tree-size': String(cp.size),
          // The proof file that matches exactly this export.
          link: `<${proofLink(ctx.org.slug, query.from, query.to, cp.size)}>; rel="proof"`,
        },
      });
    },
  }),
];
