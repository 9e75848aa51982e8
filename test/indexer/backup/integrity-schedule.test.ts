import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { createMonitoring } from '../../../src/indexer/metrics/monitoring.js';
import { IntegritySchedule } from '../../../src/indexer/recovery/integrity-schedule.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';
import { tmpDir, waitFor } from '../../helpers/tmp.js';
import type { GuardianAlert } from '../../../src/indexer/recovery/plan.js';
import { damage, diskFiles, indexedPaths, live, makeCorpus, openGuardian, settle, startAndSettle, writeConfig } from './helpers.js';

/**
 * The periodic integrity check belongs to recovery, not to monitoring: with monitoring turned
 * off, damage on disk is still found on schedule and repaired without a restart.
 */
test('with monitoring off, the scheduled integrity check still finds damage and recovery repairs it', async () => {
  const base = tmpDir('owlet-integrity-off-');
  const root = path.join(base, 'docs');
  const data = path.join(base, 'data');
  makeCorpus(root, 12);
  // A check every ~2 s (hours are fractional), monitoring off.
  writeConfig(data, { roots: [root], monitoring: { enabled: false, integrityCheckHours: 0.0006 } });
  const alerts: GuardianAlert[] = [];
  const g = await openGuardian(data, { integrity: { minDelayMs: 0 }, onAlert: (a) => alerts.push(a) });
  // Wired as serve wires it: monitoring (here off) only listens to the schedule.
  const monitoring = createMonitoring({ service: g.service, settings: g.service.config.monitoring, log: nullLogger, integrity: g.pi.integrity });
  assert.equal(monitoring.enabled, false);
  monitoring.start();
  const checks: boolean[] = [];
  g.pi.integrity.onDidCheck((r) => checks.push(r.ok));
  try {
    await startAndSettle(g);
    const made = await g.create('manual');
    assert.equal(made.status, 'created');
    await waitFor(() => checks.length > 0, 60_000, 'a scheduled integrity check');
    assert.equal(checks[0], true, 'a healthy index passes');
    // Committed pages damaged on disk under the running service; nothing else touches the index.
    live(g).ctx.db.pragma('wal_checkpoint(TRUNCATE)');
    damage(path.join(data, 'index.db'), 'garbage-pages', 5);
    await waitFor(() => g.lastRecovery !== null, 120_000, 'the scheduled check to find the damage and recovery to run');
    assert.ok(checks.includes(false), 'the schedule saw the damage');
    assert.equal(g.lastRecovery?.action, 'restored');
    await g.settled();
    await settle(g);
    assert.deepEqual(indexedPaths(g), diskFiles(root));
    // Raised when found, resolved when repaired; the restore's notice resolves once the index is in step.
    await waitFor(() => alerts.some((a) => a.id === 'index-recovered' && a.over), 30_000, 'index-recovered to be over');
    const seq = alerts.map((a) => `${a.id}${a.over ? ' over' : ''}`).filter((x) => x.startsWith('index-recovered') || x.startsWith('index-corrupt'));
    // (The start of this clean service resolved leftovers first: "over" with nothing raised.)
    assert.deepEqual(seq.slice(seq.indexOf('index-corrupt')), ['index-corrupt', 'index-corrupt over', 'index-recovered', 'index-recovered over']);
  } finally {
    await monitoring.stop();
    await g.stop();
  }
});

test('the first check after a start waits five minutes, or one period when checks are asked for more often than that (never under 10 s)', async () => {
  const data = tmpDir('owlet-integrity-delay-');
  const ran: number[] = [];
  const check = async () => {
    ran.push(Date.now());
    return { ok: true, inconclusive: false, message: 'ok', durationMs: 1 };
  };
  const t0 = Date.now();
  // Asked for every ~0.7 s: floored to 10 s; the default five-minute wait after a start would
  // swallow every check of a short run.
  const often = new IntegritySchedule({ dataDir: data, hours: 0.0002, key: () => null, onDamage: () => {}, log: nullLogger, check });
  often.start();
  try {
    await waitFor(() => ran.length >= 1, 25_000, 'a check one (floored) period after the start');
    assert.ok(ran[0]! - t0 >= 9_500, `not before 10 s (${ran[0]! - t0} ms)`);
  } finally {
    await often.stop();
  }
  // A daily check keeps the five-minute grace after a start.
  const daily = new IntegritySchedule({ dataDir: tmpDir('owlet-integrity-daily-'), hours: 24, key: () => null, onDamage: () => {}, log: nullLogger, check, minDelayMs: 1_500 });
  const before = ran.length;
  daily.start();
  try {
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(ran.length, before, 'no check inside the grace');
    await waitFor(() => ran.length > before, 20_000, 'the first daily check after the grace');
  } finally {
    await daily.stop();
  }
});

test('a start after a check that found damage checks again at the first opportunity, not a period later', async () => {
  const data = tmpDir('owlet-integrity-failed-last-');
  const ran: number[] = [];
  const verdicts = [false];
  const check = async () => {
    ran.push(Date.now());
    return { ok: verdicts.shift() ?? true, inconclusive: false, message: 'row 3 missing from index x', durationMs: 1 };
  };
  const first = new IntegritySchedule({ dataDir: data, hours: 24, key: () => null, onDamage: () => {}, log: nullLogger, check, minDelayMs: 0 });
  await first.runNow();
  await first.stop();
  assert.equal(first.last()?.ok, false);
  // Restarted: a daily schedule whose last check (moments ago) failed.
  const t0 = Date.now();
  const again = new IntegritySchedule({ dataDir: data, hours: 24, key: () => null, onDamage: () => {}, log: nullLogger, check, minDelayMs: 1_000 });
  again.start();
  try {
    await waitFor(() => ran.length >= 2, 15_000, 'the re-check after the grace');
    assert.ok(ran[1]! - t0 >= 900);
    assert.equal(again.last()?.ok, true);
  } finally {
    await again.stop();
  }
});

test('a verdict on an index replaced while it was checked is dropped and the new file is checked instead', async () => {
  const data = tmpDir('owlet-integrity-superseded-');
  let generation = 0;
  const damaged: string[] = [];
  const verdicts: boolean[] = [];
  // The first check reads the damaged file while recovery replaces it (the generation moves during the check).
  const answers = [
    async () => {
      generation++;
      return { ok: false, inconclusive: false, message: 'page 7 is never used', durationMs: 1 };
    },
    async () => ({ ok: true, inconclusive: false, message: 'ok', durationMs: 1 }),
  ];
  const check = async () => answers.shift()!();
  const s = new IntegritySchedule({ dataDir: data, hours: 24, key: () => null, onDamage: (e) => damaged.push(e.message), log: nullLogger, check, generation: () => generation });
  s.onDidCheck((r) => verdicts.push(r.ok));
  const r = await s.runNow();
  await s.stop();
  assert.equal(r.ok, true, 'the verdict is the replacement file\'s');
  assert.deepEqual(verdicts, [true]);
  assert.deepEqual(damaged, [], 'damage already repaired is not reported again');
  assert.equal(s.last()?.ok, true);
  // A file replaced during every check: no verdict at all (inconclusive), never damage.
  let n = 0;
  const reported: string[] = [];
  const always = new IntegritySchedule({ dataDir: tmpDir('owlet-integrity-churn-'), hours: 24, key: () => null, onDamage: (e) => reported.push(e.message), log: nullLogger, generation: () => n, check: async () => (n++, { ok: false, inconclusive: false, message: 'x', durationMs: 1 }) });
  const last = await always.runNow();
  await always.stop();
  assert.equal(last.inconclusive, true);
  assert.equal(n, 3, 'three tries');
  assert.deepEqual(reported, []);
});
