/**
 * PAD-PI-01 — output validation and the feedback loop. Evidence: which agents declare an output
 * contract (a JSON schema their answers are validated against) and which carry checks (block or
 * redact on answers and tool arguments); the team's flags on answers, open and resolved. The test
 * fails while a flag has waited for an admin's resolution longer than the review window: the loop
 * is only a control if someone closes it.
 */
import { count, DAY_MS, dataOf, type PaddockControl, some, stateDraft } from './context.ts';

/** How long a flag may stay open before the control fails. */
const REVIEW_DAYS = 14;

interface Contracts {
  agents: number;
  withSchema: string[];
  withChecks: Array<{ agent: string; rules: Array<{ name: string; action: string; on: string[] }> }>;
}
interface Flags {
  open: number;
  resolved: number;
  overdue: string[];
}

export const outputs: PaddockControl = {
  id: 'PAD-PI-01',
  title: 'Output validation and the feedback loop',
  description:
    'Agents’ answers are validated against their output contract (a JSON schema, with one more try, then a failed run) and held to post-processing checks (blocked or redacted before delivery, tool arguments included); people flag wrong answers with the correction, linked to the audited answer, and admins resolve each flag within 14 days.',
  criteria: ['PI1.1', 'PI1.3', 'PI1.4'],
  async collect(ctx) {
    const agents = await ctx.db
      .selectFrom('agents')
      .select(['id', 'output_schema', 'checks'])
      .where('org_id', '=', ctx.orgId)
      .orderBy('id')
      .execute();
    const flags = await ctx.db
      .selectFrom('feedback')
      .select(['id', 'status', 'created_at'])
      .where('org_id', '=', ctx.orgId)
      .execute();
    const due = new Date(ctx.now.getTime() - REVIEW_DAYS * DAY_MS).toISOString();
    return [
      stateDraft('outputs.schemas', {
        agents: agents.length,
        withSchema: agents.filter((a) => a.output_schema !== null).map((a) => a.id),
        withChecks: agents
          .filter((a) => a.checks !== null)
          .map((a) => ({
            agent: a.id,
            rules: (
              JSON.parse(a.checks!) as { rules: Array<{ name: string; action: string; on: string[] }> }
            ).rules.map((r) => ({ name: r.name, action: r.action, on: r.on })),
          })),
      } satisfies Contracts),
      stateDraft('outputs.feedback', {
        open: flags.filter((f) => f.status === 'open').length,
        resolved: flags.filter((f) => f.status === 'resolved').length,
        overdue: flags.filter((f) => f.status === 'open' && f.created_at < due).map((f) => f.id),
      } satisfies Flags),
    ];
  },
  test(evidence) {
    const c = dataOf<Contracts>(evidence, 'outputs.schemas');
    const f = dataOf<Flags>(evidence, 'outputs.feedback');
    if (!c || !f)
      return { status: 'fail', reason: 'The evidence on output contracts and feedback is missing.' };
    if (c.agents === 0)
      return {
        status: 'not_applicable',
        reason: 'The organization has no agents, so no answers to validate.',
      };
    if (f.overdue.length > 0) {
      return {
        status: 'fail',
        reason: `${count(f.overdue.length, 'flag')} on agents’ answers ${f.overdue.length === 1 ? 'has' : 'have'} waited more than ${REVIEW_DAYS} days for a resolution: ${some(f.overdue)}.`,
      };
    }
    return {
      status: 'pass',
      reason: `${c.withSchema.length} of ${count(c.agents, 'agent')} declare an output schema and ${c.withChecks.length} carry checks; ${count(f.open + f.resolved, 'flag')} on answers (${f.resolved} resolved), none open past ${REVIEW_DAYS} days.`,
    };
  },
};
