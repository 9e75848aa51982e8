import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { createBackup, type BackupAlert } from '../../../src/indexer/backup/create.js';
import { isVerified, listBackups, readManifest } from '../../../src/indexer/backup/manifest.js';
import { DEFAULT_BACKUP_CONFIG, type BackupConfig } from '../../../src/indexer/config/backup-settings.js';
import { readState } from '../../../src/indexer/backup/state.js';
import { parseQuery } from '../../../src/indexer/search/query.js';
import { MIGRATIONS } from '../../../src/indexer/store/migrations.js';
import { deps, indexed, sha256 } from './fixtures.js';


test('a backup is written under a temporary name, renamed into place only when complete, described by its manifest, and verified', async () => {
  const { data, svc } = await indexed('owlet-backup-create-');
  try {
    assert.ok(svc.ctx.key, 'the index is encrypted: Owlet has no unencrypted mode, so there is no "not applicable" case');
    const t0 = Date.now();
    const out = await createBackup(deps(data, svc.ctx.key), 'manual');
    assert.equal(out.status, 'created');
    if (out.status !== 'created') return;
    const m = out.manifest;
    const dir = path.join(data, 'backups');
    const file = path.join(dir, `${m.id}.owb`);
    const bytes = fs.readFileSync(file);
    assert.match(m.id, /^\d{8}T\d{6}Z-[0-9a-f]{4}$/);
    assert.ok(Math.abs(Date.parse(m.createdAt) - t0) < 60_000);
    assert.equal(m.owletVersion, svc.status().version);
    assert.equal(m.schemaVersion, MIGRATIONS[MIGRATIONS.length - 1]!.version);
    assert.equal(m.documentCount, 30);
    assert.equal(m.size, bytes.length);
    assert.equal(m.sha256, sha256(bytes));
    assert.ok(['zstd', 'brotli'].includes(m.compression));
    assert.deepEqual(readManifest(dir, m.id), m, 'the manifest on disk is the one returned');
    assert.ok(m.verification?.ok && m.verification.checksum && m.verification.integrity && m.verification.documents);
    assert.deepEqual((m.config as { roots: string[] }).roots, svc.config.roots, "Owlet's own state (its configuration) travels with the backup");
    const names = fs.readdirSync(dir).filter((n) => n !== '.lock');
    assert.deepEqual(names.sort(), [`${m.id}.json`, `${m.id}.owb`], 'no temporary file is left behind');
    assert.equal(m.encrypted, true);
    assert.equal(bytes.includes(Buffer.from('uniq7word')), false, 'a unique word of a document is not in the backup bytes');
    assert.equal(out.retention.message, 'kept 1 daily, 1 weekly, removed 0');
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
    const backup = createBackup(deps(data, svc.ctx.key), 'manual').finally(() => (done = true));
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
  // One page: no backup of 150 documents fits.
  const size = 4096;
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

