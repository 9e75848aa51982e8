import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { OwletService } from '../../../src/indexer/service/service.js';
import { saveConfig } from '../../../src/indexer/config/load.js';
import { defaultConfig } from '../../../src/indexer/config/schema.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';
import { tmpDir, waitFor, writeTree } from '../../helpers/tmp.js';

test('another process holding the write lock neither fails a search nor loses a write: both wait it out', async () => {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  writeTree(root, { 'a.txt': 'lockword' });
  saveConfig(data, { ...defaultConfig(), roots: [root] });
  const svc = new OwletService({ dataDir: data, log: nullLogger, watch: false });
  try {
    await svc.indexOnce();
    // Another process holds the write lock for 700 ms (a backup tool, a second Owlet by mistake).
    const holder = spawn(process.execPath, ['-e', `
      const D = require('better-sqlite3-multiple-ciphers');
      const db = new D(${JSON.stringify(path.join(data, 'index.db'))});
      db.key(Buffer.from("x'" + require('fs').readFileSync(0, 'utf8').trim() + "'", 'latin1')); // the index is encrypted (raw key, as security/cipher.ts); key via stdin
      db.exec('BEGIN IMMEDIATE');
      db.prepare("INSERT INTO meta (key, value) VALUES ('lock', 'x') ON CONFLICT(key) DO UPDATE SET value = 'y'").run();
      process.stdout.write('locked\\n');
      setTimeout(() => { db.exec('COMMIT'); process.stdout.write('released ' + Date.now() + '\\n'); db.close(); }, 700);
    `], { cwd: process.cwd(), stdio: ['pipe', 'pipe', 'inherit'] });
    holder.stdin!.end(svc.ctx.key!.toString('hex'));
    let said = '';
    holder.stdout!.on('data', (d) => (said += d));
    await waitFor(() => said.includes('locked'), 30_000, 'the other process to take the write lock');
    assert.equal(svc.search('lockword', 10, 0).total, 1, 'WAL readers are not blocked by a writer');
    writeTree(root, { 'b.txt': 'laterword' });
    const t0 = Date.now();
    assert.ok(!said.includes('released'), 'the lock is still held when the write starts');
    await svc.indexOnce(); // its batch commit meets the lock: busy_timeout waits instead of failing
    const done = Date.now();
    if (holder.exitCode === null) await new Promise((resolve) => holder.once('exit', resolve));
    assert.equal(holder.exitCode, 0);
    // The contention really happened: the write began while the lock was held and could only
    // finish after the other process released it (an order of events, not a timing).
    const released = Number(/released (\d+)/.exec(said)?.[1]);
    assert.ok(Number.isFinite(released), `the other process committed: ${said}`);
    assert.ok(t0 < released && done >= released, `write ${t0}..${done}, lock released at ${released}`);
    console.log(`index write waited ${released - t0} ms for the lock`);
    assert.equal(svc.search('laterword', 10, 0).total, 1);
    // Neither write was lost: the other process's row is there too.
    assert.equal(svc.ctx.db.prepare("SELECT value FROM meta WHERE key = 'lock'").pluck().get(), 'x');
  } finally {
    await svc.stop();
  }
});
