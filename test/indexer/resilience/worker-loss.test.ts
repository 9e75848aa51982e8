import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { OwletService } from '../../../src/indexer/service/service.js';
import { saveConfig } from '../../../src/indexer/config/load.js';
import { defaultConfig, type Config } from '../../../src/indexer/config/schema.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';
import { handleFromChild } from '../../../src/indexer/extract/launcher.js';
import type { WorkerLauncher } from '../../../src/indexer/extract/pool.js';
import { tmpDir, writeTree } from '../../helpers/tmp.js';

/**
 * A worker lost while it held a file (killed from outside, frozen past the deadline) is not the
 * file's verdict: the file is tried again from the persistent retry queue, without waiting for a
 * full pass (hourly, or never with rescans off), until it is indexed or its quarantine stops it.
 * Found by the chaos run: two innocent burst files whose workers a poisoned-file fault froze stayed
 * "failed: timeout" to the end of the run, since no restart or rescan came after. Real SQLite, real
 * worker processes (the scripted worker), an injected clock for the backoff.
 */
const WORKER = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../fixtures/scripted-worker.mjs');
const scripted: WorkerLauncher = () => handleFromChild(fork(WORKER, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced', execArgv: [] }), { forwardStderr: false });

function configure(data: string, root: string, over: (c: Config) => Config = (c) => c): void {
  const d = defaultConfig();
  // A short extraction deadline so a stalled worker is stopped quickly; the backoff is on the injected clock.
  saveConfig(data, over({ ...d, roots: [root], extractors: { ...d.extractors, workers: 1, timeoutMs: 300 }, resilience: { ...d.resilience, quarantineAttempts: 3, retry: { maxAttempts: 6, baseMs: 2_000, maxMs: 60_000 } } }));
}

function problems(svc: OwletService) {
  return Object.fromEntries(svc.problems(1000, 0).map((p) => [path.basename(p.path), p]));
}

test('a file whose worker was killed or frozen past its deadline is retried from the queue and indexed, with no further full pass', async () => {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  writeTree(root, {
    'a-dieonce-.txt': 'killedonceword',
    'a-dieonce-.txt.die-count': '1',
    'b-stallonce-.txt': 'frozenonceword',
    'b-stallonce-.txt.stall-count': '1',
    'c.txt': 'plainword',
  });
  configure(data, root, (c) => ({ ...c, exclude: [...c.exclude, '*.die-count', '*.stall-count'] }));
  let now = 1_000_000_000_000;
  const svc = new OwletService({ dataDir: data, log: nullLogger, watch: false, launchWorker: scripted, now: () => now });
  try {
    await svc.indexOnce();
    const p = problems(svc);
    assert.equal(p['a-dieonce-.txt']?.reason, 'crash', 'the worker died while it held the file');
    assert.equal(p['b-stallonce-.txt']?.reason, 'timeout', 'the worker was stopped at the deadline');
    assert.match(p['a-dieonce-.txt']!.message, /retry 1 scheduled/);
    assert.equal(svc.retries.size(), 2, 'both wait in the persistent retry queue');
    assert.equal(svc.search('plainword', 10, 0).total, 1);

    now += 2_000; // the first retry's delay is at most baseMs (full jitter: anywhere below it)
    await svc.runDueRetries();
    assert.equal(svc.search('killedonceword', 10, 0).total, 1, 'retried and indexed');
    assert.equal(svc.search('frozenonceword', 10, 0).total, 1, 'retried and indexed');
    assert.deepEqual(Object.keys(problems(svc)), [], 'no problem left');
    assert.equal(svc.retries.size(), 0);
    assert.equal(svc.status().resilience.quarantined, 0, 'one lost worker quarantines nothing');
  } finally {
    await svc.stop();
  }
});

test('a file that kills every worker is retried from the queue only until its quarantine, then left alone', async () => {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  writeTree(root, { 'crash-always.txt': 'x', 'ok.txt': 'okword' });
  configure(data, root);
  let now = 1_000_000_000_000;
  const svc = new OwletService({ dataDir: data, log: nullLogger, watch: false, launchWorker: scripted, now: () => now });
  try {
    await svc.indexOnce();
    assert.equal(svc.pool.stats().crashes, 1);
    // Each retry is due within the backoff's cap (2 s, then 4 s); step well past it.
    for (let i = 0; i < 5; i++) {
      now += 60_000;
      await svc.runDueRetries();
    }
    assert.equal(svc.pool.stats().crashes, 3, 'tried three times in all (quarantineAttempts), never again');
    const p = problems(svc)['crash-always.txt']!;
    assert.equal(p.reason, 'crash');
    assert.match(p.message, /quarantined after 3 worker crash/);
    assert.equal(svc.status().resilience.quarantined, 1);
    assert.equal(svc.retries.size(), 0, 'no retry left waiting: the quarantine ended them');
    assert.equal(svc.search('okword', 10, 0).total, 1);
  } finally {
    await svc.stop();
  }
});

test('a retry whose file was deleted meanwhile leaves the queue', async () => {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  // A locked file (a transient read error) waits in the same queue; then it is deleted.
  writeTree(root, { 'gone-busy.txt': 'x', 'gone-busy.txt.busy-count': '5' });
  configure(data, root, (c) => ({ ...c, exclude: [...c.exclude, '*.busy-count'] }));
  let now = 1_000_000_000_000;
  const svc = new OwletService({ dataDir: data, log: nullLogger, watch: false, launchWorker: scripted, now: () => now });
  try {
    await svc.indexOnce();
    assert.equal(svc.retries.size(), 1);
    fs.rmSync(path.join(root, 'gone-busy.txt'));
    now += 60_000;
    await svc.runDueRetries();
    assert.equal(svc.retries.size(), 0, 'not looked for again at every tick');
    assert.deepEqual(Object.keys(problems(svc)), [], 'and its row is gone with it');
  } finally {
    await svc.stop();
  }
});

test('a due retry that finds nothing to do (the file is already indexed and current) is spent, not looked at again every tick', async () => {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  writeTree(root, { 'done.txt': 'doneword' });
  configure(data, root);
  let now = 1_000_000_000_000;
  const svc = new OwletService({ dataDir: data, log: nullLogger, watch: false, launchWorker: scripted, now: () => now });
  try {
    await svc.indexOnce();
    assert.equal(svc.search('doneword', 10, 0).total, 1);
    // A leftover record, e.g. from a run stopped between scheduling a retry and writing its outcome.
    svc.retries.schedule(path.join(root, 'done.txt'), 'left over');
    now += 60_000;
    await svc.runDueRetries();
    assert.equal(svc.retries.size(), 0);
    assert.equal(svc.search('doneword', 10, 0).total, 1);
  } finally {
    await svc.stop();
  }
});
