import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import Database from 'better-sqlite3-multiple-ciphers';
import { tmpDir } from '../../helpers/tmp.js';
import { repoRoot } from '../../helpers/cli.js';
import { openIndex } from '../../../src/indexer/service/context.js';
import { KeyFileSecretStore } from '../../../src/indexer/security/key-file.js';
import { MemorySecretStore } from '../../../src/indexer/security/secret-store.js';
import { applyKey, type Keying } from '../../../src/indexer/security/cipher.js';
import { convertLegacyKeying, openKeyedDatabase, rekeyPath } from '../../../src/indexer/store/data-key.js';
import { closeDatabase, openDatabase, usesLegacyKeying } from '../../../src/indexer/store/db.js';
import { openMetricsDb, METRICS_FILE } from '../../../src/indexer/store/metrics-db.js';
import { integrityCheckInWorker } from '../../../src/indexer/store/integrity-check.js';
import { rotateDataKey } from '../../../src/indexer/store/rekey.js';
import { restoreLocal } from '../../../src/indexer/backup/local.js';
import { keyId } from '../../../src/indexer/backup/keys.js';
import { writeManifest, type Manifest } from '../../../src/indexer/backup/manifest.js';
import { backupDir } from '../../../src/indexer/backup/paths.js';
import { SCHEMA_VERSION } from '../../../src/indexer/store/migrations.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';
import { serviceAuditLog } from '../../../src/indexer/audit/service-audit.js';
import { isOwletError } from '../../../src/shared/errors.js';

/**
 * The data key is 256 random bits, so it is used directly as the cipher key (sqlite3mc's raw
 * form) instead of being stretched by PBKDF2 on every open (`PRAGMA hexkey`, 64,007 rounds).
 * Files keyed the old way keep opening, and a writer converts them once, crash-safely.
 */

const sha = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');
const isKeyError = (e: unknown) => isOwletError(e) && e.code === 'OWL_ERR_DB_KEY' && /wrong or missing key/.test(e.message);

/** Which keying reads `file` with `key` (a plain connection, read-only): the format on disk. */
function opensWith(file: string, key: Buffer, keying: Keying): boolean {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    applyKey(db, key, keying);
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return true;
  } catch (e) {
    if ((e as { code?: string }).code === 'SQLITE_NOTADB') return false;
    throw e;
  } finally {
    db.close();
  }
}

/** Re-keys a file the way Owlet keyed every file before this change (hexkey: PBKDF2), keeping WAL mode. */
function toLegacyKeying(file: string, key: Buffer): void {
  const db = new Database(file);
  try {
    applyKey(db, key, 'raw');
    db.pragma('journal_mode = DELETE');
    db.pragma(`hexrekey='${key.toString('hex')}'`);
    db.pragma('journal_mode = WAL');
  } finally {
    db.close();
  }
}

/** An index of `docs` documents keyed the old way, with its key in a key-file store. */
function legacyIndex(docs: number, textBytes = 40) {
  const data = tmpDir('owlet-rawkey-');
  const store = new KeyFileSecretStore(data);
  const ctx = openIndex(data, { secrets: store });
  const rootId = ctx.store.ensureRoot('/r');
  ctx.db.transaction(() => {
    for (let i = 0; i < docs; i++) ctx.store.putIndexed({ path: `/r/d${i}.txt`, rootId, ext: 'txt', size: i, mtimeMs: i, fileId: null, hash: 'h', title: null, extractor: 'text', text: `word${i} ${randomBytes(textBytes).toString('base64')}` });
  })();
  ctx.close();
  const file = path.join(data, 'index.db');
  const key = store.get('data-key')!;
  toLegacyKeying(file, key);
  assert.ok(opensWith(file, key, 'legacy') && !opensWith(file, key, 'raw'), 'the fixture is keyed the old way');
  return { data, store, file, key };
}

const countDocs = (db: Database.Database) => (db.prepare('SELECT count(*) AS n FROM documents').get() as { n: number }).n;

test('new files are keyed with the raw key: the index and metrics.db do not open with the old hexkey keying', () => {
  const data = tmpDir('owlet-rawkey-');
  const store = new KeyFileSecretStore(data);
  const ctx = openIndex(data, { secrets: store });
  ctx.close();
  const key = store.get('data-key')!;
  const metrics = openMetricsDb(data, key);
  closeDatabase(metrics);
  for (const f of ['index.db', METRICS_FILE]) {
    const file = path.join(data, f);
    assert.equal(opensWith(file, key, 'raw'), true, `${f} opens with the raw key`);
    assert.equal(opensWith(file, key, 'legacy'), false, `${f} is not keyed through PBKDF2`);
  }
});

test('a legacy-keyed index opens read-only without being written, and the first writable open converts it keeping every row', () => {
  const { data, store, file, key } = legacyIndex(300);
  const before = sha(file);
  const ro = openIndex(data, { secrets: store, readonly: true });
  try {
    assert.equal(ro.store.counts().indexed, 300, 'read-only open of a legacy file reads everything');
    assert.equal(usesLegacyKeying(ro.db), true);
  } finally {
    ro.close();
  }
  assert.equal(sha(file), before, 'the read-only open left the file byte-for-byte unchanged');
  assert.ok(opensWith(file, key, 'legacy'), 'still keyed the old way');

  const { db, events } = openKeyedDatabase(file, store);
  try {
    assert.deepEqual(events, ['converted-keying']);
    assert.equal(usesLegacyKeying(db), false, 'the writer holds a raw-keyed connection');
    assert.equal(countDocs(db), 300);
    assert.equal(db.pragma('quick_check', { simple: true }), 'ok');
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  } finally {
    closeDatabase(db);
  }
  assert.equal(opensWith(file, key, 'raw'), true, 'converted to the raw keying');
  assert.equal(opensWith(file, key, 'legacy'), false);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.equal(fs.existsSync(rekeyPath(file)), false, 'no copy left beside it');
  const again = openIndex(data, { secrets: store });
  try {
    assert.equal(again.store.counts().indexed, 300);
    assert.equal((again.db.prepare('SELECT count(*) AS n FROM documents WHERE path = ?').get('/r/d299.txt') as { n: number }).n, 1, 'the last row is there');
  } finally {
    again.close();
  }
});

test('a wrong key is OWL_ERR_DB_KEY after both keyings, read-only or writable, and the file is untouched', () => {
  const legacy = legacyIndex(5);
  const rawData = tmpDir('owlet-rawkey-');
  const rawStore = new KeyFileSecretStore(rawData);
  openIndex(rawData, { secrets: rawStore }).close();
  for (const [what, data, file] of [['legacy', legacy.data, legacy.file], ['raw', rawData, path.join(rawData, 'index.db')]] as const) {
    const before = sha(file);
    const wrong = new MemorySecretStore('key-file', 'test', { 'data-key': Buffer.alloc(32, 9) });
    assert.throws(() => openIndex(data, { secrets: wrong }), isKeyError, `${what}: writable`);
    assert.throws(() => openIndex(data, { secrets: wrong, readonly: true }), isKeyError, `${what}: read-only`);
    assert.throws(() => openDatabase(file, { key: Buffer.alloc(32, 3) }), isKeyError, `${what}: openDatabase`);
    assert.equal(sha(file), before, `${what}: byte-for-byte unchanged`);
    assert.ok(!fs.existsSync(`${file}-wal`) || fs.statSync(`${file}-wal`).size === 0, `${what}: no WAL content`);
    assert.equal(fs.existsSync(rekeyPath(file)), false);
  }
  assert.ok(opensWith(legacy.file, legacy.key, 'legacy'), 'the legacy file was not converted by a failed open');
});

test('a conversion killed with SIGKILL at random moments always leaves a file one of the keyings opens, with every row', async () => {
  const DOCS = 2500;
  const { data, store, file, key } = legacyIndex(DOCS, 600);
  // The conversion's own duration, to spread the kills over it.
  const probe = path.join(tmpDir('owlet-rawkey-probe-'), 'index.db');
  fs.copyFileSync(file, probe);
  const t0 = performance.now();
  convertLegacyKeying(probe, key);
  const ms = performance.now() - t0;
  console.log(`database ${(fs.statSync(file).size / 1048576).toFixed(1)} MB; an uninterrupted conversion took ${ms.toFixed(0)} ms (load ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')})`);

  const child = `
    const { convertLegacyKeying } = await import(${JSON.stringify(path.join(repoRoot, 'src/indexer/store/data-key.ts'))});
    const key = Buffer.from(process.argv[1], 'hex');
    process.stdout.write('ready\\n');
    await new Promise((r) => process.stdin.once('data', r));
    convertLegacyKeying(process.argv[2], key);
    process.stdout.write('done\\n');
  `;
  const outcomes: string[] = [];
  for (let i = 0; i < 8; i++) {
    if (!opensWith(file, key, 'legacy')) toLegacyKeying(file, key);
    const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child, key.toString('hex'), file], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the child did not start in 60 s')), 60_000);
      p.stdout!.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    p.stdin!.write('go\n');
    const delay = Math.random() * ms * 2;
    await new Promise((r) => setTimeout(r, delay));
    p.kill('SIGKILL');
    await new Promise((r) => p.once('exit', r));
    const finished = out.includes('done');
    const keying = opensWith(file, key, 'raw') ? 'raw' : opensWith(file, key, 'legacy') ? 'legacy' : 'neither';
    assert.notEqual(keying, 'neither', `after a kill at ${delay.toFixed(0)} ms the file must open with one of the keyings`);
    // A read-only open (no recovery, no writes) reads every row.
    const ro = openDatabase(file, { key, readonly: true });
    try {
      assert.equal(countDocs(ro), DOCS);
    } finally {
      closeDatabase(ro);
    }
    outcomes.push(`${delay.toFixed(0)} ms: ${finished ? 'finished' : 'killed'}, ${keying}`);
  }
  console.log(`kills:\n  ${outcomes.join('\n  ')}`);
  // The next writable open clears any leftover copy and ends raw-keyed.
  const { db } = openKeyedDatabase(file, store);
  try {
    assert.equal(countDocs(db), DOCS);
    assert.equal(db.pragma('quick_check', { simple: true }), 'ok');
  } finally {
    closeDatabase(db);
  }
  assert.ok(opensWith(file, key, 'raw'));
  assert.deepEqual(fs.readdirSync(data).filter((f) => f.startsWith('index.db') && f !== 'index.db' && !f.endsWith('-wal') && !f.endsWith('-shm')), [], 'no leftovers');
});

test('a legacy-keyed metrics.db is converted on its writable open; the integrity check reads a legacy index read-only', async () => {
  const { data, file, key } = legacyIndex(20);
  const m = openMetricsDb(data, key);
  m.prepare("INSERT INTO kv (key, value) VALUES ('probe', 'kept')").run();
  closeDatabase(m);
  const metrics = path.join(data, METRICS_FILE);
  toLegacyKeying(metrics, key);
  const again = openMetricsDb(data, key);
  try {
    assert.equal((again.prepare("SELECT value FROM kv WHERE key = 'probe'").get() as { value: string }).value, 'kept');
  } finally {
    closeDatabase(again);
  }
  assert.ok(opensWith(metrics, key, 'raw') && !opensWith(metrics, key, 'legacy'), 'metrics.db converted');

  const before = sha(file);
  const check = await integrityCheckInWorker(file, { key, timeoutMs: 60_000 });
  assert.equal(check.ok, true, check.message);
  assert.equal(check.inconclusive, undefined);
  const wrong = await integrityCheckInWorker(file, { key: Buffer.alloc(32, 4), timeoutMs: 60_000 });
  assert.equal(wrong.ok, false, 'a key neither keying accepts is not reported healthy');
  assert.equal(sha(file), before, 'the check did not convert or write');
});

test('key rotation of a legacy-keyed index converts it first, and a backup made the old way (legacy-keyed copy) still restores', async () => {
  const { data, store, file, key } = legacyIndex(12);
  // A format-1 backup as earlier versions wrote it: a VACUUM INTO copy under the old keying, gzipped.
  const copyDir = tmpDir('owlet-rawkey-copy-');
  const copy = path.join(copyDir, 'copy.db');
  const src = new Database(file, { readonly: true });
  applyKey(src, key, 'legacy');
  src.exec(`VACUUM INTO '${copy}'`);
  src.close();
  assert.ok(opensWith(copy, key, 'legacy') && !opensWith(copy, key, 'raw'), 'the backup copy is keyed the old way');

  const old = key;
  const r = rotateDataKey(file, store, () => {}, [path.join(data, METRICS_FILE)]);
  assert.equal(r.documents, 12);
  const current = store.get('data-key')!;
  assert.ok(!current.equals(old));
  assert.ok(opensWith(file, current, 'raw'), 'the rotated index is raw-keyed under the new key');

  const dir = backupDir(data, null);
  const bytes = fs.readFileSync(copy);
  const gz = zlib.gzipSync(bytes, { level: 1 });
  const id = '20261101T020000Z-0ab1';
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(dir, `${id}.db.gz`), gz, { mode: 0o600 });
  const h = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const manifest: Manifest = {
    format: 1, id, createdAt: '2026-11-01T02:00:00.000Z', reason: 'scheduled', owletVersion: '0.0.9', schemaVersion: SCHEMA_VERSION,
    documentCount: 12, size: gz.length, sha256: h(gz), dbBytes: bytes.length, dbSha256: h(bytes), compression: 'gzip', encrypted: true,
    keyId: keyId(old), config: null, verification: { at: '2026-11-01T02:00:05.000Z', ok: true, message: null, checksum: true, integrity: true, documents: true },
    kind: 'full', parentId: null, baseId: null, changeSeq: null, indexUuid: null, rawBytes: 0, mac: null,
  };
  writeManifest(dir, manifest, null);
  const restored = await restoreLocal(data, id, nullLogger);
  assert.equal(restored.documents, 12);
  assert.ok(opensWith(file, current, 'raw'), 'the restore re-keyed the old backup to the current key, raw');
  const ctx = openIndex(data, { secrets: store, readonly: true });
  try {
    assert.equal(ctx.store.counts().indexed, 12);
  } finally {
    ctx.close();
  }
});

test('the conversion is recorded in the audit trail (same key, the PBKDF2 keying left behind)', () => {
  const { data, store } = legacyIndex(3);
  const ctx = openIndex(data, { secrets: store });
  try {
    assert.deepEqual(ctx.keyEvents, ['converted-keying']);
    serviceAuditLog(ctx, nullLogger);
  } finally {
    ctx.close();
  }
  const entries = fs.readdirSync(path.join(data, 'audit')).filter((f) => f.endsWith('.jsonl'))
    .flatMap((f) => fs.readFileSync(path.join(data, 'audit', f), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event: string; fields: Record<string, unknown> }));
  assert.ok(entries.some((e) => e.event === 'key.migrated' && e.fields.from === 'pbkdf2-keyed' && e.fields.to === 'raw-keyed'), JSON.stringify(entries.map((e) => e.event)));
});

test('a conversion while another connection reads the file gives up before copying anything, and the open works on the old keying', () => {
  const { store, file, key } = legacyIndex(50);
  const reader = new Database(file, { readonly: true, fileMustExist: true });
  try {
    applyKey(reader, key, 'legacy');
    // A read transaction in progress: its snapshot pins the WAL, so the checkpoint reports busy.
    reader.exec('BEGIN');
    reader.prepare('SELECT count(*) FROM documents').get();
    const w = new Database(file);
    applyKey(w, key, 'legacy');
    w.prepare("UPDATE meta SET value = value WHERE key = 'change_seq'").run(); // a frame in the WAL
    w.close();
    assert.throws(() => convertLegacyKeying(file, key), (e: unknown) => isOwletError(e) && e.code === 'OWL_ERR_DB_BUSY');
    assert.equal(fs.existsSync(rekeyPath(file)), false, 'no copy was made');
    const { db, events } = openKeyedDatabase(file, store);
    try {
      assert.deepEqual(events, ['conversion-deferred'], 'the open says the conversion is deferred');
      assert.equal(usesLegacyKeying(db), true);
      assert.equal(countDocs(db), 50);
    } finally {
      closeDatabase(db);
    }
  } finally {
    reader.close();
  }
  assert.equal(opensWith(file, key, 'legacy'), true, 'still keyed the old way, untouched');
});
