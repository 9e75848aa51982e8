import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { createMonitoring } from '../../../src/indexer/metrics/monitoring.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';
import { tmpDir, waitFor } from '../../helpers/tmp.js';
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
  const g = await openGuardian(data, { integrity: { minDelayMs: 0 } });
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
  } finally {
    await monitoring.stop();
    await g.stop();
  }
});
