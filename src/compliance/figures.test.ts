import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeFigure, type FigureEntry } from './figures.ts';

const e = (
  index: number,
  action: string,
  outcome = 'success',
  time = `2026-12-0${1 + (index % 3)}T10:00:00.000Z`,
): FigureEntry => ({
  index,
  time,
  actor: { type: 'agent', id: index % 2 ? 'agt_a' : 'agt_b' },
  action,
  target: null,
  outcome,
});

test('figures count header fields only, filtered and grouped, the same whatever the order', () => {
  const entries = [
    e(0, 'tool.call.allowed'),
    e(1, 'tool.call.denied', 'denied'),
    e(2, 'tool.call.denied', 'denied'),
    e(3, 'person.invited'),
    e(4, 'tool.call.completed', 'failure'),
  ];
  assert.equal(computeFigure({ name: 'denials', where: { actions: ['tool.call.denied'] } }, entries), 2);
  assert.deepEqual(
    computeFigure({ name: 'calls', where: { prefix: 'tool.call.' }, by: 'outcome' }, entries),
    {
      denied: 2,
      failure: 1,
      success: 1,
    },
  );
  assert.deepEqual(
    computeFigure({ name: 'calls', where: { prefix: 'tool.call.' }, by: 'outcome' }, [...entries].reverse()),
    computeFigure({ name: 'calls', where: { prefix: 'tool.call.' }, by: 'outcome' }, entries),
  );
  assert.equal(
    computeFigure(
      {
        name: 'window',
        where: { prefix: 'tool.', from: '2026-12-02T00:00:00.000Z', to: '2026-12-03T00:00:00.000Z' },
      },
      entries,
    ),
    2,
  );
  assert.deepEqual(computeFigure({ name: 'by agent', where: { outcome: 'denied' }, by: 'actor' }, entries), {
    'agent:agt_a': 1,
    'agent:agt_b': 1,
  });
});

test('a figure may keep to one actor or one target (absent: any, so older figures count the same)', () => {
  const entries = [
    { ...e(0, 'tool.call.allowed'), target: { type: 'tool', id: 'con_1/echo' } },
    { ...e(1, 'tool.call.allowed'), target: { type: 'tool', id: 'con_1/echo' } },
    { ...e(3, 'tool.call.allowed'), target: { type: 'tool', id: 'con_1/sum' } },
    e(5, 'tool.call.denied', 'denied'),
  ];
  const spec = { name: 'calls', where: { actions: ['tool.call.allowed'] }, by: 'target' as const };
  assert.deepEqual(computeFigure({ ...spec, where: { ...spec.where, actor: 'agent:agt_a' } }, entries), {
    'tool:con_1/echo': 1,
    'tool:con_1/sum': 1,
  });
  assert.equal(computeFigure({ name: 'echo', where: { target: 'tool:con_1/echo' } }, entries), 2);
  assert.equal(computeFigure({ name: 'untargeted', where: { target: '-' } }, entries), 1);
  assert.deepEqual(computeFigure(spec, entries), { 'tool:con_1/echo': 2, 'tool:con_1/sum': 1 });
});
