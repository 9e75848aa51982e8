import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AvailabilityProber } from '../../bench/chaos/probes.js';
import type { Target } from '../../bench/lib/target.js';

test('recovery is the first streak of answered probes in the order they were SENT, not the order they finished', () => {
  const p = new AvailabilityProber({} as Target, 'token');
  // The fault starts at 1000; the first two probes still get through, then the service stalls:
  // probes sent 1200–1600 time out and are recorded 3 s later, after the answered ones sent from 1700.
  for (const t of [1000, 1100]) p.probes.push({ at: t, ok: true, ms: 5 });
  for (let t = 1700; t <= 2600; t += 100) p.probes.push({ at: t, ok: true, ms: 5 });
  for (let t = 1200; t <= 1600; t += 100) p.probes.push({ at: t, ok: false, ms: 3000, error: 'timeout' });
  assert.equal(p.recoveredAt(1000), 1700);
  assert.equal(p.failuresBetween(1000, 1700), 5);
  assert.equal(p.recoveredAt(1000, 20), null, 'no streak that long');
});
