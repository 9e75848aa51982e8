import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { saveConfig } from '../../../src/indexer/config/load.js';
import { defaultConfig } from '../../../src/indexer/config/schema.js';
import { handleFromChild } from '../../../src/indexer/extract/launcher.js';
import type { WorkerLauncher } from '../../../src/indexer/extract/pool.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';
import { OwletService } from '../../../src/indexer/service/service.js';
import { openIndex } from '../../../src/indexer/service/context.js';
import { NO_BACKLOG, idleInput, offlineStatusOf, statusReport, type Backlog, type StatusInput } from '../../../src/indexer/service/status.js';
import { databaseFiles } from '../../../src/indexer/store/stats.js';
import { tmpDir, writeTree } from '../../helpers/tmp.js';

const WORKER = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../fixtures/scripted-worker.mjs');
const scripted: WorkerLauncher = () => handleFromChild(fork(WORKER, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced', execArgv: [] }), { forwardStderr: false });

/** A running, settled service's input; each test changes what it is about. */
function input(over: Partial<StatusInput> = {}): StatusInput {
  return idleInput(tmpDir('owlet-status-'), { ready: true, watcher: { mode: 'events', message: null }, schemaVersion: 3, uptimeMs: 1, ...over });
}

test('the state is never idle while any work is in hand, even between two passes', () => {
  assert.equal(statusReport(input()).state, 'idle', 'nothing in hand: idle');
  const cases: [string, Partial<Backlog>][] = [
    ['the pool is busy', { poolBusy: 2 }],
    ['jobs wait for a worker', { poolQueued: 2 }],
    ['files are queued', { queued: 1 }],
    ['documents wait to be written', { unwritten: 3 }],
    ['watcher changes wait', { changes: 4 }],
    ['a rescan is pending', { rescanPending: true }],
  ];
  for (const [why, b] of cases) {
    const s = statusReport(input({ backlog: { ...NO_BACKLOG, ...b } }));
    assert.equal(s.state, 'indexing', why);
    assert.ok(s.progress.queued > 0 || b.rescanPending || b.poolBusy, `${why}: the queue shows it`);
  }
  // "2 busy, 2 queued" with the pass finished: not "Up to date".
  const s = statusReport(input({ backlog: { ...NO_BACKLOG, poolBusy: 2, poolQueued: 2 } }));
  assert.equal(s.progress.phase, 'idle');
  assert.equal(s.state, 'indexing');
  assert.equal(s.progress.queued, 2);
});

test('precedence: starting, then degraded, then paused, then indexing', () => {
  const busy = { ...NO_BACKLOG, poolBusy: 1 };
  assert.equal(statusReport(input({ starting: true, backlog: busy, notes: [{ component: 'x', message: 'y' }] })).state, 'starting');
  assert.equal(statusReport(input({ paused: true, backlog: busy, notes: [{ component: 'x', message: 'y' }] })).state, 'degraded');
  assert.equal(statusReport(input({ paused: true, backlog: busy })).state, 'paused');
  assert.equal(statusReport(input({ roots: [{ id: 1, path: '/gone', state: 'offline', lastScanAt: null }] })).state, 'degraded', 'an offline root is a note');
});

test('a running service reports indexing from the moment a rescan is asked for until it is done', async () => {
  const root = tmpDir('owlet-status-root-');
  const data = tmpDir('owlet-status-data-');
  writeTree(root, { 'a.txt': 'alpha one', 'b.txt': 'alpha two' });
  const base = defaultConfig();
  saveConfig(data, { ...base, roots: [root], extractors: { ...base.extractors, workers: 1 } });
  const svc = new OwletService({ dataDir: data, log: nullLogger, watch: false, launchWorker: scripted });
  try {
    await svc.indexOnce();
    assert.equal(svc.status().state, 'idle');
    writeTree(root, { 'c.txt': 'alpha three' });
    const pass = svc.rescan();
    // The pass has not started yet (phase idle): the pending rescan alone makes it 'indexing'.
    assert.equal(svc.status().progress.phase, 'idle');
    assert.equal(svc.status().state, 'indexing');
    await pass;
    const s = svc.status();
    assert.equal(s.state, 'idle');
    assert.equal(s.counts.indexed, 3);
  } finally {
    await svc.stop();
  }
});

test('one definition of each count: documents are indexed files only, bytes are theirs, database size is the file on disk', async () => {
  const root = tmpDir('owlet-counts-root-');
  const data = tmpDir('owlet-counts-data-');
  writeTree(root, { 'a.txt': 'alpha one', 'b.txt': 'alpha two, a little longer', 'crash-me.txt': 'this one crashes the worker '.repeat(50) });
  const base = defaultConfig();
  saveConfig(data, { ...base, roots: [root], extractors: { ...base.extractors, workers: 1 }, resilience: { ...base.resilience, quarantineAttempts: 1 } });
  const svc = new OwletService({ dataDir: data, log: nullLogger, watch: false, launchWorker: scripted });
  let live;
  try {
    await svc.indexOnce();
    live = svc.status();
  } finally {
    await svc.stop();
  }
  const size = (f: string) => fs.statSync(path.join(root, f)).size;
  assert.equal(live.counts.indexed, 2);
  assert.equal(live.counts.failed, 1);
  assert.equal(live.counts.bytes, size('a.txt') + size('b.txt'), 'the failed file is not counted in the indexed bytes');
  const ro = openIndex(data, { readonly: true });
  let offline;
  try {
    offline = offlineStatusOf(ro);
  } finally {
    ro.close();
  }
  assert.deepEqual(offline.counts, live.counts, 'status without a service counts the same');
  const db = databaseFiles(data);
  assert.ok(db.bytes > 0);
  assert.equal(offline.database.bytes, db.bytes, 'status without a service reports the real database size (it used to say 0)');
  assert.equal(offline.database.walBytes, db.walBytes);
});
