/**
 * The policy decision for an agent with 50 grants in an org of 1,000 agents (50,000 grants):
 * Cedar on the preparsed set of the grants that can apply to that agent and tool. Baselines in
 * the same run: Cedar evaluating all 50 of the agent's grants from text, and a bare JS set lookup.
 */
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { PolicyEngine } from '../src/policy/engine.ts';
import { compileGrant, type Grant } from '../src/policy/grants.ts';
import { figures, report, sample } from './stats.ts';

const AGENTS = 1000;
const GRANTS = 50;
const engine = new PolicyEngine();
const lookup = new Set<string>();
for (let a = 0; a < AGENTS; a++) {
  const grants: Grant[] = [];
  for (let g = 0; g < GRANTS; g++) {
    grants.push({
      id: `g${a}_${g}`,
      agentId: `agt_${a}`,
      connectionId: `con_${g % 5}`,
      tool: `tool_${g}`,
      effect: g === 49 ? 'deny' : 'allow',
      constraints: g % 2 ? [{ arg: 'path', prefix: '/data/' }] : [{ arg: 'limit', max: 100 }],
      requiresApproval: g % 10 === 3,
      notBefore: 1_700_000_000,
    });
    lookup.add(`agt_${a}|con_${g % 5}|tool_${g}`);
  }
  engine.setGrants(`agt_${a}`, grants);
}
const now = 1_800_000_000;
let i = 0;
const next = () => {
  const a = i++ % AGENTS;
  const g = (i * 7) % 48;
  return {
    agentId: `agt_${a}`,
    connectionId: `con_${g % 5}`,
    tool: `tool_${g}`,
    args: { path: '/data/x', limit: 10 },
    now,
    approved: false,
  };
};
// Warm every (agent, tool) set once, as a running gateway would have.
for (let k = 0; k < AGENTS * 48; k++) engine.decide(next());
const decided = figures(
  'Cedar decision, relevant preparsed set (1,000 agents × 50 grants)',
  await sample(20_000, () => engine.decide(next())),
);
const allText = Array.from({ length: GRANTS }, (_, g) =>
  compileGrant({
    id: `p${g}`,
    agentId: 'agt_1',
    connectionId: `con_${g % 5}`,
    tool: `tool_${g}`,
    effect: 'allow',
    constraints: [{ arg: 'limit', max: 100 }],
    requiresApproval: false,
  }),
).join('\n');
const naive = figures(
  'baseline: Cedar on all 50 grants, parsed per call',
  await sample(2_000, () =>
    cedar.isAuthorized({
      principal: { type: 'Paddock::Agent', id: 'agt_1' },
      action: { type: 'Paddock::Action', id: 'call' },
      resource: { type: 'Paddock::Tool', id: 'con_2/tool_7' },
      context: { args: { limit: 10 }, now, approved: false },
      policies: { staticPolicies: allText },
      entities: [],
    }),
  ),
);
const js = figures(
  'baseline: bare JS set lookup (no constraints)',
  await sample(20_000, () => {
    const r = next();
    return lookup.has(`${r.agentId}|${r.connectionId}|${r.tool}`);
  }),
);
report([js, decided, naive], js);
