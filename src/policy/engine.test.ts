/** The policy decision: default deny, argument constraints, windows, approvals, deny beats allow, validation. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideOnce, PolicyEngine, validateGrants } from './engine.ts';
import { compileGrant, type Grant } from './grants.ts';

const now = 1_800_000_000;
const grant = (g: Partial<Grant> & Pick<Grant, 'id' | 'tool'>): Grant => ({
  agentId: 'agt_a',
  connectionId: 'con_fs',
  effect: 'allow',
  constraints: [],
  requiresApproval: false,
  ...g,
});
const call = (
  tool: string,
  args: Record<string, unknown> = {},
  extra: Partial<{ agentId: string; approved: boolean; now: number; connectionId: string }> = {},
) => ({
  agentId: 'agt_a',
  connectionId: 'con_fs',
  tool,
  args,
  now,
  approved: false,
  ...extra,
});

test('an agent with no grants is denied everything', () => {
  const e = new PolicyEngine();
  const d = e.decide(call('read_file', { path: '/data/a' }));
  assert.equal(d.allowed, false);
  assert.deepEqual(d.grants, []);
});

test('a granted tool is allowed only within its argument constraints', () => {
  const e = new PolicyEngine();
  e.setGrants('agt_a', [
    grant({ id: 'g1', tool: 'read_file', constraints: [{ arg: 'path', prefix: '/data/' }] }),
    grant({
      id: 'g2',
      tool: 'search',
      constraints: [
        { arg: 'limit', max: 50 },
        { arg: 'scope', oneOf: ['docs', 'code'] },
      ],
    }),
  ]);
  assert.deepEqual(e.decide(call('read_file', { path: '/data/report.txt' })).grants, ['g1']);
  assert.equal(e.decide(call('read_file', { path: '/etc/passwd' })).allowed, false);
  assert.equal(
    e.decide(call('read_file', { path: '/data*/../etc' })).allowed,
    false,
    'a * in the prefix is literal',
  );
  for (const path of ['/data/../etc/passwd', '/data/a/../../etc', '/data/..']) {
    assert.equal(e.decide(call('read_file', { path })).allowed, false, `${path} climbs out of the prefix`);
  }
  assert.equal(e.decide(call('read_file', {})).allowed, false, 'a missing constrained argument is denied');
  assert.equal(e.decide(call('search', { limit: 20, scope: 'docs' })).allowed, true);
  assert.equal(e.decide(call('search', { limit: 51, scope: 'docs' })).allowed, false);
  assert.equal(e.decide(call('search', { limit: 5, scope: 'mail' })).allowed, false);
  assert.equal(e.decide(call('write_file', { path: '/data/x' })).allowed, false, 'other tools stay denied');
  assert.equal(
    e.decide(call('read_file', { path: '/data/x' }, { agentId: 'agt_b' })).allowed,
    false,
    'other agents stay denied',
  );
  assert.equal(
    e.decide(call('read_file', { path: '/data/x' }, { connectionId: 'con_other' })).allowed,
    false,
  );
});

test('an explicit deny beats any allow, including a connection-wide grant', () => {
  const e = new PolicyEngine();
  e.setGrants('agt_a', [
    grant({ id: 'all', tool: '*' }),
    grant({ id: 'no-delete', tool: 'delete_file', effect: 'deny' }),
  ]);
  assert.equal(e.decide(call('read_file')).allowed, true);
  const d = e.decide(call('delete_file'));
  assert.equal(d.allowed, false);
  assert.deepEqual(d.grants, ['no-delete']);
});

test('time windows and approvals', () => {
  const e = new PolicyEngine();
  e.setGrants('agt_a', [
    grant({ id: 'window', tool: 'read_file', notBefore: now - 60, notAfter: now + 60 }),
    grant({ id: 'risky', tool: 'write_file', requiresApproval: true }),
  ]);
  assert.equal(e.decide(call('read_file')).allowed, true);
  assert.equal(e.decide(call('read_file', {}, { now: now + 61 })).allowed, false);
  assert.equal(e.decide(call('read_file', {}, { now: now - 61 })).allowed, false);
  assert.equal(e.decide(call('write_file')).allowed, false, 'not without an approval');
  assert.equal(e.decide(call('write_file', {}, { approved: true })).allowed, true);
});

test('revoking one grant leaves the others, and moves the policy version on', () => {
  const e = new PolicyEngine();
  const a = grant({ id: 'a', tool: 'read_file' });
  const b = grant({ id: 'b', tool: 'list_directory' });
  e.setGrants('agt_a', [a, b]);
  const v = e.decide(call('read_file')).policyVersion;
  e.setGrants('agt_a', [b]);
  assert.equal(e.decide(call('read_file')).allowed, false);
  assert.equal(e.decide(call('list_directory')).allowed, true);
  assert.notEqual(e.decide(call('list_directory')).policyVersion, v);
  e.setGrants('agt_a', [a, b]);
  assert.equal(e.decide(call('read_file')).policyVersion, v, 'the same grants, the same version');
  assert.equal(decideOnce([b, a], call('read_file')).policyVersion, v, 'in any process');
});

test('grants are validated against the tools’ argument types, with a clear error', () => {
  const args = { path: 'String', limit: 'Long' } as const;
  validateGrants(
    [grant({ id: 'ok', tool: 'read_file', constraints: [{ arg: 'path', prefix: '/data/' }] })],
    args,
  );
  assert.throws(
    () =>
      validateGrants(
        [grant({ id: 'bad', tool: 'read_file', constraints: [{ arg: 'limit', prefix: '/x' }] })],
        args,
      ),
    (err: any) => err.code === 'invalid_grant' && /like|Long|String/i.test(err.message),
  );
  assert.throws(
    () =>
      validateGrants(
        [grant({ id: 'bad2', tool: 'read_file', constraints: [{ arg: 'nope', max: 3 }] })],
        args,
      ),
    (err: any) => err.code === 'invalid_grant' && /impossible/.test(err.message),
  );
});

test('names are escaped: a grant cannot smuggle policy text', () => {
  const text = compileGrant(
    grant({ id: 'x"); permit(principal, action, resource); //', tool: 'a") || true || ("' }),
  );
  const e = new PolicyEngine();
  e.setGrants('agt_a', [
    grant({
      id: 'evil',
      tool: 'read_file", principal, resource) when { true }; permit(principal, action, resource',
    }),
  ]);
  assert.equal(e.decide(call('write_file')).allowed, false);
  assert.equal((text.match(/permit\(/g) ?? []).length, 1);
});

test('a one-off decision (dry run) agrees with the engine and keeps no state', () => {
  const grants = [
    grant({ id: 'g1', tool: 'read_file', constraints: [{ arg: 'path', prefix: '/data/' }] }),
    grant({ id: 'no', tool: 'delete_file', effect: 'deny' }),
    grant({ id: 'all', tool: '*' }),
  ];
  const e = new PolicyEngine();
  e.setGrants('agt_a', grants);
  for (const c of [
    call('read_file', { path: '/data/a' }),
    call('delete_file'),
    call('list_directory'),
    call('read_file', {}, { agentId: 'agt_b' }),
  ]) {
    const once = decideOnce(grants, c);
    const engine = e.decide(c);
    assert.equal(once.allowed, engine.allowed, c.tool);
    assert.deepEqual([...once.grants].sort(), [...engine.grants].sort(), c.tool);
  }
});
