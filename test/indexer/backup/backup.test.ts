import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import zlib from 'node:zlib';
import Database from 'better-sqlite3-multiple-ciphers';
import { createBackup, type BackupAlert, type BackupDeps } from '../../../src/indexer/backup/create.js';
import { createLocal, restoreLocal } from '../../../src/indexer/backup/local.js';
import { isVerified, listBackups, readManifest } from '../../../src/indexer/backup/manifest.js';
import { restoreBackup } from '../../../src/indexer/backup/restore.js';
import { DEFAULT_BACKUP_CONFIG, type BackupConfig } from '../../../src/indexer/backup/settings.js';
import { readState } from '../../../src/indexer/backup/state.js';
import { backupBeforeUpdate } from '../../../src/indexer/backup/update.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';
import { openIndex } from '../../../src/indexer/service/context.js';
import { OwletService } from '../../../src/indexer/service/service.js';
import { parseQuery } from '../../../src/indexer/search/query.js';
import { writeServiceInfo } from '../../../src/indexer/service/service-file.js';
import { MIGRATIONS, migrate } from '../../../src/indexer/store/migrations.js';
import { tmpDir } from '../../helpers/tmp.js';
import { makeCorpus, writeConfig } from './helpers.js';
import { backupBeforeMigration } from '../../../src/indexer/backup/migration.js';

async function indexed(prefix: string, files = 30, config: Record<string, unknown> = {}) {
  const base = tmpDir(prefix);
  const root = path.join(base, 'docs');
  const data = path.join(base, 'data');
  makeCorpus(root, files);
  writeConfig(data, { roots: [root], ...config });
  const svc = new OwletService({ dataDir: data, log: nullLogger, watch: false });
  await svc.indexOnce();
  svc.writer.flush();
  return { base, root, data, svc };
}

function deps(data: string, key: Buffer | null, extra: Partial<BackupDeps> = {}): BackupDeps {
  return { dataDir: data, settings: DEFAULT_BACKUP_CONFIG, key, log: nullLogger, level: 1, ...extra };
}

const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

test('a backup is compressed, renamed into place only when complete, described by its manifest, and verified', async () => {
  const { data, svc } = await indexed('owlet-backup-create-');
  try {
    const t0 = Date.now();
    const out = await createBackup(deps(data, svc.ctx.key), 'manual');
    assert.equal(out.status, 'created');
    if (out.status !== 'created') return;
    const m = out.manifest;
    const dir = path.join(data, 'backups');
    const file = path.join(dir, `${m.id}.db.gz`);
    const bytes = fs.readFileSync(file);
    assert.match(m.id, /^\d{8}T\d{6}Z-[0-9a-f]{4}$/);
    assert.ok(Math.abs(Date.parse(m.createdAt) - t0) < 60_000);
    assert.equal(m.owletVersion, svc.status().version);
    assert.equal(m.schemaVersion, MIGRATIONS[MIGRATIONS.length - 1]!.version);
    assert.equal(m.documentCount, 30);
    assert.equal(m.size, bytes.length);
    assert.equal(m.sha256, sha256(bytes));
    assert.equal(m.compression, 'gzip');
    assert.deepEqual(readManifest(dir, m.id), m, 'the manifest on disk is the one returned');
    assert.ok(m.verification?.ok && m.verification.checksum && m.verification.integrity && m.verification.documents);
    assert.deepEqual((m.config as { roots: string[] }).roots, svc.config.roots, "Owlet's own state (its configuration) travels with the backup");
    const names = fs.readdirSync(dir).filter((n) => n !== '.lock');
    assert.deepEqual(names.sort(), [`${m.id}.db.gz`, `${m.id}.json`], 'no temporary file is left behind');
    const inner = zlib.gunzipSync(bytes);
    assert.equal(sha256(inner), m.dbSha256);
    // Encryption: a backup of an encrypted index is never plaintext. Which case ran is printed.
    const word = Buffer.from('uniq7word');
    if (svc.ctx.key) {
      assert.equal(m.encrypted, true);
      assert.notEqual(inner.subarray(0, 16).toString('latin1'), 'SQLite format 3\0', 'the database inside is encrypted');
      assert.equal(inner.includes(word), false, 'a unique word of a document is not in the backup bytes');
      assert.equal(bytes.includes(word), false);
      console.log('# encryption case: the index is encrypted; the backup is encrypted with the same key (checked: no document word in the decompressed bytes)');
    } else {
      assert.equal(m.encrypted, false);
      assert.equal(inner.subarray(0, 16).toString('latin1'), 'SQLite format 3\0');
      console.log('# encryption case: the index is NOT encrypted in this build; the backup is plain too (encryption check not applicable)');
    }
  } finally {
    await svc.stop();
  }
});

test('searches issued during a backup all succeed (the copy runs on its own connection in a worker thread)', async () => {
  const { data, svc } = await indexed('owlet-backup-search-', 120);
  try {
    const latencies: number[] = [];
    const failures: unknown[] = [];
    let done = false;
    const backup = createBackup(deps(data, svc.ctx.key, { level: 9 }), 'manual').finally(() => (done = true));
    while (!done) {
      const t0 = performance.now();
      try {
        // Straight to the database (the service's result cache would hide the reads).
        const r = svc.ctx.search.search(parseQuery(`heron uniq${latencies.length % 120}word`), { limit: 10, offset: 0 });
        assert.equal(r.total, 1);
      } catch (e) {
        failures.push(e);
      }
      latencies.push(performance.now() - t0);
      await new Promise((r) => setImmediate(r));
    }
    const out = await backup;
    assert.equal(out.status, 'created');
    assert.deepEqual(failures, [], 'no search failed');
    assert.ok(latencies.length > 0, 'searches ran while the backup did');
    const sorted = [...latencies].sort((a, b) => a - b);
    const p = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!.toFixed(2);
    console.log(`# ${latencies.length} searches during a ${out.status === 'created' ? out.ms : 0} ms backup: p50 ${p(0.5)} ms, p99 ${p(0.99)} ms, max ${p(1)} ms`);
  } finally {
    await svc.stop();
  }
});

function tryMount(dir: string, bytes: number): string | null {
  if (process.platform !== 'linux') return 'tmpfs mounts are a Linux feature';
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { stdio: 'pipe' });
    return null;
  } catch (e) {
    return `mount -t tmpfs is not permitted here: ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}`;
  }
}

test('disk full during a backup leaves no half backup, nothing marked verified; a backup that cannot fit is skipped with an alert', async (t) => {
  const { base, data, svc } = await indexed('owlet-backup-full-', 150);
  const mnt = path.join(base, 'small');
  fs.mkdirSync(mnt);
  svc.ctx.db.pragma('wal_checkpoint(TRUNCATE)');
  const dbBytes = fs.statSync(path.join(data, 'index.db')).size;
  // Room for the uncompressed copy, not for the compressed file next to it.
  const size = Math.ceil((dbBytes + 64 * 1024) / 4096) * 4096;
  const why = tryMount(mnt, size);
  if (why) {
    await svc.stop();
    t.skip(why);
    return;
  }
  try {
    const settings: BackupConfig = { ...DEFAULT_BACKUP_CONFIG, dir: mnt };
    const alerts: BackupAlert[] = [];
    // 1. The free-space check is told there is room (a volume filling up meanwhile): the write fails.
    const lying = async () => ({ free: 50 * 2 ** 30, total: 100 * 2 ** 30 });
    await assert.rejects(createBackup(deps(data, svc.ctx.key, { settings, space: lying, onAlert: (a) => alerts.push(a) }), 'manual'), (e: { code?: string }) => {
      assert.equal(e.code, 'OWL_ERR_BACKUP_NO_SPACE');
      return true;
    });
    assert.deepEqual(fs.readdirSync(mnt), [], 'nothing is left on the full disk: no partial file, no copy, no manifest');
    assert.equal(listBackups(mnt).filter((b) => isVerified(b.manifest)).length, 0);
    assert.match(readState(data).lastFailure?.message ?? '', /filled up/);
    assert.ok(alerts.some((a) => a.id === 'backup-failed'));
    // 2. The real free-space check: the backup would not fit, so it is skipped, not attempted.
    const out = await createBackup(deps(data, svc.ctx.key, { settings, onAlert: (a) => alerts.push(a) }), 'scheduled');
    assert.equal(out.status, 'skipped');
    assert.ok(alerts.some((a) => a.id === 'backup-skipped-no-space'));
    assert.match(readState(data).lastSkip?.message ?? '', /backup skipped: it needs about \d+ MB free/);
    assert.deepEqual(fs.readdirSync(mnt), []);
    console.log(`# tmpfs of ${size} bytes for an index of ${dbBytes} bytes`);
  } finally {
    execFileSync('umount', [mnt]);
    await svc.stop();
  }
});

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
  // Retention keeps one backup per day: the newer one replaced the pre-update backup of today.
  assert.deepEqual(listBackups(path.join(data, 'backups')).map((b) => b.manifest.id), [local.manifest.id]);
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
