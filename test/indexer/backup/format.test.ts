import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { createBackup } from '../../../src/indexer/backup/create.js';
import { backupSecret, keyId } from '../../../src/indexer/backup/keys.js';
import { backupFile, type Manifest } from '../../../src/indexer/backup/manifest.js';
import { verifiedBackups } from '../../../src/indexer/backup/restore.js';
import { runTask } from '../../../src/indexer/backup/runner.js';
import { HEADER_BYTES, MAGIC, openSeal } from '../../../src/indexer/backup/sealed.js';
import { verifyBackup } from '../../../src/indexer/backup/verify.js';
import type { UnpackResult } from '../../../src/indexer/backup/worker.js';
import { docsOf, indexedEncrypted as indexed, deps, made, openRestored } from './fixtures.js';

/**
 * The backup format of issue 16 and the attacks of issue 11 (points 1, 5, 12): compress then
 * encrypt in authenticated chunks, incremental chains, signed manifests, bounded inflation.
 */

test('a full backup is compressed then encrypted: sealed chunks, no plaintext, a signed manifest, verified by a restore', async () => {
  const { data, svc, dir, key } = await indexed('owlet-bk2-full-');
  try {
    const m = await made(createBackup(deps(data, key), 'manual'));
    const bytes = fs.readFileSync(backupFile(dir, m));
    assert.equal(m.format, 2);
    assert.equal(m.kind, 'full');
    assert.ok(bytes.subarray(0, 8).equals(MAGIC), 'an Owlet backup header');
    assert.equal(bytes.includes(Buffer.from('uniq7word')), false, 'no document word in the backup bytes');
    assert.equal(bytes.includes(Buffer.from('SQLite format 3')), false, 'no database page in clear');
    assert.equal(m.sha256, crypto.createHash('sha256').update(bytes).digest('hex'));
    assert.match(m.mac ?? '', /^[0-9a-f]{64}$/, 'the manifest is signed');
    assert.equal(m.keyId, keyId(key));
    assert.ok(m.verification?.ok && m.verification.integrity && m.verification.documents, `verified: ${m.verification?.message}`);
    assert.deepEqual(fs.readdirSync(dir).filter((n) => n !== '.lock').sort(), [`${m.id}.json`, `${m.id}.owb`], 'no temporary file is left');
    svc.ctx.db.pragma('wal_checkpoint(TRUNCATE)');
    const live = fs.statSync(path.join(data, 'index.db')).size;
    console.log(`# full backup: ${m.size} bytes for an index of ${live} bytes (${((100 * m.size) / live).toFixed(0)}%), codec ${m.compression}`);
  } finally {
    await svc.stop();
  }
});

test('full + 3 increments restore to exactly the index; a missing increment is refused and the chain falls back to its last complete point', async () => {
  const { base, root, data, svc, dir, key } = await indexed('owlet-bk2-chain-', 40);
  try {
    const full = await made(createBackup(deps(data, key), 'scheduled'));
    const incs: Manifest[] = [];
    const states: string[][] = [];
    for (let round = 1; round <= 3; round++) {
      fs.writeFileSync(path.join(root, `added${round}.txt`), `new in round ${round}: quince${round}word`);
      // (makeCorpus puts every third file in sub/)
      fs.writeFileSync(path.join(root, `doc${[1, 2, 4][round - 1]}.txt`), `changed in round ${round}: medlar${round}word`);
      fs.rmSync(path.join(root, `doc${[11, 13, 14][round - 1]}.txt`));
      await svc.indexOnce();
      svc.writer.flush();
      const m = await made(createBackup(deps(data, key), 'scheduled'));
      assert.equal(m.kind, 'incremental', `round ${round} is an increment`);
      assert.equal(m.parentId, round === 1 ? full.id : incs[round - 2]!.id);
      assert.equal(m.baseId, full.id);
      assert.ok(m.verification?.ok, m.verification?.message ?? '');
      // Content, not file size (this corpus compresses to almost nothing): 3 of 40 documents.
      assert.ok(m.rawBytes < full.rawBytes / 2, `an increment (${m.rawBytes} bytes inside) holds much less than the full backup (${full.rawBytes})`);
      incs.push(m);
      states.push(docsOf(svc.ctx.db));
    }
    // Restore the newest point: the chain is replayed into a fresh file under the current key.
    const target = path.join(base, 'restored.db');
    const r = await runTask<UnpackResult>({ op: 'unpack', dir, id: incs[2]!.id, keys: [key], target });
    assert.deepEqual(r.chain, [full.id, ...incs.map((m) => m.id)]);
    const db = openRestored(target, key);
    try {
      assert.deepEqual(docsOf(db), states[2], 'the same documents as the index at the last backup');
      const hit = (w: string) => (db.prepare('SELECT count(*) AS n FROM docs_fts WHERE docs_fts MATCH ?').get(w) as { n: number }).n;
      assert.equal(hit('quince3word'), 1, 'an added document is searchable');
      assert.equal(hit('medlar2word'), 1, 'a changed document has its new text');
      assert.equal(hit('uniq13word'), 0, 'a removed document is gone');
    } finally {
      db.close();
    }
    assert.equal((await verifyBackup(dir, incs[2]!.id, [key])).ok, true, 'the chain verifies as a chain');

    // One increment goes missing: restoring past it is refused, naming it.
    fs.rmSync(backupFile(dir, incs[1]!));
    await assert.rejects(runTask({ op: 'unpack', dir, id: incs[2]!.id, keys: [key], target }), new RegExp(`backup ${incs[1]!.id}|${incs[1]!.id}\\.owb`));
    const v = await verifyBackup(dir, incs[2]!.id, [key]);
    assert.equal(v.ok, false);
    assert.match(v.message ?? '', new RegExp(incs[1]!.id));
    // Automatic recovery falls back to the last complete point.
    const usable = verifiedBackups(dir, [key]).map((m) => m.id);
    assert.deepEqual(usable, [incs[0]!.id, full.id]);
    const back = await runTask<UnpackResult>({ op: 'unpack', dir, id: incs[0]!.id, keys: [key], target });
    assert.equal(back.documents, JSON.parse(`[${states[0]!.length}]`)[0]);
  } finally {
    await svc.stop();
  }
});

test('an increment is verified against the chain it extends: a full backup damaged since it was made leaves the increment unverified', async () => {
  const { root, data, svc, dir, key } = await indexed('owlet-bk2-rot-', 20);
  try {
    const full = await made(createBackup(deps(data, key), 'scheduled'));
    // Bit rot in the full backup: same size, so only its checksum can tell.
    const file = backupFile(dir, full);
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 20]! ^= 0xff;
    fs.writeFileSync(file, bytes);
    fs.writeFileSync(path.join(root, 'doc1.txt'), 'changed after the full backup: rowanword');
    await svc.indexOnce();
    svc.writer.flush();
    const r = await createBackup(deps(data, key), 'scheduled');
    assert.equal(r.status, 'created');
    const inc = (r as { manifest: Manifest }).manifest;
    assert.equal(inc.kind, 'incremental');
    assert.equal(inc.verification?.ok, false, 'not verified: its chain does not match its checksums');
    assert.match(inc.verification?.message ?? '', new RegExp(`${full.id}\\.owb`));
    assert.deepEqual(verifiedBackups(dir, [key]).map((m) => m.id).includes(inc.id), false, 'never offered for an automatic restore');
  } finally {
    await svc.stop();
  }
});

test('a truncated file, a chunk swapped in from another backup and the wrong key are all refused', async () => {
  const { base, data, svc, dir, key } = await indexed('owlet-bk2-tamper-', 60);
  try {
    // Small chunks, so the file has many.
    const a = await made(createBackup(deps(data, key, { full: true, chunkBytes: 4096 }), 'manual'));
    const b = await made(createBackup(deps(data, key, { full: true, chunkBytes: 4096 }), 'manual'));
    const secret = backupSecret(key);
    const read = (file: string, id: string, m: Manifest) => {
      for (const _ of openSeal(file, secret, id, m.rawBytes).chunks());
    };
    const bytesA = fs.readFileSync(backupFile(dir, a));
    const bytesB = fs.readFileSync(backupFile(dir, b));
    read(backupFile(dir, a), a.id, a);

    // Truncated: cut after the first chunk, and inside it.
    const firstLen = bytesA.readUInt32BE(HEADER_BYTES) + 5 + 16;
    const cut = path.join(base, 'cut.owb');
    fs.writeFileSync(cut, bytesA.subarray(0, HEADER_BYTES + firstLen));
    assert.throws(() => read(cut, a.id, a), /truncated|final/);
    fs.writeFileSync(cut, bytesA.subarray(0, bytesA.length - 7));
    assert.throws(() => read(cut, a.id, a), /truncated/);

    // A chunk of backup b spliced into backup a at the same position.
    const firstLenB = bytesB.readUInt32BE(HEADER_BYTES) + 5 + 16;
    const spliced = Buffer.concat([bytesA.subarray(0, HEADER_BYTES), bytesB.subarray(HEADER_BYTES, HEADER_BYTES + firstLenB), bytesA.subarray(HEADER_BYTES + firstLen)]);
    const sw = path.join(base, 'swapped.owb');
    fs.writeFileSync(sw, spliced);
    assert.throws(() => read(sw, a.id, a), /fails authentication at chunk 0/);
    // The whole of b presented as a: bound to its id.
    assert.throws(() => read(backupFile(dir, b), a.id, a), /fails authentication/);

    // The same, through verify: the tampered file fails and says which file.
    fs.writeFileSync(backupFile(dir, a), spliced);
    const v = await verifyBackup(dir, a.id, [key]);
    assert.equal(v.ok, false);
    assert.match(v.message ?? '', new RegExp(`${a.id}\\.owb`));

    // The wrong key: another installation's.
    const other = crypto.randomBytes(32);
    assert.throws(() => read(backupFile(dir, b), b.id, b) === undefined && openSeal(backupFile(dir, b), backupSecret(other), b.id, b.rawBytes).chunks().next(), /fails authentication/);
    await assert.rejects(runTask({ op: 'unpack', dir, id: b.id, keys: [other], target: path.join(base, 'x.db') }), /key this installation does not have/);
    assert.equal(fs.existsSync(path.join(base, 'x.db')), false, 'nothing is left of a refused restore');
  } finally {
    await svc.stop();
  }
});

