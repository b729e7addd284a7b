/** The decide step alone: verdicts over grants held in memory, and grants loaded again only when their version moves. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { trustedScope } from '../../identity/index.ts';
import type { Grant } from '../../policy/grants.ts';
import { Decider, deniedRefusal } from './decide.ts';

const grant = (g: Partial<Grant> & Pick<Grant, 'id' | 'tool'>): Grant => ({
  agentId: 'agt_a',
  connectionId: 'con_1',
  effect: 'allow',
  constraints: [],
  requiresApproval: false,
  ...g,
});
const ask = (tool: string, args: Record<string, unknown> = {}) => ({
  agentId: 'agt_a',
  connectionId: 'con_1',
  tool,
  args,
  now: 1_800_000_000,
});
const scope = trustedScope('org_1');

/** A decider over `grants`, counting how often it loads them. */
function decider(grants: Grant[]) {
  const loads = { n: 0 };
  const d = new Decider(async () => {
    loads.n += 1;
    return grants;
  });
  return { d, loads };
}

test('allowed, needs approval, or denied: with the decision each carries', async () => {
  const { d } = decider([
    grant({ id: 'g_echo', tool: 'echo', constraints: [{ arg: 'message', prefix: 'ok:' }] }),
    grant({ id: 'g_sum', tool: 'get-sum', requiresApproval: true }),
    grant({ id: 'g_never', tool: 'get-env', effect: 'deny' }),
  ]);
  await d.prepare(scope, 'agt_a', 1);
  const allowed = d.verdict(ask('echo', { message: 'ok: fine' }));
  assert.equal(allowed.kind, 'allowed');
  assert.deepEqual(allowed.decision.grants, ['g_echo']);
  const approval = d.verdict(ask('get-sum', { a: 1, b: 2 }));
  assert.equal(approval.kind, 'needs-approval');
  assert.equal(approval.decision.allowed, true, 'the decision as approved');
  const outsideAsk = ask('echo', { message: 'rm -rf /' });
  const outside = d.verdict(outsideAsk);
  assert.equal(outside.kind, 'denied');
  const outsideRefusal = deniedRefusal(
    outside.decision,
    { name: 'everything__echo', ...outsideAsk },
    d.grantsFor(outsideAsk),
    false,
  );
  assert.equal(
    outsideRefusal.denial?.reason,
    'arguments outside the grant: needs message starts with "ok:" (no "..")',
  );
  assert.match(outsideRefusal.error.message, /^No grant allows everything__echo with these arguments/);
  const deniedAsk = ask('get-env');
  const denied = d.verdict(deniedAsk);
  assert.equal(denied.kind, 'denied');
  const refusal = deniedRefusal(
    denied.decision,
    { name: 'get-env', ...deniedAsk },
    d.grantsFor(deniedAsk),
    false,
  );
  assert.equal(refusal.error.code, 'tool_denied');
  assert.equal(refusal.denial?.reason, 'an explicit deny');
  assert.deepEqual(refusal.denial?.grants, ['g_never']);
});

test("the agent's grants are read again only when their version moves", async () => {
  const { d, loads } = decider([grant({ id: 'g1', tool: 'echo' })]);
  await d.prepare(scope, 'agt_a', 3);
  await d.prepare(scope, 'agt_a', 3);
  assert.equal(loads.n, 1);
  await d.prepare(scope, 'agt_a', 4);
  assert.equal(loads.n, 2);
  assert.equal(d.verdict(ask('echo')).kind, 'allowed');
});
