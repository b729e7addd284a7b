/**
 * PAD-GATE-02 — approval for high-risk calls. Every granted tool is held to the rule in
 * `destructive.ts`; a destructive tool an agent may call without a person's approval fails the
 * control. Evidence: the high-risk tools granted and whether each needs approval; the approvals
 * of the period with requester, approver and latency; approval entries by action from the log.
 */
import { effectivePermissions } from '../../policy/permissions.ts';
import { destructiveReason } from '../destructive.ts';
import {
  type CollectorContext,
  count,
  type Draft,
  dataOf,
  figureDraft,
  type PaddockControl,
  some,
  stateDraft,
} from './context.ts';

interface HighRisk {
  tools: Array<{
    agent: string;
    agentName: string;
    connection: string;
    tool: string;
    why: string;
    needsApproval: boolean;
    grants: string[];
  }>;
}

interface Decisions {
  approvals: Array<{ id: string; status: string; latencyMs: number | null; selfApproved: boolean }>;
  byStatus: Record<string, number>;
  medianLatencyMs: number | null;
  selfApproved: number;
  twoPeopleRequired: boolean;
}

async function highRisk(ctx: CollectorContext): Promise<Draft> {
  const agents = await ctx.db
    .selectFrom('agents')
    .select(['id', 'name'])
    .where('org_id', '=', ctx.orgId)
    .orderBy('id')
    .execute();
  const tools: HighRisk['tools'] = [];
  for (const a of agents) {
    for (const p of await effectivePermissions(ctx.db, ctx.orgId, a.id)) {
      if (p.access === 'denied') continue;
      const why = destructiveReason(p.tool);
      if (!why) continue;
      tools.push({
        agent: a.id,
        agentName: a.name,
        connection: p.connectionId,
        tool: p.tool.name,
        why,
        needsApproval: p.needsApproval,
        grants: p.grants,
      });
    }
  }
  return stateDraft('tools.high_risk', {
    rule: 'destructive by MCP annotations when present, else by the words of the tool name and description (docs/compliance.md)',
    tools,
  });
}

async function decisions(ctx: CollectorContext): Promise<Draft> {
  const rows = await ctx.db
    .selectFrom('approvals')
    .select([
      'id',
      'agent_id',
      'connection_id',
      'tool',
      'status',
      'requested_by',
      'requested_at',
      'decided_by',
      'decided_at',
      'expires_at',
    ])
    .where('org_id', '=', ctx.orgId)
    .where('requested_at', '>=', ctx.period.from)
    .where('requested_at', '<', ctx.period.to)
    .orderBy('requested_at')
    .orderBy('id')
    .execute();
  const approvals = rows.map((r) => ({
    id: r.id,
    agent: r.agent_id,
    tool: `${r.connection_id}/${r.tool}`,
    status: r.status,
    requestedBy: r.requested_by,
    requestedAt: r.requested_at,
    decidedBy: r.decided_by,
    decidedAt: r.decided_at,
    latencyMs: r.decided_at ? new Date(r.decided_at).getTime() - new Date(r.requested_at).getTime() : null,
    selfApproved: r.decided_by !== null && r.decided_by === r.requested_by,
  }));
  const latencies = approvals
    .flatMap((a) => (a.latencyMs === null ? [] : [a.latencyMs]))
    .sort((x, y) => x - y);
  const byStatus: Record<string, number> = {};
  for (const a of approvals) byStatus[a.status] = (byStatus[a.status] ?? 0) + 1;
  return stateDraft('approvals.decisions', {
    approvals,
    byStatus,
    medianLatencyMs: latencies.length ? latencies[Math.floor(latencies.length / 2)]! : null,
    selfApproved: approvals.filter((a) => a.selfApproved).length,
    twoPeopleRequired: ctx.org.settings.approvalsNeedTwoPeople,
  });
}

export const approvalsControl: PaddockControl = {
  id: 'PAD-GATE-02',
  title: 'Approval for high-risk calls',
  description:
    'A tool that destroys, revokes or moves money runs only with a person’s approval, bound to the exact call (agent, tool, argument digest, policy version), single-use and expiring. The control fails when an agent may call such a tool without one.',
  criteria: ['CC5.1', 'CC6.1', 'CC6.3'],
  async collect(ctx) {
    return [
      await highRisk(ctx),
      await decisions(ctx),
      figureDraft(ctx, 'approvals.by_action', {
        name: 'approval entries by action',
        where: { prefix: 'approval.' },
        by: 'action',
      }),
    ];
  },
  test(evidence) {
    const risk = dataOf<HighRisk>(evidence, 'tools.high_risk');
    const dec = dataOf<Decisions>(evidence, 'approvals.decisions');
    if (!risk || !dec) return { status: 'fail', reason: 'The approvals evidence is missing.' };
    const open = risk.tools.filter((t) => !t.needsApproval);
    if (open.length > 0) {
      return {
        status: 'fail',
        reason: `${count(open.length, 'high-risk tool')} granted with no approval rule: ${some(open.map((t) => `${t.agentName} may call ${t.tool} (${t.why})`))}.`,
      };
    }
    const latency =
      dec.medianLatencyMs === null ? '' : ` (median decision ${Math.round(dec.medianLatencyMs / 1000)} s)`;
    const summary = `${count(risk.tools.length, 'high-risk tool')} granted, each needs a person’s approval; ${count(dec.approvals.length, 'approval request')} in the period${latency}`;
    if (dec.selfApproved > 0) {
      return {
        status: 'warning',
        reason: `${count(dec.selfApproved, 'approval')} decided by the person who asked for it (set approvalsNeedTwoPeople). ${summary}.`,
      };
    }
    return { status: 'pass', reason: `${summary}.` };
  },
};
