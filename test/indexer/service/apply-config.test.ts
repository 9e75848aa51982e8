import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { saveConfig } from '../../../src/indexer/config/load.js';
import { defaultConfig, type Config } from '../../../src/indexer/config/schema.js';
import { handleFromChild } from '../../../src/indexer/extract/launcher.js';
import type { WorkerLauncher } from '../../../src/indexer/extract/pool.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';
import { OwletService } from '../../../src/indexer/service/service.js';
import { tmpDir, waitFor, writeTree } from '../../helpers/tmp.js';

const WORKER = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../fixtures/scripted-worker.mjs');
const scripted: WorkerLauncher = () => handleFromChild(fork(WORKER, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced', execArgv: [] }), { forwardStderr: false });

test('a changed configuration applies to the running service: a new folder is scanned and watched, a removed one stops being searched, an exclusion applies, a failed file is tried again on request', { timeout: 90_000 }, async () => {
  const data = tmpDir('owlet-data-');
  const a = tmpDir('owlet-a-');
  const b = tmpDir('owlet-b-');
  writeTree(a, { 'a.txt': 'alpha words' });
  writeTree(b, { 'b.txt': 'bravo words', 'locked-busy.txt': 'foxtrot words', 'locked-busy.txt.busy-count': '1000' });
  const base = defaultConfig();
  // One attempt for a transient read error: the busy file is given up at once (failed, io-error).
  const first: Config = { ...base, roots: [a], exclude: [...base.exclude, '*.busy-count'], resilience: { ...base.resilience, retry: { maxAttempts: 1, baseMs: 10, maxMs: 10 }, pauseOnBattery: false } };
  saveConfig(data, first);
  const svc = new OwletService({ dataDir: data, log: nullLogger, watch: true, launchWorker: scripted, tickMs: 50 });
  const hits = (q: string) => svc.search(q, 10, 0).total;
  try {
    await svc.start();
    await waitFor(() => hits('alpha') === 1, 20_000, 'the first folder indexed');
    assert.equal(hits('bravo'), 0);

    // Add a folder: scanned at once, and watched (a file created afterwards is indexed).
    const added: Config = { ...first, roots: [a, b] };
    saveConfig(data, added);
    await svc.applyConfig(added);
    await waitFor(() => hits('bravo') === 1, 20_000, 'the added folder scanned');
    fs.writeFileSync(path.join(b, 'later.txt'), 'charlie words');
    await waitFor(() => hits('charlie') === 1, 20_000, 'a new file in the added folder indexed by the watcher');

    // The busy file failed (given up after one attempt) and stays failed while unchanged.
    const busy = path.join(b, 'locked-busy.txt');
    await waitFor(() => svc.problems(100, 0).some((p) => p.path === busy && p.status === 'failed' && p.reason === 'io-error'), 20_000, 'the busy file failed');
    fs.writeFileSync(busy + '.busy-count', '0');
    await svc.rescan();
    assert.equal(hits('foxtrot'), 0, 'a rescan leaves a failed unchanged file alone');
    // "Try again": only the failed file is re-extracted; an unknown path is reported back.
    assert.deepEqual(svc.retry([busy, path.join(b, 'no-such-file.txt')]), [path.join(b, 'no-such-file.txt')]);
    await waitFor(() => hits('foxtrot') === 1, 20_000, 'the retried file indexed');

    // An exclusion applies to the watcher at once.
    const excluded: Config = { ...added, exclude: [...added.exclude, '*.log'] };
    saveConfig(data, excluded);
    await svc.applyConfig(excluded);
    fs.writeFileSync(path.join(b, 'noise.log'), 'delta words');
    fs.writeFileSync(path.join(b, 'kept.txt'), 'echo words');
    await waitFor(() => hits('echo') === 1, 20_000, 'the file next to the excluded one indexed');
    assert.equal(hits('delta'), 0, 'the excluded file is not indexed');

    // Remove the first folder: not searchable from then on; the CPU share is read live.
    const removed: Config = { ...excluded, roots: [b], resilience: { ...excluded.resilience, cpuShare: 0.5 } };
    saveConfig(data, removed);
    await svc.applyConfig(removed);
    assert.equal(hits('alpha'), 0);
    assert.equal(hits('bravo'), 1);
    assert.equal(svc.config.resilience.cpuShare, 0.5);
  } finally {
    await svc.stop();
  }
});

test('a dashboard change to the number of workers waits for the next start: the indexer keeps the window sized for the running pool', async () => {
  const data = tmpDir('owlet-data-');
  const root = tmpDir('owlet-root-');
  const config: Config = { ...defaultConfig(), roots: [root] };
  saveConfig(data, config);
  const svc = new OwletService({ dataDir: data, log: nullLogger, watch: false });
  try {
    const before = svc.indexer.concurrency;
    assert.equal(before, config.extractors.workers * 20);
    const fewer: Config = { ...config, extractors: { ...config.extractors, workers: 1 }, resilience: { ...config.resilience, cpuShare: 0.5 } };
    saveConfig(data, fewer);
    await svc.applyConfig(fewer);
    assert.equal(svc.config.resilience.cpuShare, 0.5, 'the live settings of the same change apply');
    assert.equal(svc.indexer.concurrency, before, 'two workers still run: a window for one would leave one idle');
    // A later change compares with the pool as started, not with the last config applied.
    const later: Config = { ...fewer, resilience: { ...fewer.resilience, cpuShare: 0.8 } };
    saveConfig(data, later);
    await svc.applyConfig(later);
    assert.equal(svc.indexer.concurrency, before, 'still sized for the two workers that run');
  } finally {
    await svc.stop();
  }
});

test('"Try again" on a quarantined file lifts the quarantine: the worker gets the file once more', { timeout: 60_000 }, async () => {
  const data = tmpDir('owlet-data-');
  const root = tmpDir('owlet-root-');
  writeTree(root, { 'report-crash.txt': 'crashes the scripted worker', 'fine.txt': 'golf words' });
  const base = defaultConfig();
  saveConfig(data, { ...base, roots: [root], resilience: { ...base.resilience, quarantineAttempts: 1, pauseOnBattery: false } });
  const svc = new OwletService({ dataDir: data, log: nullLogger, watch: false, launchWorker: scripted, tickMs: 50 });
  const crash = path.join(root, 'report-crash.txt');
  const reason = () => svc.problems(100, 0).find((p) => p.path === crash)?.reason;
  try {
    await svc.start();
    await waitFor(() => reason() === 'crash', 20_000, 'the crashing file failed');
    // Seen again unchanged, it is not handed to a worker: recorded as quarantined.
    await svc.rescan();
    assert.equal(reason(), 'quarantined');
    await svc.rescan();
    assert.equal(reason(), 'quarantined', 'a quarantined file stays quarantined while unchanged');
    assert.deepEqual(svc.retry([crash]), []);
    // The worker ran on it again (and crashed again): the failure is a crash, no longer "quarantined".
    await waitFor(() => reason() === 'crash', 20_000, 'the retried file extracted again');
    assert.equal(svc.search('golf', 10, 0).total, 1);
  } finally {
    await svc.stop();
  }
});
