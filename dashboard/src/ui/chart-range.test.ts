import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MIN_SPAN_S, timeRange } from './chart-range.ts';

const T = Date.parse('2026-12-05T03:00:00Z') / 1000;

test('points that all share one instant sit in the middle of an hour, not years', () => {
  assert.deepEqual(timeRange([T]), [T - MIN_SPAN_S / 2, T + MIN_SPAN_S / 2]);
  assert.deepEqual(timeRange([T, T, T]), [T - MIN_SPAN_S / 2, T + MIN_SPAN_S / 2]);
});

test('points closer than an hour are centred in an hour; wider ones span exactly their points', () => {
  assert.deepEqual(timeRange([T, T + 60]), [T + 30 - MIN_SPAN_S / 2, T + 30 + MIN_SPAN_S / 2]);
  assert.deepEqual(timeRange([T + 7200, T, T + 86_400]), [T, T + 86_400]);
});

test('no points (or none readable) is the last hour', () => {
  const [min, max] = timeRange([Number.NaN]);
  assert.equal(max - min, MIN_SPAN_S);
  assert.ok(Math.abs(max - Date.now() / 1000) < 5);
});
