import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { createBackup } from '../../../src/indexer/backup/create.js';
import { keyId } from '../../../src/indexer/backup/keys.js';
import { restoreLocal } from '../../../src/indexer/backup/local.js';
import { backupFile, listBackups, newBackupId, writeManifest, type Manifest } from '../../../src/indexer/backup/manifest.js';
import { runTask } from '../../../src/indexer/backup/runner.js';
import { verifyBackup } from '../../../src/indexer/backup/verify.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';
import { parseQuery } from '../../../src/indexer/search/query.js';
import { openIndex } from '../../../src/indexer/service/context.js';
import { SCHEMA_VERSION } from '../../../src/indexer/store/migrations.js';
import { deps, indexedEncrypted as indexed, made, sha256 } from './fixtures.js';

/**
 * Issue 16, migration: backups written before the compressed format (format 1: a VACUUM INTO copy,
 * encrypted with the index's key, then gzipped; a manifest without MAC) stay restorable and are
 * pruned by the normal retention, like any other backup.
 */

test('a .db.gz backup from before issue 16 verifies, restores under the current key, and is pruned by the normal retention', async () => {
  const { base, data, svc, dir, key } = await indexed('owlet-bk2-legacy-', 12);
  // The old method, as it wrote backups: an encrypted copy, gzipped, and its manifest.
  const copy = path.join(base, 'copy.db');
  await runTask({ op: 'snapshot', source: path.join(data, 'index.db'), dest: copy, key, method: 'vacuum', lowPriority: false });
  await svc.stop();
  const db = fs.readFileSync(copy);
  const gz = zlib.gzipSync(db, { level: 1 });
  const id = '20261101T020000Z-01d0';
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(dir, `${id}.db.gz`), gz, { mode: 0o600 });
  const legacy: Manifest = {
    format: 1, id, createdAt: '2026-11-01T02:00:00.000Z', reason: 'scheduled', owletVersion: '0.0.9', schemaVersion: SCHEMA_VERSION,
    documentCount: 12, size: gz.length, sha256: sha256(gz), dbBytes: db.length, dbSha256: sha256(db), compression: 'gzip', encrypted: true,
    keyId: keyId(key), config: null, verification: { at: '2026-11-01T02:00:05.000Z', ok: true, message: null, checksum: true, integrity: true, documents: true },
    kind: 'full', parentId: null, baseId: null, changeSeq: null, indexUuid: null, rawBytes: 0, mac: null,
  };
  writeManifest(dir, legacy, null);
  assert.deepEqual(listBackups(dir, [key]).map((b) => [b.manifest.id, b.untrusted]), [[id, null]], 'listed, and trusted: a key of this installation opens it');

  const v = await verifyBackup(dir, id, [key]);
  assert.equal(v.ok, true, v.message ?? '');
  const r = await restoreLocal(data, id, nullLogger);
  assert.equal(r.documents, 12);
  const ctx = openIndex(data, { readonly: true });
  try {
    assert.ok(ctx.key?.equals(key), 'the restored index opens with the current key');
    assert.equal(ctx.search.search(parseQuery('uniq3word'), { limit: 5, offset: 0 }).total, 1, 'and searches');
  } finally {
    ctx.close();
  }

  // The next backups are of the new format. One real one, then signed stand-ins for a daily
  // backup on each day back to 2026-11-10 (copies of its file: retention reads manifests only).
  const at = (iso: string) => () => Date.parse(iso);
  const first = await made(createBackup(deps(data, key, { now: at('2026-12-03T01:00:00.000Z') }), 'scheduled'));
  assert.ok(listBackups(dir).some((b) => b.manifest.id === id), 'kept while it is one of the few restore points');
  for (let day = Date.parse('2026-11-10T02:00:00.000Z'); day < Date.parse('2026-12-03T00:00:00.000Z'); day += 86_400_000) {
    const m: Manifest = { ...first, id: newBackupId(day), createdAt: new Date(day).toISOString(), kind: 'full', parentId: null, baseId: null };
    fs.copyFileSync(backupFile(dir, first), backupFile(dir, m));
    writeManifest(dir, m, key);
  }
  const last = await made(createBackup(deps(data, key, { now: at('2026-12-03T02:00:00.000Z') }), 'scheduled'));
  assert.equal(last.format, 2);
  const left = listBackups(dir).map((b) => b.manifest.id);
  assert.ok(left.includes(last.id) && left.length <= 7 + 4, `7 daily + 4 weekly points at most: ${left.join(', ')}`);
  assert.equal(left.includes(id), false, 'the .db.gz backup, older than the 4 weekly points, was pruned');
  assert.equal(fs.existsSync(path.join(dir, `${id}.db.gz`)), false);
  assert.equal(fs.existsSync(path.join(dir, `${id}.json`)), false);
});
