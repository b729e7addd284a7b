import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkConstraintArguments } from './grant-arguments.ts';
import { argTypes } from './grants-service.ts';

const SCHEMA = {
  type: 'object',
  properties: {
    path: { type: 'string' },
    limit: { type: 'integer' },
    options: { type: 'object' },
    ratio: { type: 'number' },
  },
};

function refusal(fn: () => void): { message: string; details: unknown } {
  try {
    fn();
  } catch (err) {
    const e = err as { code: string; status: number; message: string; details: unknown };
    assert.deepEqual([e.status, e.code], [400, 'invalid_grant']);
    return { message: e.message, details: e.details };
  }
  assert.fail('the grant was accepted');
}

test('a constraint on an argument the tool lacks names the arguments it has', () => {
  const r = refusal(() =>
    checkConstraintArguments('read_file', SCHEMA, argTypes(SCHEMA), [{ arg: 'file', oneOf: ['a'] }]),
  );
  assert.equal(
    r.message,
    '"read_file" has no argument "file". Its arguments: "path", "limit", "options", "ratio".',
  );
  assert.deepEqual(r.details, { argument: 'file', arguments: ['path', 'limit', 'options', 'ratio'] });
});

test('a tool without arguments says so', () => {
  const r = refusal(() =>
    checkConstraintArguments('ping', { type: 'object' }, {}, [{ arg: 'host', oneOf: ['a'] }]),
  );
  assert.equal(r.message, '"ping" takes no arguments, so a grant of it cannot constrain "host".');
});

test('an argument a grant cannot compare names those it can', () => {
  const r = refusal(() =>
    checkConstraintArguments('read_file', SCHEMA, argTypes(SCHEMA), [{ arg: 'options', oneOf: ['a'] }]),
  );
  assert.equal(
    r.message,
    'A grant cannot constrain "options" of "read_file": only text, number, true/false and list-of-text arguments can be compared (here: "path", "limit", "ratio").',
  );
  // Required absent is the one thing a grant can say of it.
  checkConstraintArguments('read_file', SCHEMA, argTypes(SCHEMA), [{ arg: 'options', absent: true }]);
});

test('arguments it has pass; hostile names are quoted and a long list is cut', () => {
  checkConstraintArguments('read_file', SCHEMA, argTypes(SCHEMA), [
    { arg: 'path', prefix: '/' },
    { arg: 'limit', max: 5 },
  ]);
  const many = {
    properties: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`a${i}"\n`, { type: 'string' }])),
  };
  const r = refusal(() => checkConstraintArguments('t', many, argTypes(many), [{ arg: 'x', oneOf: ['a'] }]));
  assert.match(r.message, /"a0\\"\\n", .* and 8 more\.$/);
  assert.doesNotMatch(r.message, /\n/, 'no raw line break from a tool’s schema');
});
