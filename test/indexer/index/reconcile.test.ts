import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { OwletService } from '../../../src/indexer/service/service.js';
import { saveConfig } from '../../../src/indexer/config/load.js';
import { defaultConfig } from '../../../src/indexer/config/schema.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';
import { tmpDir, writeTree } from '../../helpers/tmp.js';

const WORDS = ['alpha', 'keepword', 'oldword', 'newword', 'goneword', 'addedword', 'aaaa', 'bbbb', 'renameword', 'new', 'offlineword'];

/** Reconciliation while stopped: each start brings the index in step with the disk. */
async function pass(data: string) {
  const svc = new OwletService({ dataDir: data, log: nullLogger, watch: false });
  try {
    const summary = await svc.indexOnce();
    // Answer every search now: the service is closed when this returns.
    const answers = new Map(WORDS.map((w) => [w, svc.search(w, 100, 0).hits.map((h) => h.path).sort()]));
    const paths = (q: string) => {
      const a = answers.get(q);
      if (!a) throw new Error(`add "${q}" to WORDS`);
      return a;
    };
    const extractedIds = svc.ctx.db.prepare("SELECT path, indexed_at FROM documents WHERE status = 'indexed'").all() as { path: string; indexed_at: number }[];
    return { summary, paths, extractedIds, counts: svc.ctx.store.counts() };
  } finally {
    await svc.stop();
  }
}

function setup() {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  saveConfig(data, { ...defaultConfig(), roots: [root] });
  return { root, data };
}

test('a second start re-extracts nothing when nothing changed', async () => {
  const { root, data } = setup();
  writeTree(root, { 'a.txt': 'alpha', 'b.txt': 'beta', 'c/d.md': 'delta' });
  const first = await pass(data);
  assert.equal(first.summary.indexed, 3);
  const second = await pass(data);
  assert.deepEqual({ ...second.summary, seconds: 0 }, { indexed: 0, skipped: 0, failed: 0, deleted: 0, renamed: 0, unchanged: 3, bytes: 0, seconds: 0, offlineRoots: [] });
  assert.deepEqual(second.extractedIds, first.extractedIds, 'rows untouched');
});

test('edits, deletions and new files while stopped are picked up at the next start', async () => {
  const { root, data } = setup();
  writeTree(root, { 'keep.txt': 'keepword', 'edit.txt': 'oldword', 'gone.txt': 'goneword' });
  await pass(data);
  fs.writeFileSync(path.join(root, 'edit.txt'), 'newword and more'); // size changes
  fs.rmSync(path.join(root, 'gone.txt'));
  writeTree(root, { 'added/new.txt': 'addedword' });
  const r = await pass(data);
  assert.equal(r.summary.indexed, 2);
  assert.equal(r.summary.deleted, 1);
  assert.equal(r.summary.unchanged, 1);
  assert.deepEqual(r.paths('oldword'), []);
  assert.deepEqual(r.paths('newword'), [path.join(root, 'edit.txt')]);
  assert.deepEqual(r.paths('goneword'), []);
  assert.deepEqual(r.paths('addedword'), [path.join(root, 'added/new.txt')]);
});

test('a same-size edit is detected by modification time', async () => {
  const { root, data } = setup();
  writeTree(root, { 'a.txt': 'aaaa' });
  await pass(data);
  fs.writeFileSync(path.join(root, 'a.txt'), 'bbbb');
  fs.utimesSync(path.join(root, 'a.txt'), new Date(), new Date(Date.now() + 5000));
  const r = await pass(data);
  assert.equal(r.summary.indexed, 1);
  assert.deepEqual(r.paths('bbbb'), [path.join(root, 'a.txt')]);
});

test('a rename while stopped moves the document without re-extracting it', async () => {
  const { root, data } = setup();
  writeTree(root, { 'old-name.txt': 'renameword' });
  await pass(data);
  fs.mkdirSync(path.join(root, 'moved'));
  fs.renameSync(path.join(root, 'old-name.txt'), path.join(root, 'moved', 'new-name.txt'));
  const r = await pass(data);
  assert.equal(r.summary.renamed, 1);
  assert.equal(r.summary.indexed, 0, 'not re-extracted');
  assert.equal(r.summary.deleted, 0);
  assert.deepEqual(r.paths('renameword'), [path.join(root, 'moved', 'new-name.txt')]);
  assert.deepEqual(r.paths('new'), [path.join(root, 'moved', 'new-name.txt')], 'the new file name is searchable');
});

test('a vanished or emptied root is offline: its documents are kept and searchable', async () => {
  const { root, data } = setup();
  writeTree(root, { 'a.txt': 'offlineword' });
  await pass(data);
  const aside = root + '-unplugged';
  fs.renameSync(root, aside);
  let r = await pass(data);
  assert.deepEqual(r.summary.offlineRoots, [root]);
  assert.deepEqual(r.paths('offlineword'), [path.join(root, 'a.txt')]);
  fs.mkdirSync(root); // an empty mount point
  r = await pass(data);
  assert.deepEqual(r.summary.offlineRoots, [root]);
  assert.equal(r.counts.indexed, 1);
  fs.rmdirSync(root);
  fs.renameSync(aside, root);
  r = await pass(data);
  assert.deepEqual(r.summary.offlineRoots, []);
  assert.equal(r.summary.unchanged, 1, 'reconciled when it returns');
});
