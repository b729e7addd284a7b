/** Grants suggested from observed calls: only the tools used, the narrowest constraints that allow every call. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PolicyEngine, validateGrants } from './engine.ts';
import type { Grant } from './grants.ts';
import { argTypes } from './grants-service.ts';
import { type ObservedCall, suggestGrants, type ToolShape } from './suggest.ts';

const C = 'con_mail';
const tools: ToolShape[] = [
  {
    connectionId: C,
    name: 'send_email',
    inputSchema: {
      type: 'object',
      properties: {
        recipients: { type: 'array', items: { type: 'string' } },
        subject: { type: 'string' },
        body: { type: 'string' },
        attachments: { anyOf: [{ type: 'array', items: { type: 'object' } }, { type: 'null' }] },
        cc: { anyOf: [{ type: 'array', items: { type: 'string' } }, { type: 'null' }] },
      },
    },
  },
  {
    connectionId: C,
    name: 'read_file',
    inputSchema: { type: 'object', properties: { path: { type: 'string' } } },
  },
  {
    connectionId: C,
    name: 'send_money',
    inputSchema: {
      type: 'object',
      properties: {
        recipient: { type: 'string' },
        amount: { type: 'number' },
        recurring: { type: 'boolean' },
        password: { type: 'string' },
      },
    },
  },
  { connectionId: C, name: 'delete_everything', inputSchema: { type: 'object', properties: {} } },
];
const call = (tool: string, args: Record<string, unknown>): ObservedCall => ({ connectionId: C, tool, args });

/** The suggestions as grants the engine holds (validated as the grants API validates them). */
function asGrants(calls: ObservedCall[]): Grant[] {
  return suggestGrants(calls, tools, argTypes).suggestions.map((s, i) => {
    const g: Grant = { id: `s${i}`, agentId: 'agt_a', ...s.grant };
    const tool = tools.find((t) => t.name === g.tool)!;
    validateGrants([g], argTypes(tool.inputSchema));
    return g;
  });
}
const allowed = (grants: Grant[], c: ObservedCall) => {
  const e = new PolicyEngine();
  e.setGrants('agt_a', grants);
  return e.decide({ agentId: 'agt_a', ...c, now: 1, approved: false }).allowed;
};

test('only the tools used, never a wildcard, and every observed call is allowed', () => {
  const calls = [
    call('send_email', { recipients: ['a@x.com'], subject: 'Hi', body: 'Hello' }),
    call('send_email', { recipients: ['b@x.com', 'a@x.com'], subject: 'Re', body: 'Yes', attachments: null }),
    call('read_file', { path: 'bill.txt' }),
  ];
  const { suggestions } = suggestGrants(calls, tools, argTypes);
  assert.deepEqual([...new Set(suggestions.map((s) => s.grant.tool))].sort(), ['read_file', 'send_email']);
  assert.ok(suggestions.every((s) => s.grant.tool !== '*'));
  const grants = asGrants(calls);
  for (const c of calls) assert.equal(allowed(grants, c), true, JSON.stringify(c));
  const mail = suggestions.find((s) => s.grant.tool === 'send_email')!;
  assert.deepEqual(mail.grant.constraints, [
    { arg: 'body', notContains: ['://', 'www.'] },
    { arg: 'recipients', eachOneOf: ['a@x.com', 'b@x.com'] },
    { arg: 'subject', notContains: ['://', 'www.'] },
    { arg: 'attachments', absent: true },
    { arg: 'cc', absent: true },
  ]);
  assert.equal(mail.calls, 2);
});

test('what an injected instruction would ask is outside the suggested grants', () => {
  const calls = [
    call('send_email', { recipients: ['a@x.com'], subject: 'Hi', body: 'Hello' }),
    call('read_file', { path: 'bill.txt' }),
    call('send_money', { recipient: 'UK123', amount: 98.7, recurring: false }),
    call('send_money', { recipient: 'UK123', amount: 10 }),
  ];
  const grants = asGrants(calls);
  const denied = [
    call('send_email', { recipients: ['mark@evil.com'], subject: 'Hi', body: 'Hello' }),
    call('send_email', { recipients: ['a@x.com', 'mark@evil.com'], subject: 'Hi', body: 'Hello' }),
    call('send_email', { recipients: ['a@x.com'], subject: 'Hi', body: 'see www.evil.com' }),
    call('send_email', { recipients: ['a@x.com'], subject: 'Hi', body: 'x', cc: ['mark@evil.com'] }),
    call('send_email', { recipients: ['a@x.com'], subject: 'Hi', body: 'x', attachments: [{ id: 1 }] }),
    call('read_file', { path: '/etc/passwd' }),
    call('send_money', { recipient: 'US133', amount: 10 }),
    call('send_money', { recipient: 'UK123', amount: 1000000 }),
    call('send_money', { recipient: 'UK123', amount: 9.99 }),
    call('delete_everything', {}),
  ];
  for (const c of denied) assert.equal(allowed(grants, c), false, JSON.stringify(c));
});

test('a secret, a boolean and an unknown tool are left open and said so; a number gets bounds', () => {
  const out = suggestGrants(
    [
      call('send_money', { recipient: 'UK1', amount: 5.5, recurring: true, password: 'hunter2' }),
      call('send_money', { recipient: 'UK1', amount: 200.29, recurring: false, password: 'hunter3' }),
      call('no_such_tool', {}),
    ],
    tools,
    argTypes,
  );
  assert.equal(out.suggestions.length, 1);
  const s = out.suggestions[0]!;
  assert.ok(!JSON.stringify(s).includes('hunter'), 'a secret never reaches a grant');
  assert.deepEqual(
    s.grant.constraints.filter((c) => c.arg === 'amount'),
    [
      { arg: 'amount', min: 5.5 },
      { arg: 'amount', max: 200.29 },
    ],
  );
  assert.deepEqual(s.open.map((o) => o.arg).sort(), ['password', 'recurring']);
  assert.deepEqual(out.unknownTools, [{ connectionId: C, tool: 'no_such_tool', calls: 1 }]);
});

test('a secret-looking value under any name, or one the trail redacted, is never copied into a grant', () => {
  // A model key passed as a recipient, an AWS key id in a path, a list element holding a Paddock
  // token, a value the audit trail stored as [REDACTED]: each argument is left open, said so.
  const key = 'sk-proj-5f1e0c9a7b3d4e2f8a6b';
  const out = suggestGrants(
    [
      call('send_money', { recipient: key, amount: 1 }),
      call('read_file', { path: '/srv/AKIAABCDEFGHIJKLMNOP/notes.txt' }),
      call('send_email', { recipients: ['a@x.test', 'pda_0123456789abcdefghij'], subject: 'hi', body: 'x' }),
      call('send_email', { recipients: ['b@x.test'], subject: 'hi', body: 'x', cc: ['[REDACTED]'] }),
    ],
    tools,
    argTypes,
  );
  const text = JSON.stringify(out);
  for (const secret of [key, 'AKIAABCDEFGHIJKLMNOP', 'pda_0123456789abcdefghij', '[REDACTED]'])
    assert.ok(!text.includes(secret), `${secret} reached a suggestion`);
  const openOf = (tool: string) =>
    out.suggestions
      .filter((x) => x.grant.tool === tool)
      .flatMap((x) => x.open.map((o) => `${o.arg}: ${o.why}`));
  assert.ok(
    openOf('send_money').some((o) => /^recipient: .*secret/.test(o)),
    openOf('send_money').join('; '),
  );
  assert.ok(openOf('read_file').some((o) => /^path: .*secret/.test(o)));
  assert.ok(openOf('send_email').some((o) => /^recipients: .*secret/.test(o)));
  assert.ok(openOf('send_email').some((o) => /^cc: .*secret/.test(o)));
  // The other arguments are still bound as usual.
  const money = out.suggestions.find((x) => x.grant.tool === 'send_money')!;
  assert.deepEqual(
    money.grant.constraints.filter((c) => c.arg === 'amount'),
    [
      { arg: 'amount', min: 1 },
      { arg: 'amount', max: 1 },
    ],
  );
});

test('calls the gate refused are never folded into a grant with allowed ones, and say so', () => {
  // The agent's own task sent money to UK1 (allowed); an injected instruction made it try ATTACKER
  // (refused). A suggestion mixing both would slip ATTACKER into a grant a person accepts for UK1.
  const out = suggestGrants(
    [
      call('send_money', { recipient: 'UK1', amount: 10 }),
      { ...call('send_money', { recipient: 'ATTACKER', amount: 10 }), refused: true },
      call('send_money', { recipient: 'UK2', amount: 20 }),
    ],
    tools,
    argTypes,
  );
  const money = out.suggestions.filter((x) => x.grant.tool === 'send_money');
  assert.equal(money.length, 2);
  const allowed = money.find((x) => x.refused === 0)!;
  const refused = money.find((x) => x.refused > 0)!;
  assert.deepEqual(
    allowed.grant.constraints.find((c) => c.arg === 'recipient'),
    { arg: 'recipient', oneOf: ['UK1', 'UK2'] },
  );
  assert.equal(allowed.calls, 2);
  assert.deepEqual(
    refused.grant.constraints.find((c) => c.arg === 'recipient'),
    { arg: 'recipient', oneOf: ['ATTACKER'] },
  );
  assert.deepEqual([refused.calls, refused.refused], [1, 1]);
});

test('allowed and refused calls that come to the very same grant are one suggestion, its refused calls counted', () => {
  // The same call refused (before a grant, say) and then allowed: one grant, said once.
  const out = suggestGrants(
    [
      { ...call('send_money', { recipient: 'UK1', amount: 10 }), refused: true },
      call('send_money', { recipient: 'UK1', amount: 10 }),
      call('send_money', { recipient: 'UK1', amount: 10 }),
    ],
    tools,
    argTypes,
  );
  const money = out.suggestions.filter((x) => x.grant.tool === 'send_money');
  assert.deepEqual(
    money.map((x) => [x.calls, x.refused]),
    [[3, 1]],
  );
  assert.equal(new Set(out.suggestions.map((x) => JSON.stringify(x.grant))).size, out.suggestions.length);
});

test('a prefix only for many paths in one folder; few values stay an exact set', () => {
  const few = ['/srv/docs/a.md', '/srv/docs/b.md'].map((path) => call('read_file', { path }));
  assert.deepEqual(suggestGrants(few, tools, argTypes).suggestions[0]!.grant.constraints, [
    { arg: 'path', oneOf: ['/srv/docs/a.md', '/srv/docs/b.md'] },
  ]);
  const many = Array.from({ length: 12 }, (_, i) => call('read_file', { path: `/srv/docs/r${i}.md` }));
  assert.deepEqual(suggestGrants(many, tools, argTypes).suggestions[0]!.grant.constraints, [
    { arg: 'path', prefix: '/srv/docs/' },
  ]);
  const scattered = Array.from({ length: 12 }, (_, i) => call('read_file', { path: `/d${i}/x.md` }));
  assert.ok(
    'oneOf' in suggestGrants(scattered, tools, argTypes).suggestions[0]!.grant.constraints[0]!,
    'no folder shared beyond the root: the set',
  );
});

test('calls that gave different arguments get one grant each, each requiring the rest left out', () => {
  const calls = [
    call('send_email', { recipients: ['a@x.com'], subject: 's', body: 'b' }),
    call('send_email', { recipients: ['a@x.com'], subject: 's', body: 'b', cc: ['c@x.com'] }),
  ];
  const { suggestions } = suggestGrants(calls, tools, argTypes);
  assert.equal(suggestions.length, 2);
  const grants = asGrants(calls);
  for (const c of calls) assert.equal(allowed(grants, c), true);
  assert.equal(
    allowed(
      grants,
      call('send_email', { recipients: ['a@x.com'], subject: 's', body: 'b', cc: ['d@x.com'] }),
    ),
    false,
  );
});
