import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attributeOutages } from '../../bench/chaos/attribute.js';
import { AvailabilityProber } from '../../bench/chaos/probes.js';
import type { Target } from '../../bench/lib/target.js';

/** Probes every 100 ms from `from` to `to` (inclusive), failed where `down(t)`. */
function prober(from: number, to: number, down: (t: number) => boolean): AvailabilityProber {
  const p = new AvailabilityProber({} as Target, 'token');
  for (let t = from; t <= to; t += 100) p.probes.push(down(t) ? { at: t, ok: false, ms: 3000, error: 'timeout' } : { at: t, ok: true, ms: 5 });
  return p;
}

test('an outage that starts after the next fault began is that fault\'s, not the previous one\'s', () => {
  // A root taken away 1000–1600 (served throughout), then the service frozen at 1700 until 2900.
  const p = prober(0, 5000, (t) => t >= 1700 && t < 3000);
  const [offline, hang] = attributeOutages([{ at: 1000, end: 1600 }, { at: 1700, end: 1700 }], p);
  assert.deepEqual(offline, { recoveryMs: 0, failedProbes: 0 });
  assert.deepEqual(hang, { recoveryMs: 1300, failedProbes: 13 });
});

test('failures a fault leaves running stay its own; a skipped fault owns nothing; a service that never answers again is unrecovered', () => {
  // A kill at 1000 down until 1500; a second fault at 1200 during that outage costs nothing of its own.
  const p = prober(0, 3000, (t) => t >= 1000 && t < 1600);
  const [kill, skipped, during] = attributeOutages([{ at: 1000, end: 1000 }, { at: 1100, end: 1100, skipped: true }, { at: 1200, end: 1200 }], p);
  assert.deepEqual(kill, { recoveryMs: 600, failedProbes: 6 });
  assert.equal(skipped, null);
  assert.deepEqual(during, { recoveryMs: 0, failedProbes: 0 });
  const dead = prober(0, 3000, (t) => t >= 2000);
  assert.deepEqual(attributeOutages([{ at: 2000, end: 2000 }], dead), [{ recoveryMs: null, failedProbes: 11 }]);
});
