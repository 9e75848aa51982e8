import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import zlib from 'node:zlib';
import Database from 'better-sqlite3-multiple-ciphers';
import { createBackup } from '../../../src/indexer/backup/create.js';
import { decompress } from '../../../src/indexer/backup/codec.js';
import { keysForBackups, restoreLocal } from '../../../src/indexer/backup/local.js';
import { backupFile, listBackups, manifestFile, readManifest, writeManifest, type Manifest } from '../../../src/indexer/backup/manifest.js';
import { stageRestore, verifiedBackups } from '../../../src/indexer/backup/restore.js';
import { runTask } from '../../../src/indexer/backup/runner.js';
import { verifyBackup } from '../../../src/indexer/backup/verify.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';
import { openSecretStore } from '../../../src/indexer/security/secrets.js';
import { rotateDataKey } from '../../../src/indexer/store/rekey.js';
import { openIndex } from '../../../src/indexer/service/context.js';
import { parseQuery } from '../../../src/indexer/search/query.js';
import { indexedEncrypted as indexed, deps, made } from './fixtures.js';

/**
 * The backup format of issue 16 and the attacks of issue 11 (points 1, 5, 12): compress then
 * encrypt in authenticated chunks, incremental chains, signed manifests, bounded inflation.
 */

test('a forged backup (plaintext from another installation, "verified", dated 2099) is refused by verify, restore and recovery', async () => {
  const { base, data, svc, dir, key } = await indexed('owlet-bk2-forge-', 8);
  const real = await made(createBackup(deps(data, key), 'manual'));
  await svc.stop();
  // The attacker's own plaintext index, gzipped, with a manifest claiming everything.
  const theirs = path.join(base, 'theirs.db');
  const t = new Database(theirs);
  t.exec("CREATE TABLE documents (id INTEGER PRIMARY KEY, path TEXT); INSERT INTO documents (path) VALUES ('/planted')");
  t.close();
  const gz = zlib.gzipSync(fs.readFileSync(theirs));
  const id = '20991231T235959Z-beef';
  fs.writeFileSync(path.join(dir, `${id}.db.gz`), gz);
  const forged: Manifest = {
    ...real,
    format: 1,
    id,
    createdAt: '2099-12-31T23:59:59.000Z',
    size: gz.length,
    sha256: crypto.createHash('sha256').update(gz).digest('hex'),
    dbBytes: fs.statSync(theirs).size,
    dbSha256: crypto.createHash('sha256').update(fs.readFileSync(theirs)).digest('hex'),
    compression: 'gzip',
    encrypted: false,
    keyId: null,
    kind: 'full',
    mac: null,
    verification: { at: '2099-12-31T23:59:59.000Z', ok: true, message: null, checksum: true, integrity: true, documents: true },
  };
  fs.writeFileSync(manifestFile(dir, id), JSON.stringify(forged));
  // A format-2 manifest edited by hand (a later date) loses its signature.
  const edited = { ...readManifest(dir, real.id)!, documentCount: 999 };
  const editedId = '20261202T000000Z-abcd';
  fs.copyFileSync(backupFile(dir, real), path.join(dir, `${editedId}.owb`));
  fs.writeFileSync(manifestFile(dir, editedId), JSON.stringify({ ...edited, id: editedId }));

  const keys = keysForBackups(data);
  assert.deepEqual(verifiedBackups(dir, keys).map((m) => m.id), [real.id], 'recovery only ever considers the real backup');
  const v = await verifyBackup(dir, id, keys);
  assert.equal(v.ok, false);
  assert.match(v.message ?? '', /future|not encrypted/);
  assert.equal((await verifyBackup(dir, editedId, keys)).ok, false);
  await assert.rejects(restoreLocal(data, id, nullLogger), /future|not encrypted/);
  await assert.rejects(restoreLocal(data, editedId, nullLogger), /fails its authentication/);
  const entries = listBackups(dir, keys);
  assert.ok(entries.find((e) => e.manifest.id === id)?.untrusted);
  const r = await restoreLocal(data, real.id, nullLogger);
  assert.equal(r.documents, 8);
});

test('a backup made before "owlet key rotate" restores, re-keyed to the current key; verify does the same', async () => {
  const { data, svc, dir, key } = await indexed('owlet-bk2-rotate-', 10);
  const m = await made(createBackup(deps(data, key), 'manual'));
  await svc.stop();
  const store = openSecretStore(data, 'key-file');
  rotateDataKey(path.join(data, 'index.db'), store);
  const current = store.get('data-key')!;
  assert.equal(current.equals(key), false, 'the key changed');
  assert.equal((await verifyBackup(dir, m.id, keysForBackups(data))).ok, true);
  const r = await restoreLocal(data, m.id, nullLogger);
  assert.equal(r.documents, 10);
  const ctx = openIndex(data, { readonly: true });
  try {
    assert.ok(ctx.key?.equals(current), 'the restored index opens with the current key');
    assert.equal(ctx.search.search(parseQuery('uniq3word'), { limit: 5, offset: 0 }).total, 1, 'and searches');
  } finally {
    ctx.close();
  }
});

test('backup ids are one pattern everywhere: a path given as an id deletes nothing and marks nothing', async () => {
  const { base, data, svc, dir, key } = await indexed('owlet-bk2-ids-', 4);
  const real = await made(createBackup(deps(data, key), 'manual'));
  await svc.stop();
  const victim = path.join(base, 'victimdir');
  fs.mkdirSync(victim);
  fs.writeFileSync(path.join(victim, 'precious.txt'), 'keep me');
  fs.copyFileSync(manifestFile(dir, real.id), path.join(base, 'victimdir.json'));
  const evil = `x/../../${path.basename(victim)}`;
  await assert.rejects(verifyBackup(dir, evil, [key]), /is not a backup id/);
  await assert.rejects(runTask({ op: 'verify', dir, id: evil, keys: [key], at: new Date().toISOString(), lowPriority: false }), /is not a backup id/);
  await assert.rejects(stageRestore(data, dir, evil, [key]), /is not a backup id/);
  await assert.rejects(restoreLocal(data, evil, nullLogger), /is not a backup id/);
  assert.equal(fs.readFileSync(path.join(victim, 'precious.txt'), 'utf8'), 'keep me');
  assert.equal(readManifest(dir, real.id)?.verification?.ok, true, 'the real backup is not marked failed');
});

test('inflation is bounded: a gzip bomb with a matching checksum, and a chunk that inflates past its size, are refused without filling the disk', async () => {
  const { base, data, svc, dir, key } = await indexed('owlet-bk2-bomb-', 4);
  const real = await made(createBackup(deps(data, key), 'manual'));
  await svc.stop();
  // 64 MB of zeros in about 64 KB, declared as a small database, with a correct checksum.
  const bomb = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
  const id = '20261201T000000Z-b0b0';
  fs.writeFileSync(path.join(dir, `${id}.db.gz`), bomb);
  const m: Manifest = { ...real, format: 1, id, createdAt: '2026-12-01T00:00:00.000Z', size: bomb.length, sha256: crypto.createHash('sha256').update(bomb).digest('hex'), dbBytes: 65536, dbSha256: '0'.repeat(64), compression: 'gzip', encrypted: true, kind: 'full', mac: null, verification: null };
  writeManifest(dir, m, null);
  const target = path.join(base, 'bomb.db');
  await assert.rejects(runTask({ op: 'unpack', dir, id, keys: [key], target }), /inflates past its declared size/);
  assert.equal(fs.existsSync(target), false, 'the partial output is removed');
  // The chunk-level bound.
  const z = zlib.brotliCompressSync(Buffer.alloc(1024 * 1024));
  assert.throws(() => decompress('brotli', z, 1000), /inflates past its declared size/);
  // Free space is checked first: a backup that declares more than the disk has is refused before writing.
  const huge: Manifest = { ...readManifest(dir, real.id)!, dbBytes: 2 ** 50 };
  writeManifest(dir, huge, key);
  await assert.rejects(runTask({ op: 'unpack', dir, id: real.id, keys: [key], target }), /needs about \d+ MB free/);
});
