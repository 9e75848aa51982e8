import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3-multiple-ciphers';
import { createBackup } from '../../../src/indexer/backup/create.js';
import { createLocal, restoreLocal } from '../../../src/indexer/backup/local.js';
import { isVerified, listBackups } from '../../../src/indexer/backup/manifest.js';
import { restoreBackup } from '../../../src/indexer/backup/restore.js';
import { readState } from '../../../src/indexer/backup/state.js';
import { backupBeforeUpdate } from '../../../src/indexer/backup/update.js';
import { backupBeforeMigration } from '../../../src/indexer/backup/migration.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';
import { openIndex } from '../../../src/indexer/service/context.js';
import { writeServiceInfo } from '../../../src/indexer/service/service-file.js';
import { MIGRATIONS, migrate } from '../../../src/indexer/store/migrations.js';
import { tmpDir } from '../../helpers/tmp.js';
import { writeConfig } from './helpers.js';
import { deps, indexed } from './fixtures.js';

// (Split from backup.test.ts so that each file stays well inside the per-file time limit on a busy machine.)


test('restore sets the current index aside (never deleted) and puts it back when the restored one is not proven good', async () => {
  const { data, root, svc } = await indexed('owlet-backup-restore-', 12);
  const made = await createBackup(deps(data, svc.ctx.key), 'manual');
  assert.ok(made.status === 'created');
  // The index moves on after the backup.
  fs.writeFileSync(path.join(root, 'extra.txt'), 'after the backup: loquatword');
  await svc.indexOnce();
  await svc.stop();
  const live = path.join(data, 'index.db');
  const before = fs.readFileSync(live);
  const dir = path.join(data, 'backups');

  // A proof that fails: the previous index is back, byte for byte.
  await assert.rejects(
    restoreBackup({ dataDir: data, dir, id: made.manifest.id, keys: svc.ctx.key ? [svc.ctx.key] : [], log: nullLogger, prove: () => 1 }),
    /holds 1 documents/,
  );
  assert.ok(fs.readFileSync(live).equals(before), 'the previous index is back in place');

  // Refused while a service runs on the data directory (this process plays the service).
  writeServiceInfo(data, { url: 'http://127.0.0.1:1', pid: process.pid, port: 1, version: 'test', startedAt: new Date().toISOString() });
  await assert.rejects(restoreLocal(data, made.manifest.id, nullLogger), (e: { code?: string }) => e.code === 'OWL_ERR_SERVICE_RUNNING');
  fs.rmSync(path.join(data, 'service.json'));

  const r = await restoreLocal(data, made.manifest.id, nullLogger);
  assert.equal(r.documents, 12);
  assert.ok(r.setAside && fs.existsSync(r.setAside), 'the replaced index is kept');
  assert.ok(fs.readFileSync(r.setAside).equals(before));
  const ctx = openIndex(data, { readonly: true });
  try {
    assert.equal(ctx.store.counts().indexed, 12, 'the index is the backup again');
  } finally {
    ctx.close();
  }
});

test('a backup is taken before a schema migration when the index holds documents', () => {
  const base = tmpDir('owlet-backup-migrate-');
  const data = path.join(base, 'data');
  writeConfig(data, { roots: [] });
  // An index written by an older Owlet: schema 2, plaintext, with documents.
  const old = new Database(path.join(data, 'index.db'));
  old.pragma('journal_mode = WAL');
  migrate(old, MIGRATIONS.slice(0, 2));
  old.prepare("INSERT INTO roots (id, path, added_at) VALUES (1, '/nowhere', 0)").run();
  const ins = old.prepare("INSERT INTO documents (path, root_id, ext, size, mtime_ms, status, indexed_at) VALUES (?, 1, 'txt', 1, 0, 'indexed', 0)");
  for (let i = 0; i < 5; i++) ins.run(`/nowhere/${i}.txt`);
  old.close();
  // Every writer opens the index with this hook (serve, owlet index, doctor, restore); openIndex
  // itself no longer reaches up into backup/.
  const ctx = openIndex(data, { beforeMigrate: backupBeforeMigration });
  try {
    assert.equal(ctx.db.pragma('user_version', { simple: true }), MIGRATIONS[MIGRATIONS.length - 1]!.version, 'migrated');
    const backups = listBackups(path.join(data, 'backups'));
    assert.equal(backups.length, 1);
    const m = backups[0]!.manifest;
    assert.equal(m.reason, 'pre-migration');
    assert.equal(m.schemaVersion, 2, 'the backup holds the index as it was before the migration');
    assert.equal(m.documentCount, 5);
    assert.equal(m.verification?.ok, true);
    assert.equal(m.encrypted, ctx.key !== null);
  } finally {
    ctx.close();
  }
  // No migration pending: no backup.
  openIndex(data, { beforeMigrate: backupBeforeMigration }).close();
  assert.equal(listBackups(path.join(data, 'backups')).length, 1);
});

test('backupBeforeUpdate (for the Electron updater) returns a verified backup; owlet backup create works without a service', async () => {
  const { data, svc } = await indexed('owlet-backup-update-', 6);
  await svc.stop();
  const m = await backupBeforeUpdate({ dataDir: data });
  assert.equal(m.reason, 'pre-update');
  assert.equal(m.verification?.ok, true);
  const local = await createLocal(data, 'manual', nullLogger);
  assert.ok(local.status === 'created' && isVerified(local.manifest));
  // One daily slot per day, but a pre-update backup is not pruned by surprise: a newer verified
  // backup exists, so its removal is announced, and it stays until the next pruning.
  assert.deepEqual(local.retention.announced, [m.id]);
  assert.deepEqual(listBackups(path.join(data, 'backups')).map((b) => b.manifest.id), [local.manifest.id, m.id]);
  const again = await createLocal(data, 'manual', nullLogger);
  assert.ok(again.status === 'created');
  // The newer backups are increments built on the pre-update one: retention keeps their chain whole.
  assert.equal(again.manifest.kind, 'incremental');
  assert.equal(again.manifest.baseId, m.id);
  assert.ok(listBackups(path.join(data, 'backups')).some((b) => b.manifest.id === m.id), 'kept: the newest point needs it');
  assert.deepEqual(again.retention.announced, [local.manifest.id]);
  assert.match(again.retention.message, /^kept \d+ daily, \d+ weekly, removed \d+$/);
});

test('a backup cancelled because the service stops leaves nothing behind and is not reported as a failure', async () => {
  const { data, svc } = await indexed('owlet-backup-cancel-', 60);
  try {
    const ac = new AbortController();
    const p = createBackup(deps(data, svc.ctx.key, { signal: ac.signal }), 'scheduled');
    setTimeout(() => ac.abort(), 5);
    await assert.rejects(p, /cancelled/);
    const dir = path.join(data, 'backups');
    assert.deepEqual(fs.readdirSync(dir), [], 'no temporary file, no manifest, no lock');
    assert.equal(readState(data).lastFailure, null);
  } finally {
    await svc.stop();
  }
});

test('a backup counts documents as status does: skipped and failed files are not documents (#10 "one definition of each count")', async () => {
  const { data, root, svc } = await indexed('owlet-backup-counts-', 10);
  try {
    // Files Owlet skips (binary without a known format) are rows of the index, not documents.
    for (let i = 0; i < 4; i++) fs.writeFileSync(path.join(root, `blob${i}.bin`), Buffer.from([0, 1, 2, 3, 0, 255, 254, 0, i]));
    await svc.indexOnce();
    svc.writer.flush();
    const counts = svc.ctx.store.counts();
    assert.equal(counts.indexed, 10);
    assert.ok((svc.ctx.db.prepare('SELECT count(*) AS n FROM documents').get() as { n: number }).n > 10, 'the skipped files are rows');
    const made = await createBackup(deps(data, svc.ctx.key), 'manual');
    assert.ok(made.status === 'created');
    assert.equal(made.manifest.documentCount, counts.indexed, 'the manifest says what status says');
    await svc.stop();
    const r = await restoreLocal(data, made.manifest.id, nullLogger);
    assert.equal(r.documents, 10, 'and the restore is proven against the same count');
  } finally {
    await svc.stop();
  }
});
