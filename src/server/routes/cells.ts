/** The org's cell: its state, health history, and (admins) start, stop, restart. */
import { z } from 'zod';
import { recordChange } from '../../audit/index.ts';
import { type CellSupervisor, cellHistory } from '../../cells/index.ts';
import { PaddockError } from '../../errors/index.ts';
import type { Deps } from '../deps.ts';
import { defineRoute } from '../route.ts';
import { OrgParams, Timestamp } from '../schemas.ts';

export const CellSchema = z
  .object({
    state: z.enum(['starting', 'ready', 'unhealthy', 'backoff', 'stopped']),
    pid: z.number().nullable(),
    startedAt: Timestamp.nullable(),
    readyAt: Timestamp.nullable(),
    restarts: z.number(),
    lastHeartbeatAt: Timestamp.nullable(),
    rssBytes: z.number().nullable(),
    sandbox: z.string(),
  })
  .meta({ id: 'Cell' });

function supervisor(deps: Deps): CellSupervisor {
  if (!deps.cells)
    throw new PaddockError(503, 'sandbox_unavailable', deps.sandboxProblem ?? 'Org cells are not available.');
  return deps.cells;
}

const Action = z.enum(['start', 'stop', 'restart']);

export const CellStatusSchema = z.object({
  cell: CellSchema.nullable(),
  sandbox: z.string().nullable(),
  guarantees: z.array(z.string()).describe('what the sandbox enforces on this host, in words'),
  problem: z.string().nullable(),
});
export const CellHistorySchema = z.object({
  events: z.array(
    z.object({ time: Timestamp, state: z.string(), detail: z.record(z.string(), z.unknown()) }),
  ),
});

export const cellRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/cell',
    summary: "The organization's cell: state, uptime, restarts, memory, and what its sandbox enforces",
    tag: 'cells',
    access: { permission: 'cells.read' },
    params: OrgParams,
    response: CellStatusSchema,
    handler: async ({ ctx, deps }) => {
      const info = deps.cells?.get(ctx.scope.orgId);
      const { orgId: _, ...cell } = info ?? { orgId: '' };
      return {
        cell: info ? (cell as z.input<typeof CellSchema>) : null,
        sandbox: deps.cells?.sandbox ?? null,
        guarantees: deps.sandbox?.guarantees ?? [],
        problem: deps.sandboxProblem,
      };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/orgs/{org}/cell/history',
    summary: "The cell's health history (starts, exits, restarts, health changes), newest first",
    tag: 'cells',
    access: { permission: 'cells.read' },
    params: OrgParams,
    query: z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
    response: CellHistorySchema,
    handler: async ({ ctx, deps, query }) => ({
      events: await cellHistory(deps.store.db, ctx.scope, query.limit),
    }),
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/orgs/{org}/cell/{action}',
    summary: "Start, stop or restart the organization's cell",
    tag: 'cells',
    access: { permission: 'cells.manage' },
    params: OrgParams.extend({ action: Action }),
    response: CellSchema,
    handler: async ({ ctx, deps, params }) => {
      const cells = supervisor(deps);
      await deps.store.db.transaction().execute((trx) =>
        recordChange(trx, ctx, {
          action: `cell.${params.action}.requested`,
          target: { type: 'cell', id: ctx.scope.orgId },
        }),
      );
      const reason = `${params.action} asked by ${ctx.actor.type} ${ctx.actor.id}`;
      if (params.action === 'stop') await cells.stop(ctx.scope.orgId, reason);
      else if (params.action === 'restart') await cells.restart(ctx.scope.orgId, reason);
      else await cells.ensure(ctx.scope.orgId);
      const { orgId: _, ...info } = cells.get(ctx.scope.orgId)!;
      return info;
    },
  }),
];
