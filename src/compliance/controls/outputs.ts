/**
 * PAD-PI-01 — output validation and the feedback loop. Output schemas, post-processing checks
 * and team feedback are issue 13, not built yet: the control says so (not applicable, with the
 * reason) instead of passing on nothing. Evidence kept meanwhile: which agents declare an output
 * schema.
 */
import { count, dataOf, type PaddockControl, stateDraft } from './context.ts';

export const outputs: PaddockControl = {
  id: 'PAD-PI-01',
  title: 'Output validation and the feedback loop',
  description:
    'Agents’ outputs are checked against their output contract (a JSON schema) and post-processing checks, and people flag bad outputs with the correction, linked to the audited action. Not built yet (issue 13).',
  criteria: ['PI1.1', 'PI1.3', 'PI1.4'],
  async collect(ctx) {
    const agents = await ctx.db
      .selectFrom('agents')
      .select(['id', 'output_schema'])
      .where('org_id', '=', ctx.orgId)
      .orderBy('id')
      .execute();
    return [
      stateDraft('outputs.schemas', {
        agents: agents.length,
        withSchema: agents.filter((a) => a.output_schema !== null).map((a) => a.id),
      }),
    ];
  },
  test(evidence) {
    const o = dataOf<{ agents: number; withSchema: string[] }>(evidence, 'outputs.schemas');
    return {
      status: 'not_applicable',
      reason: `Output validation and team feedback are not built yet (issue 13), so there is nothing to test${o ? `; ${count(o.withSchema.length, 'agent')} of ${o.agents} declare an output schema` : ''}.`,
    };
  },
};
