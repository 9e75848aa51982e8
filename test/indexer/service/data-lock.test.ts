import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runOwlet, startOwlet, waitExit } from '../../helpers/cli.js';
import { tmpDir, waitFor, writeTree } from '../../helpers/tmp.js';
import type { ServiceInfo } from '../../../src/shared/api.js';
import { acquireDataLock, dataFolderLocked } from '../../../src/indexer/service/data-lock.js';
import { readServiceInfo, removeServiceInfo, writeServiceInfo } from '../../../src/indexer/service/service-file.js';
import { isOwletError } from '../../../src/shared/errors.js';

/** One service per data folder: an OS lock, refusals that name the holder, and service.json ownership. */

function serviceInfo(data: string): ServiceInfo {
  return JSON.parse(fs.readFileSync(path.join(data, 'service.json'), 'utf8')) as ServiceInfo;
}

test('the data folder lock: a second taker is refused with the holder named; released, it can be taken again', async () => {
  const data = tmpDir('owlet-data-');
  const first = await acquireDataLock(data, { purpose: 'key rotate' });
  try {
    assert.equal(dataFolderLocked(data), true);
    await assert.rejects(acquireDataLock(data, { purpose: 'service', remedy: 'stop it first' }), (e: unknown) => {
      assert.ok(isOwletError(e));
      assert.equal(e.code, 'OWL_ERR_SERVICE_RUNNING');
      assert.match(e.message, new RegExp(`"owlet key rotate" \\(pid ${process.pid}\\) is already using the data folder .*; stop it first$`));
      return true;
    });
    // waiting is bounded: it gives up after waitMs
    await assert.rejects(acquireDataLock(data, { purpose: 'service', waitMs: 150 }), /already using the data folder/);
  } finally {
    first.release();
  }
  assert.equal(dataFolderLocked(data), false);
  const again = await acquireDataLock(data, { purpose: 'service' });
  again.release();
  again.release(); // idempotent
});

test('service.json is removed only by the service that wrote it (same pid and start time)', () => {
  const data = tmpDir('owlet-data-');
  const mine: ServiceInfo = { url: 'http://127.0.0.1:1', pid: process.pid, port: 1, version: 't', startedAt: '2026-12-02T10:00:00.000Z' };
  writeServiceInfo(data, { ...mine, startedAt: '2026-12-02T11:00:00.000Z' }); // a later service (same pid reused)
  assert.equal(removeServiceInfo(data, mine), false);
  assert.ok(readServiceInfo(data), 'the other service keeps its file');
  writeServiceInfo(data, mine);
  assert.equal(removeServiceInfo(data, { pid: process.pid + 1, startedAt: mine.startedAt }), false);
  assert.equal(removeServiceInfo(data, mine), true);
  assert.equal(readServiceInfo(data), null);
});

test('owlet serve twice on one data folder: the second is refused naming the first (pid, url); the first keeps serving and its service.json; writers say "stop the service first"', async () => {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  writeTree(root, { 'a.txt': 'lockword document' });
  const first = startOwlet(['serve', '--root', root, '--data-dir', data, '--port', '0']);
  try {
    const info = await waitFor(() => serviceInfo(data), 30_000, 'service.json of the first service');
    assert.equal(info.pid, first.pid);

    const second = await runOwlet(['serve', '--root', root, '--data-dir', data, '--port', '0'], { timeoutMs: 60_000 });
    assert.notEqual(second.code, 0, 'the second service does not start');
    assert.match(second.stderr, new RegExp(`the Owlet service \\(pid ${info.pid}, ${info.url.replace(/[.]/g, '\\.')}\\) is already using the data folder`));
    assert.doesNotMatch(second.stdout, /serving on/);
    assert.deepEqual(serviceInfo(data), info, 'service.json still names the first service');
    assert.equal((await fetch(`${info.url}/health/live`)).status, 200, 'the first still serves');

    // `owlet run` is refused the same way (its child could never get the lock).
    const run = await runOwlet(['run', '--root', root, '--data-dir', data, '--port', '0'], { timeoutMs: 60_000 });
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, new RegExp(`pid ${info.pid}`));

    // Writers of the index: a message to act on, never "database is locked" — even when
    // service.json has gone missing (the lock, not the file, is what counts).
    fs.renameSync(path.join(data, 'service.json'), path.join(data, 'service.json.aside'));
    try {
      const rotate = await runOwlet(['key', 'rotate', '--data-dir', data], { timeoutMs: 60_000 });
      assert.notEqual(rotate.code, 0);
      assert.match(rotate.stderr, /stop the service first, or run this through it/);
      assert.match(rotate.stderr, new RegExp(`pid ${info.pid}`));
      assert.doesNotMatch(rotate.stderr, /database is locked/i);
      const restore = await runOwlet(['backup', 'restore', '20261202T030000Z-1a2b', '--data-dir', data], { timeoutMs: 60_000 });
      assert.notEqual(restore.code, 0);
      assert.match(restore.stderr, /stop the service first, or run this through it/);
    } finally {
      fs.renameSync(path.join(data, 'service.json.aside'), path.join(data, 'service.json'));
    }

    first.kill('SIGTERM');
    assert.equal((await waitExit(first, 20_000)).code, 0);
    assert.ok(!fs.existsSync(path.join(data, 'service.json')), 'the first service removed its own service.json');
  } finally {
    if (first.exitCode === null) first.kill('SIGKILL');
  }
});

test('a service killed with SIGKILL leaves no stale lock: the OS released it, the next service starts', async () => {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  writeTree(root, { 'a.txt': 'killword' });
  const first = startOwlet(['serve', '--root', root, '--data-dir', data, '--port', '0']);
  await waitFor(() => serviceInfo(data), 30_000, 'the first service');
  first.kill('SIGKILL');
  await waitExit(first, 10_000);
  assert.equal(dataFolderLocked(data), false, 'no stale lock after SIGKILL');
  const next = startOwlet(['serve', '--root', root, '--data-dir', data, '--port', '0']);
  try {
    const info = await waitFor(() => {
      const i = serviceInfo(data);
      return i.pid === next.pid ? i : null;
    }, 30_000, 'the next service');
    assert.equal((await fetch(`${info.url}/health/live`)).status, 200);
  } finally {
    next.kill('SIGTERM');
    await waitExit(next, 20_000);
  }
});
