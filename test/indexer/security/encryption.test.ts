import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { tmpDir, writeTree } from '../../helpers/tmp.js';
import { OwletService } from '../../../src/indexer/service/service.js';
import { openIndex } from '../../../src/indexer/service/context.js';
import { saveConfig } from '../../../src/indexer/config/load.js';
import { defaultConfig } from '../../../src/indexer/config/schema.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';
import { closeDatabase, openDatabase } from '../../../src/indexer/store/db.js';
import { migrate } from '../../../src/indexer/store/migrations.js';
import { DocumentStore } from '../../../src/indexer/store/documents.js';
import { KeyFileSecretStore } from '../../../src/indexer/security/key-file.js';
import { MemorySecretStore } from '../../../src/indexer/security/secret-store.js';
import { assertEncrypted, fileHeaderIsPlain } from '../../../src/indexer/security/cipher.js';
import { openKeyedDatabase, plaintextAsidePath, migratingPath, candidateKeys } from '../../../src/indexer/store/data-key.js';
import { rotateDataKey, type RotationStep } from '../../../src/indexer/store/rekey.js';
import { isOwletError } from '../../../src/shared/errors.js';
import { parseQuery } from '../../../src/indexer/search/query.js';

const sha = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');

/** Every file under dir whose bytes contain one of the words (they must be none). */
function filesContaining(dir: string, words: string[]): string[] {
  const hits: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const b = fs.readFileSync(p);
        for (const w of words) if (b.includes(Buffer.from(w, 'utf8')) || b.includes(Buffer.from(w, 'utf16le'))) hits.push(`${path.relative(dir, p)}: ${w}`);
      }
    }
  };
  walk(dir);
  return hits;
}

const WORDS = ['zanzibarquokka', 'xylophonewombat'];

test('the index, its WAL and a VACUUM INTO backup hold none of an indexed document\'s unique words', async () => {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  writeTree(root, { 'zanzibarquokka.txt': `A note about the ${WORDS[0]} and the ${WORDS[1]}.\n`.repeat(50) });
  saveConfig(data, { ...defaultConfig(), roots: [root], security: { ...defaultConfig().security, secretStore: 'key-file' } });
  const svc = new OwletService({ dataDir: data, log: nullLogger, watch: false });
  try {
    await svc.indexOnce();
    assert.equal(svc.search(WORDS[0]!, 10, 0).total, 1, 'searchable through the key');
    assert.ok(svc.ctx.key && svc.ctx.key.length === 32);
    assert.equal(svc.ctx.secrets?.kind, 'key-file');
    // While open: the WAL holds the latest pages.
    assert.ok(fs.statSync(path.join(data, 'index.db-wal')).size > 0, 'the WAL is in use');
    svc.ctx.db.exec(`VACUUM INTO '${path.join(data, 'backup-copy.db')}'`);
    assert.deepEqual(filesContaining(data, WORDS), []);
    assert.equal(fileHeaderIsPlain(path.join(data, 'index.db')), false);
    assert.equal(fileHeaderIsPlain(path.join(data, 'backup-copy.db')), false);
    const backup = openDatabase(path.join(data, 'backup-copy.db'), { key: svc.ctx.key!, readonly: true });
    assert.equal((backup.prepare('SELECT count(*) AS n FROM documents').get() as { n: number }).n, 1, 'the backup opens with the same key');
    backup.close();
  } finally {
    await svc.stop();
  }
  assert.deepEqual(filesContaining(data, WORDS), [], 'after the final checkpoint too');
  assert.equal(fs.statSync(path.join(data, 'keys')).mode & 0o777, 0o700);
  assert.equal(fs.statSync(path.join(data, 'keys', 'data-key.key')).mode & 0o777, 0o600);
  assert.equal(fs.statSync(path.join(data, 'index.db')).mode & 0o777, 0o600);

  // The control: the same content in a database without a key does show the words, so the
  // check above can fail.
  const plainDir = tmpDir('owlet-plain-');
  const db = openDatabase(path.join(plainDir, 'plain.db'));
  migrate(db);
  const store = new DocumentStore(db);
  store.putIndexed({ path: '/r/zanzibarquokka.txt', rootId: store.ensureRoot('/r'), ext: 'txt', size: 1, mtimeMs: 1, fileId: null, hash: 'h', title: null, extractor: 'text', text: WORDS.join(' ') });
  closeDatabase(db);
  assert.ok(filesContaining(plainDir, WORDS).length > 0, 'plaintext control shows the words');
});

test('a wrong or missing key is a clear OWL_ERR_DB_KEY and the file is untouched (never a fresh database)', () => {
  const data = tmpDir('owlet-data-');
  const store = new KeyFileSecretStore(data);
  const ctx = openIndex(data, { secrets: store });
  ctx.store.putIndexed({ path: '/r/a.txt', rootId: ctx.store.ensureRoot('/r'), ext: 'txt', size: 1, mtimeMs: 1, fileId: null, hash: 'h', title: null, extractor: 'text', text: 'hello' });
  ctx.close();
  const file = path.join(data, 'index.db');
  const before = sha(file);
  const isKeyError = (e: unknown) => isOwletError(e) && e.code === 'OWL_ERR_DB_KEY' && /wrong or missing key/.test(e.message);

  const wrong = new MemorySecretStore('key-file', 'test', { 'data-key': Buffer.alloc(32, 1) });
  assert.throws(() => openIndex(data, { secrets: wrong }), isKeyError);
  assert.throws(() => openIndex(data, { secrets: wrong, readonly: true }), isKeyError);
  assert.throws(() => openDatabase(file, { key: Buffer.alloc(32, 2) }), isKeyError);
  const empty = new MemorySecretStore('key-file', 'test');
  assert.throws(() => openIndex(data, { secrets: empty }), isKeyError);
  assert.equal(empty.get('data-key'), null, 'no new key was made up for an existing file');
  assert.equal(sha(file), before, 'the file is byte-for-byte unchanged');
  assert.ok(!fs.existsSync(file + '-wal') || fs.statSync(file + '-wal').size === 0);

  // With the right key again, everything is there.
  const again = openIndex(data, { secrets: store });
  assert.equal(again.store.counts().indexed, 1);
  again.close();
});

test('a keyed file that is plain SQLite on disk is refused (a build that ignores keys)', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'plain.db');
  closeDatabase(openDatabase(file));
  assert.equal(fileHeaderIsPlain(file), true);
  assert.throws(() => assertEncrypted(file), (e: unknown) => isOwletError(e) && e.code === 'OWL_ERR_DB_KEY' && /not encrypted on disk/.test(e.message));
});

function makePlaintextIndex(data: string, n: number): void {
  fs.mkdirSync(data, { recursive: true });
  const db = openDatabase(path.join(data, 'index.db'));
  migrate(db);
  const store = new DocumentStore(db);
  const rootId = store.ensureRoot('/r');
  db.transaction(() => {
    for (let i = 0; i < n; i++) store.putIndexed({ path: `/r/doc${i}.txt`, rootId, ext: 'txt', size: i, mtimeMs: i, fileId: null, hash: 'h', title: null, extractor: 'text', text: `${WORDS[0]} number${i} ${'filler text '.repeat(30)}` });
  })();
  closeDatabase(db);
}

test('an unencrypted index from an earlier version is migrated without losing documents', () => {
  const data = tmpDir('owlet-data-');
  makePlaintextIndex(data, 300);
  assert.ok(filesContaining(data, [WORDS[0]!]).length > 0, 'starts as plaintext');
  // A read-only command does not migrate (it cannot write), and still works.
  const ro = openIndex(data, { readonly: true, secrets: new KeyFileSecretStore(data) });
  assert.equal(ro.key, null);
  assert.equal(ro.store.counts().indexed, 300);
  ro.close();

  const ctx = openIndex(data, { secrets: new KeyFileSecretStore(data) });
  try {
    assert.deepEqual(ctx.keyEvents, ['created-key', 'migrated']);
    assert.equal(ctx.store.counts().indexed, 300);
    assert.equal(ctx.search.search(parseQuery('number7'), { limit: 5, offset: 0 }).hits[0]?.path, '/r/doc7.txt', 'full-text search works after migration');
  } finally {
    ctx.close();
  }
  const file = path.join(data, 'index.db');
  assert.equal(fileHeaderIsPlain(file), false);
  assert.ok(!fs.existsSync(plaintextAsidePath(file)), 'the plaintext original is gone once the new file is proven');
  assert.ok(!fs.existsSync(migratingPath(file)));
  assert.deepEqual(filesContaining(data, WORDS), []);
  const reopened = openIndex(data, { secrets: new KeyFileSecretStore(data) });
  assert.deepEqual(reopened.keyEvents, []);
  assert.equal(reopened.store.counts().indexed, 300);
  reopened.close();
});

test('a migration interrupted between its renames is put back and finished on the next open', () => {
  const data = tmpDir('owlet-data-');
  makePlaintextIndex(data, 50);
  const file = path.join(data, 'index.db');
  // The state after "original moved aside" and before "encrypted copy moved in":
  fs.renameSync(file, plaintextAsidePath(file));
  fs.writeFileSync(migratingPath(file), 'half-written copy');
  const ctx = openIndex(data, { secrets: new KeyFileSecretStore(data) });
  assert.equal(ctx.store.counts().indexed, 50);
  assert.ok(ctx.keyEvents.includes('migrated'));
  ctx.close();
  assert.equal(fileHeaderIsPlain(file), false);
  assert.deepEqual(fs.readdirSync(data).filter((f) => f.startsWith('index.db')).sort(), ['index.db']);
});

test('key rotation: every interruption point leaves the database openable with the old or the new key', () => {
  const steps: RotationStep[] = ['pending-stored', 'copied', 'rekeyed', 'verified', 'swapped', 'promoted'];
  for (const stopAt of steps) {
    const data = tmpDir('owlet-data-');
    makePlaintextIndex(data, 100);
    const store = new KeyFileSecretStore(data);
    openIndex(data, { secrets: store }).close();
    const oldKey = store.get('data-key')!;
    const file = path.join(data, 'index.db');
    assert.throws(() =>
      rotateDataKey(file, store, (s) => {
        if (s === stopAt) throw new Error(`interrupted at ${s}`);
      }),
    /interrupted/);
    const { db, key, events } = openKeyedDatabase(file, store);
    assert.equal((db.prepare('SELECT count(*) AS n FROM documents').get() as { n: number }).n, 100, stopAt);
    closeDatabase(db);
    const swapped = steps.indexOf(stopAt) >= steps.indexOf('swapped');
    assert.equal(key!.equals(oldKey), !swapped, `${stopAt}: ${swapped ? 'new' : 'old'} key`);
    if (stopAt === 'swapped') assert.deepEqual(events, ['promoted-pending'], 'the pending key was promoted on open');
    assert.ok(store.get('data-key')!.equals(key!));
  }
});

test('key rotation re-encrypts; the old key stops working but is kept for older backups', () => {
  const data = tmpDir('owlet-data-');
  makePlaintextIndex(data, 100);
  const store = new KeyFileSecretStore(data);
  openIndex(data, { secrets: store }).close();
  const oldKey = store.get('data-key')!;
  const file = path.join(data, 'index.db');
  const r = rotateDataKey(file, store);
  console.log(`rotation of ${r.documents} documents (${r.bytes} bytes): ${r.ms.toFixed(0)} ms`);
  const newKey = store.get('data-key')!;
  assert.ok(!newKey.equals(oldKey));
  assert.equal(store.get('data-key-pending'), null);
  assert.throws(() => openDatabase(file, { key: oldKey }), (e: unknown) => isOwletError(e) && e.code === 'OWL_ERR_DB_KEY');
  closeDatabase(openDatabase(file, { key: newKey }));
  assert.ok(candidateKeys(store).some((k) => k.equals(oldKey)), 'the old key is retired, not deleted');
  assert.deepEqual(filesContaining(data, WORDS), []);
});
