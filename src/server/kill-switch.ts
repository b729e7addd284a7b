/**
 * The kill switch for one agent, as the stop route and the compliance center's drills both
 * pull it: the gate and the runs brake the moment the stop is allowed, the stop commits (with
 * its audit entry), then every replica ends the agent's sessions and runs before this returns.
 */
import { type Agent, setAgentState } from '../agents/index.ts';
import type { OrgContext } from '../identity/index.ts';
import type { Deps } from './deps.ts';

export async function stopAgentNow(deps: Deps, ctx: OrgContext, agentId: string): Promise<Agent> {
  // Calls end the moment the stop is allowed; the acknowledgment waits until it is durable.
  let release = () => {};
  try {
    const agent = await setAgentState(deps.store.db, ctx, agentId, 'stopped', () => {
      release = deps.gateway.brake(ctx.scope.orgId, agentId);
      deps.runs.brake(ctx.scope.orgId, agentId, 'the agent was stopped');
    });
    // Committed: now end its MCP servers (and tell other replicas) before acknowledging.
    await deps.sessions.publish({ kind: 'agent', orgId: ctx.scope.orgId, agentId: agent.id });
    return agent;
  } finally {
    release();
  }
}
