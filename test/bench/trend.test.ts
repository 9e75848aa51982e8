import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trend } from '../../bench/lib/trend.js';

/** The soak's leak verdict: a series that levels off passes, one that keeps climbing fails. */

test('a series that rises while warming up and then levels off is not a leak', () => {
  const ys = [80, 120, 150, 160, 162, 161, 163, 162, 161, 162, 163, 162, 161, 162, 162];
  assert.equal(trend(ys).growing, false);
});

test('a series that keeps climbing is a leak', () => {
  const ys = Array.from({ length: 30 }, (_, i) => 100 + i * 2);
  const t = trend(ys);
  assert.equal(t.growing, true);
  assert.ok(Math.abs(t.slopePerHour - 120) < 1e-6, 'two units a minute is 120 an hour');
});

test('noise around a plateau is not a leak', () => {
  const ys = Array.from({ length: 30 }, (_, i) => 50 + (i % 2 ? 3 : -3));
  assert.equal(trend(ys).growing, false);
});

test('a sawtooth (rotation, checkpoints) is not a leak', () => {
  const ys = Array.from({ length: 30 }, (_, i) => 10 + (i % 5) * 4);
  assert.equal(trend(ys).growing, false);
});
