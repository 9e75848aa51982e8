import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { saveConfig } from '../../../src/indexer/config/load.js';
import { defaultConfig } from '../../../src/indexer/config/schema.js';
import { handleFromChild } from '../../../src/indexer/extract/launcher.js';
import type { WorkerLauncher } from '../../../src/indexer/extract/pool.js';
import type { Processed } from '../../../src/indexer/index/indexer.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';
import { ServiceHost } from '../../../src/indexer/service/host.js';
import { OwletService } from '../../../src/indexer/service/service.js';
import { isOwletError } from '../../../src/shared/errors.js';
import { tmpDir, waitFor, writeTree } from '../../helpers/tmp.js';

const WORKER = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../fixtures/scripted-worker.mjs');
const scripted: WorkerLauncher = () => handleFromChild(fork(WORKER, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced', execArgv: [] }), { forwardStderr: false });

function setup() {
  const root = tmpDir('owlet-host-root-');
  const data = tmpDir('owlet-host-data-');
  writeTree(root, { 'a.txt': 'alpha one', 'b.txt': 'alpha two' });
  const base = defaultConfig();
  saveConfig(data, { ...base, roots: [root], extractors: { ...base.extractors, workers: 1 } });
  let opened = 0;
  const host = new ServiceHost({
    dataDir: data,
    log: nullLogger,
    create: (hooks) => {
      opened++;
      return new OwletService({ dataDir: data, log: nullLogger, watch: false, launchWorker: scripted, ...hooks });
    },
  });
  return { root, data, host, opened: () => opened };
}

test('a listener registered before a swap still hears the service that replaced it', async () => {
  const { root, host } = setup();
  host.adopt(host.open());
  const processed: Processed[] = [];
  const committed: number[] = [];
  const swaps: OwletService[] = [];
  host.onDidProcess((p) => processed.push(p));
  host.onDidCommit((ops) => committed.push(ops.length));
  host.onDidSwap((s) => swaps.push(s));
  try {
    await host.start();
    await waitFor(() => processed.length === 2, 90_000, 'the first service to index both files');
    await host.rescan();
    const first = host.current();
    assert.ok(first.ok);

    // The swap a recovery or restore does: detach (stop) the old service, install a new one.
    await host.detach();
    await host.install(host.open());
    const second = host.current();
    assert.ok(second.ok);
    assert.notEqual(second.service, first.service, 'a new service object serves');
    assert.deepEqual(swaps, [second.service], 'onDidSwap told listeners about the new service');

    const before = processed.length;
    const commitsBefore = committed.length;
    writeTree(root, { 'c.txt': 'alpha three, after the swap' });
    await host.rescan();
    await waitFor(() => processed.length > before, 90_000, 'the listener registered before the swap to hear the new service');
    assert.deepEqual(processed.slice(before), [{ outcome: 'indexed', bytes: 'alpha three, after the swap'.length }]);
    assert.ok(committed.length > commitsBefore, 'commit listeners survived the swap too');
    assert.equal(host.search('alpha', 10, 0).total, 3);
  } finally {
    await host.stop();
  }
});

test('while no service is open, current() says so with a typed not-ready error, and status never throws', async () => {
  const { host } = setup();
  host.adopt(host.open());
  try {
    await host.start();
    await host.rescan();
    assert.equal(host.status().counts.indexed, 2);
    await host.detach();
    const c = host.current();
    assert.equal(c.ok, false);
    assert.ok(!c.ok && c.error.code === 'OWL_ERR_NOT_READY');
    assert.throws(() => host.search('alpha', 10, 0), (e) => isOwletError(e) && e.code === 'OWL_ERR_NOT_READY');
    await assert.rejects(host.rescan(), (e) => isOwletError(e) && e.code === 'OWL_ERR_NOT_READY');
    assert.equal(host.isReady(), false);
    const s = host.status();
    assert.equal(s.ready, false);
    assert.equal(s.state, 'degraded');
    assert.equal(s.counts.indexed, 2, 'the last known counts are kept');
    assert.ok(s.degraded.some((d) => d.component === 'index-recovery'));
    // Back: answers again.
    await host.install(host.open());
    assert.equal(host.search('alpha', 10, 0).total, 2);
  } finally {
    await host.stop();
  }
  assert.equal(host.current().ok, false, 'a stopped host holds no service');
});

test('status sources add their notes to every status, and stop when disposed', async () => {
  const { host } = setup();
  host.adopt(host.open());
  try {
    const sub = host.addStatusSource(() => [{ component: 'backup', message: 'the last backup failed: disk gone' }]);
    let s = host.status();
    assert.equal(s.state, 'degraded');
    assert.ok(s.degraded.some((d) => d.component === 'backup'));
    sub.dispose();
    s = host.status();
    assert.ok(!s.degraded.some((d) => d.component === 'backup'));
  } finally {
    await host.stop();
  }
});
