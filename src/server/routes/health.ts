/** Liveness and readiness for load balancers and supervisors. */
import { sql } from 'kysely';
import { z } from 'zod';
import { PaddockError } from '../../errors/index.ts';
import { defineRoute } from '../route.ts';

export const healthRoutes = [
  defineRoute({
    method: 'get',
    path: '/healthz',
    summary: 'Liveness: the process answers',
    tag: 'health',
    access: 'public',
    response: z.object({ status: z.literal('ok') }),
    handler: async () => ({ status: 'ok' as const }),
  }),
  defineRoute({
    method: 'get',
    path: '/readyz',
    summary: 'Readiness: the database answers',
    tag: 'health',
    access: 'public',
    response: z.object({ status: z.literal('ready'), store: z.enum(['sqlite', 'postgres']) }),
    handler: async ({ deps }) => {
      try {
        await sql`select 1`.execute(deps.store.db);
      } catch (err) {
        throw new PaddockError(503, 'not_ready', 'The database does not answer.', {
          cause: err,
          retryable: true,
        });
      }
      return { status: 'ready' as const, store: deps.store.dialect };
    },
  }),
];
