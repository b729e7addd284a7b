/** The organization's audit trail (read-only; nothing writes to it through the API). */
import { z } from 'zod';
import { listAudit } from '../../audit/index.ts';
import { defineRoute } from '../route.ts';
import { AuditEventSchema, OrgParams } from '../schemas.ts';

export const auditRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/audit',
    summary: 'Audit events, newest first, with cursor pagination',
    tag: 'audit',
    access: { permission: 'audit.read' },
    params: OrgParams,
    query: z.strictObject({
      action: z.string().max(100).optional(),
      actor: z.string().max(100).optional(),
      cursor: z.coerce.number().int().positive().optional(),
      limit: z.coerce.number().int().min(1).max(500).default(100),
    }),
    response: z.object({ events: z.array(AuditEventSchema), nextCursor: z.number().nullable() }),
    handler: async ({ ctx, deps, query }) => {
      const events = await listAudit(deps.store.db, ctx.scope, {
        action: query.action,
        actorId: query.actor,
        after: query.cursor,
        limit: query.limit,
      });
      const last = events.at(-1);
      return { events, nextCursor: events.length === query.limit && last ? last.seq : null };
    },
  }),
];
