/**
 * Reads the org's configuration the data-flow diagram draws: people by role, the channels runs
 * came through, agents with their model and the connections they are granted, the hosts those
 * connections reach. Read-only and scoped to the org; every list sorted.
 */
import type { Db } from '../../store/index.ts';
import type { DataFlow } from './source.ts';

const hostOf = (c: { transport: string; url: string | null; command: string | null }) => {
  if (c.transport === 'http' && c.url) {
    try {
      return new URL(c.url).host;
    } catch {
      return 'unparsable URL';
    }
  }
  return `the org's cell (${c.command ?? 'stdio'})`;
};

export async function readDataFlow(
  db: Db,
  org: { id: string; slug: string },
  where: { keys: string; logs: string },
): Promise<DataFlow> {
  const roles = await db
    .selectFrom('memberships')
    .select(['role', (eb) => eb.fn.countAll<number>().as('n')])
    .where('org_id', '=', org.id)
    .groupBy('role')
    .orderBy('role')
    .execute();
  const via = await db
    .selectFrom('runs')
    .select('via')
    .distinct()
    .where('org_id', '=', org.id)
    .orderBy('via')
    .execute();
  const tokens = await db
    .selectFrom('agent_tokens')
    .select('id')
    .where('org_id', '=', org.id)
    .limit(1)
    .execute();
  const agents = await db
    .selectFrom('agents')
    .select(['id', 'name', 'model'])
    .where('org_id', '=', org.id)
    .orderBy('name')
    .orderBy('id')
    .execute();
  const grants = await db
    .selectFrom('grants')
    .select(['agent_id', 'connection_id'])
    .distinct()
    .where('org_id', '=', org.id)
    .where('status', '!=', 'revoked')
    .where('effect', '=', 'allow')
    .execute();
  const connections = await db
    .selectFrom('connections')
    .select(['id', 'name', 'transport', 'url', 'command'])
    .where('org_id', '=', org.id)
    .orderBy('name')
    .orderBy('id')
    .execute();
  const keys = await db
    .selectFrom('secrets')
    .select(['provider', 'base_url'])
    .where('org_id', '=', org.id)
    .where('kind', '=', 'model_key')
    .execute();
  const channels = via.map((v) => v.via);
  if (tokens.length > 0) channels.push('MCP clients (agent tokens)');
  const models = agents.map((a) => {
    const m = JSON.parse(a.model) as { provider?: string; model?: string };
    return { ...a, provider: m.provider ?? 'unknown', modelName: m.model ?? '' };
  });
  const endpoints = new Map<string, string | null>();
  for (const k of keys)
    if (k.provider) endpoints.set(k.provider, k.base_url ? new URL(k.base_url).host : null);
  for (const a of models) if (!endpoints.has(a.provider)) endpoints.set(a.provider, null);
  return {
    org: org.slug,
    people: roles.map((r) => ({ role: r.role, count: Number(r.n) })),
    channels: [...new Set(channels)].sort(),
    agents: models.map((a) => ({
      id: a.id,
      name: a.name,
      provider: a.provider,
      model: a.modelName,
      connections: grants
        .filter((g) => g.agent_id === a.id)
        .map((g) => g.connection_id)
        .sort(),
    })),
    providers: [...endpoints]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([id, endpoint]) => ({ id, endpoint })),
    connections: connections.map((c) => ({
      id: c.id,
      name: c.name,
      transport: c.transport,
      host: hostOf(c),
    })),
    keys: where.keys,
    logs: where.logs,
  };
}
