/**
 * The demo a new user sees at once: a connection to the demo order desk (in the org's sandbox),
 * an agent that thinks with the `demo` replay (no model key), and two grants — `lookup_order`
 * for team A's orders only, `refund` with a person's approval. Its one message shows a call
 * allowed, one denied by a grant's constraint, one waiting for approval, and the answer.
 */
import { fileURLToPath } from 'node:url';
import { createAgent } from '../agents/index.ts';
import { createConnection, type Opener, refreshTools } from '../connections/index.ts';
import { ConflictError } from '../errors/index.ts';
import type { OrgContext } from '../identity/context.ts';
import { createGrant } from '../policy/grants-service.ts';

export const DEMO_SERVER = fileURLToPath(new URL('./mcp-server.ts', import.meta.url));
export const DEMO_MESSAGE = 'Check orders A-1001 and B-2002, and refund 20 on A-1001.';

export interface Demo {
  agentId: string;
  connectionId: string;
  /** Whether the demo server's tools could be listed (it needs the org's sandbox). */
  listed: boolean;
  problem: string | null;
}

export async function createDemo(opener: Opener, ctx: OrgContext): Promise<Demo> {
  const db = opener.db;
  const taken = await db
    .selectFrom('agents')
    .select('id')
    .where('org_id', '=', ctx.scope.orgId)
    .where('name', '=', 'demo-assistant')
    .executeTakeFirst();
  if (taken) throw new ConflictError('demo_exists', 'This organization already has the demo agent.');
  const connection = await createConnection(db, ctx, {
    name: 'demo',
    transport: 'stdio',
    command: 'node',
    args: [DEMO_SERVER],
  });
  const agent = await createAgent(db, ctx, {
    name: 'demo-assistant',
    description:
      'A replayed conversation (no model): shows a call allowed, one denied, one waiting for approval.',
    scope: 'organization',
    instructions: 'You help with orders of team A. (This agent is a replay: it always plays the same demo.)',
    model: { provider: 'demo', model: 'replay' },
  });
  try {
    await refreshTools(opener, ctx, connection.id);
  } catch (err) {
    return { agentId: agent.id, connectionId: connection.id, listed: false, problem: (err as Error).message };
  }
  await createGrant(db, ctx, agent.id, {
    connectionId: connection.id,
    tool: 'lookup_order',
    effect: 'allow',
    constraints: [{ arg: 'orderId', prefix: 'A-' }],
    requiresApproval: false,
  });
  await createGrant(db, ctx, agent.id, {
    connectionId: connection.id,
    tool: 'refund',
    effect: 'allow',
    constraints: [],
    requiresApproval: true,
  });
  return { agentId: agent.id, connectionId: connection.id, listed: true, problem: null };
}
