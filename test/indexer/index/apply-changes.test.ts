import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { OwletService } from '../../../src/indexer/service/service.js';
import { saveConfig } from '../../../src/indexer/config/load.js';
import { defaultConfig } from '../../../src/indexer/config/schema.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';
import { tmpDir, writeTree } from '../../helpers/tmp.js';

/** Changes reported by the watcher, applied by the indexer (the paths are looked at afresh). */
async function indexed(tree: Record<string, string>) {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  saveConfig(data, { ...defaultConfig(), roots: [root] });
  writeTree(root, tree);
  const svc = new OwletService({ dataDir: data, log: nullLogger, watch: false });
  await svc.indexOnce();
  return { root, svc, paths: () => (svc.ctx.db.prepare('SELECT path FROM documents ORDER BY path').all() as { path: string }[]).map((r) => path.relative(root, r.path)) };
}

test('a removed folder takes every document below it, and none beside it that shares its name as a prefix', async () => {
  const { root, svc, paths } = await indexed({ 'docs/a.txt': 'one', 'docs/deep/b.txt': 'two', 'docs-old/c.txt': 'three', 'docs.txt': 'four' });
  try {
    fs.rmSync(path.join(root, 'docs'), { recursive: true });
    const s = await svc.indexer.applyChanges([path.join(root, 'docs')]);
    assert.equal(s.deleted, 2);
    assert.deepEqual(paths(), ['docs-old/c.txt', 'docs.txt']);
  } finally {
    await svc.stop();
  }
});

test('a burst of deleted files is applied one path at a time, each removing only itself', async () => {
  const tree: Record<string, string> = {};
  for (let i = 0; i < 300; i++) tree[`burst/f${i}.txt`] = `word${i}`;
  tree['keep/k.txt'] = 'kept';
  const { root, svc, paths } = await indexed(tree);
  try {
    fs.rmSync(path.join(root, 'burst'), { recursive: true });
    const s = await svc.indexer.applyChanges(Object.keys(tree).filter((p) => p.startsWith('burst/')).map((p) => path.join(root, p)));
    assert.equal(s.deleted, 300);
    assert.deepEqual(paths(), ['keep/k.txt']);
  } finally {
    await svc.stop();
  }
});

test('once stopping, changes not yet looked at are left to the next start (the stop does not wait for a whole burst)', async () => {
  const { root, svc, paths } = await indexed({ 'a.txt': 'one', 'b.txt': 'two' });
  try {
    fs.rmSync(path.join(root, 'a.txt'));
    writeTree(root, { 'c.txt': 'three' });
    const stopping = new AbortController();
    stopping.abort();
    const s = await svc.indexer.applyChanges([path.join(root, 'a.txt'), path.join(root, 'c.txt')], stopping.signal);
    assert.equal(s.changed, 0);
    assert.deepEqual(paths(), ['a.txt', 'b.txt'], 'nothing was applied');
    const later = await svc.indexer.applyChanges([path.join(root, 'a.txt'), path.join(root, 'c.txt')]);
    assert.equal(later.deleted, 1);
    assert.equal(later.indexed, 1);
    assert.deepEqual(paths(), ['b.txt', 'c.txt']);
  } finally {
    await svc.stop();
  }
});
