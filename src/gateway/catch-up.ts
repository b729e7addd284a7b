/**
 * Catching up after stop events may have been missed (this replica's listener was lost while
 * another replica sent them): what this replica holds is checked against the database. Calls of
 * agents now stopped (or deleted), or on agent tokens no longer live, end; sessions without a call
 * in flight close, so the next call reopens them with the connection and secrets as they stand.
 */
import { liveAgentTokenIds, runnableAgents } from '../agents/index.ts';
import type { Db } from '../store/index.ts';
import type { KillRegistry } from './kill-registry.ts';
import type { SessionPool } from './session-pool.ts';

export async function catchUp(db: Db, kills: KillRegistry, sessions: SessionPool): Promise<void> {
  const held = kills.holders();
  const agentIds = [...new Set([...held.map((h) => h.agentId), ...sessions.agentIds()])];
  const tokenIds = [...new Set(held.flatMap((h) => (h.token ? [h.token.id] : [])))];
  if (agentIds.length === 0) return;
  const [runnable, live] = await Promise.all([runnableAgents(db, agentIds), liveAgentTokenIds(db, tokenIds)]);
  kills.sweep((h) => {
    if (!runnable.has(h.agentId)) return { kind: 'agent', orgId: h.orgId, agentId: h.agentId };
    if (h.token && !live.has(h.token.id))
      return { kind: 'agent-tokens', orgId: h.orgId, tokenIds: [h.token.id] };
    return null;
  });
  await sessions.close({ unusedForMs: 0 });
}
