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

test('a decision that reads no context is kept per grants and action; new grants or a condition are decided anew', () => {
  const e = new PolicyEngine();
  const plain = grant({ id: 'plain', tool: 'read_file' });
  e.setGrants('agt_a', [plain, grant({ id: 'p', kind: 'prompt', tool: 'summary' })]);
  const first = e.decide(call('read_file', { path: '/a' }));
  assert.deepEqual(first.grants, ['plain']);
  first.grants.push('tampered');
  const again = e.decide(call('read_file', { path: '/anything', other: 1 }, { now: now + 10 ** 6 }));
  const fresh = decideOnce([plain], call('read_file'));
  assert.deepEqual([again.allowed, again.grants], [fresh.allowed, fresh.grants], 'as Cedar decides afresh');
  // A prompt's get and completion are decided per action, each as Cedar decides it.
  const get = { ...call('summary'), action: 'get' as const };
  assert.deepEqual(e.decide(get).grants, ['p']);
  assert.deepEqual(e.decide({ ...get, action: 'complete' as const }).grants, ['p']);
  // A deny added, then a window: each new set of grants is decided anew.
  e.setGrants('agt_a', [plain, grant({ id: 'no', tool: 'read_file', effect: 'deny' })]);
  assert.equal(e.decide(call('read_file')).allowed, false);
  assert.deepEqual(e.decide(call('read_file')).grants, ['no']);
  e.setGrants('agt_a', [grant({ id: 'window', tool: 'read_file', notAfter: now + 60 })]);
  assert.equal(e.decide(call('read_file')).allowed, true);
  assert.equal(
    e.decide(call('read_file', {}, { now: now + 61 })).allowed,
    false,
    'a window is read each time',
  );
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

test('a resource grant covers its URI exactly, or as a prefix that cannot be climbed out of; a tool grant covers no resource', () => {
  const e = new PolicyEngine();
  e.setGrants('agt_a', [
    grant({ id: 'r1', kind: 'resource', tool: 'file:///docs/', match: 'prefix' }),
    grant({ id: 'r2', kind: 'resource', tool: 'demo://one' }),
    grant({ id: 'r3', kind: 'resource', tool: 'file:///docs/secret/', match: 'prefix', effect: 'deny' }),
    grant({ id: 't1', tool: '*' }),
  ]);
  const read = (uri: string, extra: Partial<{ connectionId: string }> = {}) =>
    e.decide({ ...call(uri, {}, extra), action: 'read' as const });
  assert.deepEqual(read('file:///docs/a.md').grants, ['r1']);
  assert.deepEqual(read('demo://one').grants, ['r2']);
  for (const uri of ['demo://one/two', 'demo://on', 'file:///etc/passwd', 'file:///docs*x']) {
    assert.equal(read(uri).allowed, false, `${uri} is not granted`);
  }
  for (const uri of ['file:///docs/../etc/passwd', 'file:///docs/%2e%2e/etc', 'file:///docs/%2E%2E/x'])
    assert.equal(read(uri).allowed, false, `${uri} climbs out of the prefix`);
  const denied = read('file:///docs/secret/key');
  assert.equal(denied.allowed, false, 'a deny beats the wider allow');
  assert.deepEqual(denied.grants, ['r3']);
  assert.equal(read('file:///docs/a.md', { connectionId: 'con_other' }).allowed, false, 'another connection');
  assert.deepEqual(
    e.decide(call('file:///docs/a.md')).grants,
    ['t1'],
    'a tool of that name is the tool grant’s alone',
  );
  assert.equal(read('demo://two').allowed, false, 'and the tool grant * covers no resource');
  assert.equal(
    decideOnce([grant({ id: 'r1', kind: 'resource', tool: 'demo://one' })], {
      ...call('demo://one'),
      action: 'read',
    }).allowed,
    true,
  );
});

test('a prompt grant allows getting the prompt within its constraints and approval; completing its arguments needs neither', () => {
  const e = new PolicyEngine();
  e.setGrants('agt_a', [
    grant({ id: 'p1', kind: 'prompt', tool: 'summarize', constraints: [{ arg: 'topic', oneOf: ['docs'] }] }),
    grant({ id: 'p2', kind: 'prompt', tool: 'deploy', requiresApproval: true }),
    grant({ id: 'r1', kind: 'resource', tool: 'demo://res/', match: 'prefix' }),
  ]);
  const get = (name: string, args: Record<string, unknown>, approved = false) =>
    e.decide({ ...call(name, args, { approved }), action: 'get' as const });
  const complete = (name: string, completing: 'prompt' | 'resource') =>
    e.decide({ ...call(name), action: 'complete' as const, completing });
  assert.deepEqual(get('summarize', { topic: 'docs' }).grants, ['p1']);
  assert.equal(get('summarize', { topic: 'hr' }).allowed, false);
  assert.equal(get('deploy', {}).allowed, false, 'needs approval');
  assert.equal(get('deploy', {}, true).allowed, true);
  assert.equal(get('other', {}).allowed, false, 'default deny');
  assert.equal(e.decide(call('summarize', { topic: 'docs' })).allowed, false, 'no tool of that name');
  assert.equal(complete('summarize', 'prompt').allowed, true);
  assert.equal(complete('deploy', 'prompt').allowed, true, 'completing runs nothing: no approval');
  assert.equal(complete('other', 'prompt').allowed, false);
  assert.equal(complete('demo://res/{id}', 'resource').allowed, true, 'a template under the prefix');
  assert.equal(complete('demo://{path}', 'resource').allowed, false, 'a template wider than the grant');
  assert.equal(complete('summarize', 'resource').allowed, false, 'a prompt name is no resource');
});

test('prompt and resource grants validate against the schema, and their constraints against the arguments', () => {
  validateGrants(
    [
      grant({ id: 'p1', kind: 'prompt', tool: 'summarize', constraints: [{ arg: 'topic', prefix: 'd' }] }),
      grant({ id: 'p2', kind: 'prompt', tool: '*', requiresApproval: true, notAfter: now }),
      grant({ id: 'r1', kind: 'resource', tool: 'x://"a"*', match: 'prefix', requiresApproval: true }),
      grant({ id: 'r2', kind: 'resource', tool: 'x://b', effect: 'deny' }),
    ],
    { topic: 'String' },
  );
  assert.throws(
    () =>
      validateGrants(
        [grant({ id: 'p1', kind: 'prompt', tool: 's', constraints: [{ arg: 'nope', prefix: 'd' }] })],
        {},
      ),
    /invalid_grant|does not fit/,
  );
  assert.match(
    compileGrant(grant({ id: 'r1', kind: 'resource', tool: 'x://"a"*', match: 'prefix' })),
    /like "x:\/\/\\"a\\"\\\*\*"/,
  );
});

test('a list argument is bound element by element, a text argument by what it must not contain, an argument by being left out', () => {
  const e = new PolicyEngine();
  e.setGrants('agt_a', [
    grant({
      id: 'mail',
      tool: 'send_email',
      constraints: [
        { arg: 'recipients', eachOneOf: ['a@x.com', 'b@x.com'] },
        { arg: 'body', notContains: ['://', 'www.', 'a*b'] },
        { arg: 'attachments', absent: true },
      ],
    }),
  ]);
  const send = (args: Record<string, unknown>) => e.decide(call('send_email', args)).allowed;
  assert.equal(send({ recipients: ['a@x.com'], body: 'hi' }), true);
  assert.equal(
    send({ recipients: ['a@x.com', 'b@x.com'], body: 'hi', attachments: null }),
    true,
    'null is not given',
  );
  assert.equal(
    send({ recipients: ['a@x.com', 'evil@y.com'], body: 'hi' }),
    false,
    'one element outside the set',
  );
  assert.equal(send({ recipients: 'a@x.com', body: 'hi' }), false, 'a list argument given as text');
  assert.equal(send({ body: 'hi' }), false, 'a bound list argument must be given');
  assert.equal(send({ recipients: ['a@x.com'], body: 'see https://evil.example' }), false);
  assert.equal(send({ recipients: ['a@x.com'], body: 'visit www.evil.example' }), false);
  assert.equal(send({ recipients: ['a@x.com'], body: 'a*b' }), false, 'a * in a part is literal');
  assert.equal(
    send({ recipients: ['a@x.com'], body: 'ab and axb' }),
    true,
    'a * in a part is not a wildcard',
  );
  assert.equal(send({ recipients: ['a@x.com'], body: ['https://evil'] }), false, 'given, but not as text');
  assert.equal(send({ recipients: ['a@x.com'] }), true, 'a text argument left out contains nothing');
  assert.equal(send({ recipients: ['a@x.com'], body: 'hi', attachments: [{ file_id: '1' }] }), false);
});

test('bounds compare numbers with decimals exactly, and whole numbers as before', () => {
  const e = new PolicyEngine();
  e.setGrants('agt_a', [
    grant({
      id: 'pay',
      tool: 'send_money',
      constraints: [
        { arg: 'amount', max: 98.7 },
        { arg: 'amount', min: 0.5 },
        { arg: 'id', max: 7 },
      ],
    }),
  ]);
  const pay = (args: Record<string, unknown>) => e.decide(call('send_money', args)).allowed;
  assert.equal(pay({ amount: 98.7, id: 7 }), true);
  assert.equal(pay({ amount: 98, id: 1 }), true, 'a whole number against a decimal bound');
  assert.equal(pay({ amount: 98.7001, id: 7 }), false);
  assert.equal(pay({ amount: 1000000, id: 7 }), false);
  assert.equal(pay({ amount: 0.4999, id: 7 }), false);
  assert.equal(pay({ amount: 10, id: 8 }), false);
  assert.equal(pay({ amount: 10.00001, id: 7 }), false, 'no exact decimal form: not comparable, denied');
  assert.equal(pay({ amount: '10', id: 7 }), false, 'a number given as text');
});

test('the new constraints validate against the arguments’ types', () => {
  const args = {
    recipients: 'StringSet',
    body: 'String',
    amount: 'Decimal',
    n: 'Long',
    attachments: 'Other',
  } as const;
  validateGrants(
    [
      grant({
        id: 'ok',
        tool: 'send',
        constraints: [
          { arg: 'recipients', eachOneOf: ['a'] },
          { arg: 'body', notContains: ['x'] },
          { arg: 'amount', max: 1.25 },
          { arg: 'n', min: 2 },
          { arg: 'attachments', absent: true },
        ],
      }),
    ],
    args,
  );
  const refused = (c: Grant['constraints'][number], why: RegExp) =>
    assert.throws(
      () => validateGrants([grant({ id: 'bad', tool: 'send', constraints: [c] })], args),
      (err: any) => err.code === 'invalid_grant' && why.test(err.message),
      JSON.stringify(c),
    );
  refused({ arg: 'body', eachOneOf: ['a'] }, /impossible|not fit/);
  refused({ arg: 'recipients', oneOf: ['a'] }, /not fit|impossible|type/i);
  refused({ arg: 'attachments', max: 3 }, /impossible/);
  refused({ arg: 'nope', absent: true }, /no argument nope/);
  refused({ arg: 'nope', notContains: ['x'] }, /no argument nope/);
  refused({ arg: 'amount', max: 0.00001 }, /at most 4 decimals/);
});

test('what a server may ask of the agent has grants of its own: sampling and elicitation per connection, default deny, deny beats allow', () => {
  const e = new PolicyEngine();
  const ask = (action: 'sample' | 'elicit', connectionId = 'con_fs') => ({
    ...call('*', {}, { connectionId }),
    action,
  });
  assert.equal(e.decide(ask('sample')).allowed, false, 'default deny');
  e.setGrants('agt_a', [
    grant({ id: 'gs', kind: 'sampling', tool: '*' }),
    grant({ id: 'gt', tool: '*' }),
    grant({ id: 'gr', kind: 'resource', tool: 'file:///a/', match: 'prefix' }),
  ]);
  assert.deepEqual(e.decide(ask('sample')).grants, ['gs']);
  assert.equal(e.decide(ask('elicit')).allowed, false, 'a sampling grant allows no elicitation');
  assert.equal(e.decide(ask('sample', 'con_other')).allowed, false, 'only its own connection');
  // A tool grant of every tool allows no sampling; a resource grant allows subscribing as reading.
  e.setGrants('agt_a', [
    grant({ id: 'gt', tool: '*' }),
    grant({ id: 'gr', kind: 'resource', tool: 'file:///a/', match: 'prefix' }),
  ]);
  assert.equal(e.decide(ask('sample')).allowed, false);
  assert.equal(e.decide({ ...call('file:///a/x'), action: 'subscribe' }).allowed, true);
  assert.equal(e.decide({ ...call('file:///b/x'), action: 'subscribe' }).allowed, false);
  e.setGrants('agt_a', [
    grant({ id: 'ge', kind: 'elicitation', tool: '*' }),
    grant({ id: 'gd', kind: 'elicitation', tool: '*', effect: 'deny' }),
  ]);
  assert.equal(e.decide(ask('elicit')).allowed, false, 'an explicit deny beats the allow');
  validateGrants(
    [
      grant({ id: 'gs', kind: 'sampling', tool: '*' }),
      grant({ id: 'ge', kind: 'elicitation', tool: '*', notAfter: now }),
    ],
    {},
  );
  assert.equal(decideOnce([grant({ id: 'gs', kind: 'sampling', tool: '*' })], ask('sample')).allowed, true);
});
