/** Denials in words: each way a call can fall outside an agent's grants names itself and what to do. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PolicyEngine } from './engine.ts';
import { explainDenial } from './explain.ts';
import type { Grant } from './grants.ts';

const grant = (g: Partial<Grant> & Pick<Grant, 'id'>): Grant => ({
  agentId: 'agt_a',
  connectionId: 'con_1',
  tool: 'read_file',
  effect: 'allow',
  constraints: [],
  requiresApproval: false,
  ...g,
});
const NOW = 1_800_000_000;

/** Cedar's decision on the call, then its explanation. */
function why(grants: Grant[], args: Record<string, unknown>, suspended = false, now = NOW) {
  const engine = new PolicyEngine();
  engine.setGrants('agt_a', grants);
  const req = { agentId: 'agt_a', connectionId: 'con_1', tool: 'read_file', args, now, approved: false };
  const decision = engine.decide(req);
  assert.equal(decision.allowed, false, 'Cedar denies the call');
  return explainDenial(
    decision,
    engine.relevant('agt_a', { connectionId: 'con_1', tool: 'read_file' }),
    { name: 'files__read_file', args, now },
    suspended,
  );
}

test('no grant for the tool, or one suspended since the tool changed', () => {
  const none = why([grant({ id: 'g_other', tool: 'write_file' })], {});
  assert.equal(none.kind, 'no_grant');
  assert.equal(none.reason, 'no grant for this tool');
  assert.match(
    none.message,
    /^No grant allows this agent to call files__read_file: it has none for this tool\./,
  );
  const suspended = why([], {}, true);
  assert.equal(suspended.kind, 'grant_suspended');
  assert.match(suspended.message, /suspended because the tool's definition changed/);
});

test('arguments outside the grant name the constraint that was not met, and a missing argument', () => {
  const g = grant({
    id: 'g_docs',
    constraints: [
      { arg: 'path', prefix: '/srv/docs/' },
      { arg: 'lines', max: 100 },
    ],
  });
  const escaping = why([g], { path: '/srv/docs/../../etc/passwd', lines: 10 });
  assert.equal(escaping.kind, 'outside_grant');
  assert.deepEqual(escaping.unmet, [
    { grant: 'g_docs', conditions: ['path starts with "/srv/docs/" (no "..")'] },
  ]);
  assert.match(
    escaping.message,
    /^No grant allows files__read_file with these arguments: the grant needs path starts with "\/srv\/docs\/" \(no "\.\."\)\. Call again within the grant/,
  );
  const missing = why([g], { path: '/srv/docs/a' });
  assert.deepEqual(missing.unmet[0]!.conditions, ['lines ≤ 100 (lines is missing)']);
  const two = why([g, grant({ id: 'g_tmp', constraints: [{ arg: 'path', oneOf: ['/tmp/x'] }] })], {
    path: '/etc',
    lines: 1,
  });
  assert.match(
    two.reason,
    /needs path starts with "\/srv\/docs\/" \(no "\.\."\); or path is one of "\/tmp\/x"$/,
  );
});

test("outside the grant's time window, and a deny rule", () => {
  const later = why([grant({ id: 'g_later', notBefore: NOW + 60 })], {});
  assert.equal(later.kind, 'outside_grant');
  assert.deepEqual(later.unmet[0]!.conditions, [
    `it is ${new Date((NOW + 60) * 1000).toISOString()} or later`,
  ]);
  const deny = why([grant({ id: 'g_all' }), grant({ id: 'g_never', effect: 'deny' })], {});
  assert.equal(deny.kind, 'deny_rule');
  assert.equal(deny.reason, 'an explicit deny');
  assert.match(deny.message, /^A deny rule forbids this agent to call files__read_file\./);
});

test('the new constraints are explained as Cedar decides them', async () => {
  const { meets } = await import('./explain.ts');
  assert.equal(meets({ arg: 'r', eachOneOf: ['a'] }, ['a', 'a']), true);
  assert.equal(meets({ arg: 'r', eachOneOf: ['a'] }, ['a', 'b']), false);
  assert.equal(meets({ arg: 'b', notContains: ['www.'] }, undefined), true);
  assert.equal(meets({ arg: 'b', notContains: ['www.'] }, 'go to www.x'), false);
  assert.equal(meets({ arg: 'b', absent: true }, null), true);
  assert.equal(meets({ arg: 'b', absent: true }, ''), false);
  assert.equal(meets({ arg: 'a', max: 98.7 }, 98.7), true);
  assert.equal(meets({ arg: 'a', max: 98.7 }, 98.71), false);
});
