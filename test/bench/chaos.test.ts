import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runChaos } from '../../bench/chaos/run.js';
import { FAULT_KINDS, type FaultKind } from '../../bench/chaos/faults.js';

/**
 * delete-wal and corrupt-index are left to `npm run chaos`: deleting the WAL under a running service
 * leaves other connections (doctor, a CLI search) unable to open the index until the service
 * restarts, a known gap recorded in docs/operations/validation.md; corruption recovery waits for the
 * periodic integrity check, longer than this minute allows.
 */
const SHORT_KINDS = FAULT_KINDS.filter((k): k is FaultKind => k !== 'delete-wal' && k !== 'corrupt-index');

/**
 * The short chaos run (npm test): one minute of seeded faults against a real `owlet run`. It asserts
 * what must hold on any machine — every fault recovered, no document lost, doctor clean — and leaves
 * availability and recovery times to `npm run chaos`, since they depend on the machine's load.
 */
test('60 s of seeded faults: every fault recovers, the index equals the disk, doctor is clean', { timeout: 230_000 }, async () => {
  const lines: string[] = [];
  const s = await runChaos({ minutes: 1, seed: 42, files: 120, faultEveryMs: 5000, burstFiles: 300, hostile: false, settleMs: 60_000, kinds: SHORT_KINDS, log: (l) => lines.push(l) });
  for (const f of s.faults) if (f.skipped) console.log(`# chaos: ${f.kind} skipped: ${f.skipped}`);
  const injected = s.faults.filter((f) => !f.skipped);
  assert.ok(injected.length >= 6, `only ${injected.length} faults were injected:\n${lines.join('\n')}`);
  assert.ok(new Set(injected.map((f) => f.kind)).size >= 5, 'the seed covers several kinds');
  assert.deepEqual(
    injected.filter((f) => f.recoveryMs === null).map((f) => `${f.kind} at ${f.at}: ${f.note}`),
    [],
    'every fault was recovered from',
  );
  assert.equal(s.documents.lost, 0, `lost: ${s.documents.lostExamples.join(', ')}`);
  assert.equal(s.documents.phantom, 0, `phantom: ${s.documents.phantomExamples.join(', ')}`);
  assert.deepEqual(s.doctor.failed, []);
  assert.ok(s.probes.total > 300, 'the prober ran at about 10 Hz');
  assert.equal(s.format, 'owlet-chaos/1');
  for (const k of Object.keys(s.recovery)) assert.ok(FAULT_KINDS.includes(k as never));
});
