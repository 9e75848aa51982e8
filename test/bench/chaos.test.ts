import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EXPECTED_ALERT, STANDING_BY_DESIGN, type FaultKind } from '../../bench/chaos/faults.js';
import { runChaos } from '../../bench/chaos/run.js';

/**
 * The short chaos run (`npm run chaos:short`, issue #15): one minute of seeded faults of the kinds
 * Owlet heals by itself, against a real `owlet run`. It asserts what must hold on any machine,
 * however loaded: every fault recovered within the requirement's two minutes, the index equal to
 * the disk, the right alerts fired and cleared, doctor clean. Availability and recovery TIMES are
 * figures for the long run on a quiet machine (docs/operations/validation.md), never asserted here.
 */

/** The kinds in the short run: everything Owlet heals without a person in well under a minute. */
export const SHORT_KINDS: readonly FaultKind[] = ['kill-service', 'kill-worker', 'hang-service', 'delete-wal', 'disk-full', 'root-offline', 'file-burst', 'poisoned-file', 'clock-jump', 'bad-config'];

test('chaos, short: a minute of faults (seed 42) is healed without a person: every fault recovered, no document lost or phantom, alerts fired and cleared, doctor clean', { timeout: 420_000 }, async () => {
  const lines: string[] = [];
  const s = await runChaos({ minutes: 1, seed: 42, files: 120, faultEveryMs: 2000, burstFiles: 300, hostile: false, kinds: SHORT_KINDS, maxFaults: SHORT_KINDS.length, settleMs: 120_000, log: (l) => lines.push(l) });
  const context = () => `\n${lines.join('\n')}\n${JSON.stringify({ ...s, faults: s.faults.map((f) => `${f.kind} ${f.recoveryMs}ms ${f.note}`) }, null, 1)}`;
  console.log(`chaos short: availability ${(s.probes.availability * 100).toFixed(2)}% of ${s.probes.total} probes; ${s.faults.length} faults; recovery max per kind ${JSON.stringify(Object.fromEntries(Object.entries(s.recovery).map(([k, r]) => [k, r.maxMs])))} (figures, not targets: the machine may be loaded)`);

  for (const f of s.faults) console.log(`  ${f.at} ${f.kind}: ${f.skipped ? `skipped (${f.skipped})` : `recovered in ${f.recoveryMs} ms, ${f.failedProbes} failed probes, alerts ${f.alerts.join(', ') || 'none'}; ${f.note}`}`);
  const injected = s.faults.filter((f) => !f.skipped);
  assert.ok(injected.length >= 6, `faults were injected (${injected.length})${context()}`);
  assert.ok(new Set(injected.map((f) => f.kind)).size >= 5, `several kinds were injected (${[...new Set(injected.map((f) => f.kind))].join(', ')})${context()}`);
  assert.ok(s.probes.total >= 100, `the prober ran all along (${s.probes.total} probes)${context()}`);
  assert.ok(s.probes.ok > 0, `the service answered probes${context()}`);
  // Recovered at all, and within the requirement (2 minutes); the < 30 s target is the long run's.
  for (const f of injected) assert.ok(f.recoveryMs !== null && f.recoveryMs < 120_000, `${f.kind} (${f.note}) recovered in ${f.recoveryMs} ms${context()}`);
  assert.equal(s.documents.lost, 0, `documents lost: ${s.documents.lostExamples.join(', ')}${context()}`);
  assert.equal(s.documents.phantom, 0, `phantom documents: ${s.documents.phantomExamples.join(', ')}${context()}`);
  assert.ok(s.documents.expected >= 120, `the comparison covered the corpus (${s.documents.expected})`);
  assert.equal(s.freshness.neverSearchable, 0, `every file written during the run became searchable${context()}`);
  // The alert each injected kind calls for fired every time, and nothing is still firing afterwards.
  for (const [kind, rules] of Object.entries(EXPECTED_ALERT)) {
    const got = s.alerts.expected[kind];
    if (!got) continue;
    assert.equal(got.fired, got.of, `${kind}: ${rules!.join(' or ')} fired for ${got.fired} of ${got.of}${context()}`);
    assert.equal(got.cleared, got.fired, `${kind}: ${rules!.join(' or ')} cleared afterwards for ${got.cleared} of ${got.fired}${context()}`);
  }
  const standing = new Set(injected.flatMap((f) => STANDING_BY_DESIGN[f.kind] ?? []));
  assert.deepEqual(s.alerts.stillFiring.filter((r) => !standing.has(r)), [], `alerts still firing after the run${context()}`);
  assert.ok(s.doctor.clean, `doctor: ${s.doctor.failed.join('; ')}${context()}`);
});
