import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { saveConfig } from '../../../src/indexer/config/load.js';
import { defaultConfig } from '../../../src/indexer/config/schema.js';
import { handleFromChild } from '../../../src/indexer/extract/launcher.js';
import type { WorkerLauncher } from '../../../src/indexer/extract/pool.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';
import { OwletService } from '../../../src/indexer/service/service.js';
import { stemCacheEntries } from '../../../src/indexer/text/stem.js';
import { tmpDir, waitFor, writeTree } from '../../helpers/tmp.js';

const WORKER = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../fixtures/scripted-worker.mjs');
const scripted: WorkerLauncher = () => handleFromChild(fork(WORKER, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced', execArgv: [] }), { forwardStderr: false });

/** Issue #14: a service with nothing to do gives memory back (config memory.*, extractors.idleExitSeconds). */
test('an idle service lets its workers go and releases its caches once per quiet spell; new work brings the workers back', { timeout: 60_000 }, async () => {
  const root = tmpDir('owlet-idle-root-');
  const data = tmpDir('owlet-idle-data-');
  writeTree(root, { 'a.txt': 'alpha one', 'b.txt': 'alpha two' });
  const base = defaultConfig();
  saveConfig(data, {
    ...base,
    roots: [root],
    extractors: { ...base.extractors, workers: 2, idleExitSeconds: 1 },
    memory: { ...base.memory, idleReleaseSeconds: 1 },
  });
  const svc = new OwletService({ dataDir: data, log: nullLogger, watch: false, launchWorker: scripted, tickMs: 50, power: { onBattery: async () => false } });
  try {
    await svc.start();
    await waitFor(() => svc.status().state === 'idle' && svc.status().counts.indexed === 2, 20_000, 'first pass');
    assert.equal(svc.search('alpha', 10, 0).total, 2);
    assert.equal(svc.searchCache.stats().entries, 1);
    assert.ok(stemCacheEntries() > 0, 'indexing memoised stems');

    await waitFor(() => svc.idleRelease.count === 1, 10_000, 'memory released when idle');
    assert.equal(svc.searchCache.stats().entries, 0, 'cached results released');
    assert.equal(stemCacheEntries(), 0, 'stemming memos released');
    await waitFor(() => svc.pool.stats().workers === 0, 10_000, 'idle workers exit');
    // Still searchable, and released once per quiet spell, not on every tick.
    assert.equal(svc.search('alpha', 10, 0).total, 2);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(svc.idleRelease.count, 1);

    // New work: workers start again, the file is indexed, and the next quiet spell releases again.
    writeTree(root, { 'c.txt': 'alpha three' });
    await svc.rescan();
    assert.equal(svc.status().counts.indexed, 3);
    assert.equal(svc.search('alpha', 10, 0).total, 3);
    assert.equal(svc.pool.stats().restarts, 0, 'waking the pool is not a restart');
    await waitFor(() => svc.idleRelease.count === 2, 10_000, 'released after the new work');
  } finally {
    await svc.stop();
  }
});
