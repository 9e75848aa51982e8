import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { crawl, type CrawlItem } from '../../../src/indexer/crawl/crawler.js';
import { createPathFilter } from '../../../src/indexer/crawl/filters.js';
import { DEFAULT_EXCLUDE } from '../../../src/indexer/config/schema.js';
import { tmpDir, writeTree } from '../../helpers/tmp.js';

async function collect(root: string, maxBytes = 1 << 20, exclude = DEFAULT_EXCLUDE, include = ['**/*']): Promise<CrawlItem[]> {
  const items: CrawlItem[] = [];
  for await (const i of crawl(root, { filter: createPathFilter(exclude, include), maxBytes })) items.push(i);
  return items;
}
const byPath = (items: CrawlItem[]) => new Map(items.map((i) => [i.path, i]));

test('reports regular files with size, mtime and identity, and skips excluded folders', async () => {
  const root = tmpDir();
  writeTree(root, { 'a.txt': 'hello', 'sub/b.md': '# b', '.git/config': 'x', 'node_modules/m/index.js': 'x', 'x.tmp': 't' });
  const items = byPath(await collect(root));
  assert.deepEqual([...items.keys()].sort(), [path.join(root, 'a.txt'), path.join(root, 'sub/b.md')]);
  const a = items.get(path.join(root, 'a.txt'));
  assert.equal(a?.kind, 'file');
  if (a?.kind === 'file') {
    assert.equal(a.size, 5);
    assert.equal(a.ext, 'txt');
    assert.match(a.fileId, /^\d+:\d+$/);
  }
});

test('include globs narrow the files considered', async () => {
  const root = tmpDir();
  writeTree(root, { 'a.txt': 'x', 'b.pdf': 'x', 'd/c.txt': 'x' });
  const items = await collect(root, 1 << 20, [], ['**/*.txt']);
  assert.deepEqual(items.map((i) => path.basename(i.path)).sort(), ['a.txt', 'c.txt']);
});

test('never follows symlinks (no escape from the root, no loop) and never opens special files', async () => {
  const root = tmpDir();
  const outside = tmpDir();
  writeTree(outside, { 'secret.txt': 'outside' });
  writeTree(root, { 'real.txt': 'inside' });
  fs.symlinkSync(outside, path.join(root, 'escape'));
  fs.symlinkSync(root, path.join(root, 'loop'));
  fs.symlinkSync('/dev/zero', path.join(root, 'zero.txt'));
  execFileSync('mkfifo', [path.join(root, 'fifo.txt')]);
  const items = byPath(await collect(root));
  assert.equal(items.get(path.join(root, 'real.txt'))?.kind, 'file');
  assert.ok(![...items.keys()].some((p) => p.includes('secret')), 'nothing outside the root');
  for (const name of ['escape', 'loop', 'zero.txt']) {
    const i = items.get(path.join(root, name));
    assert.ok(i?.kind === 'skip' && i.reason === 'symlink', `${name} is skipped as a symlink`);
  }
  const fifo = items.get(path.join(root, 'fifo.txt'));
  assert.ok(fifo?.kind === 'skip' && fifo.reason === 'special');
});

test('files over the size limit are reported without being read', async () => {
  const root = tmpDir();
  const big = path.join(root, 'sparse.txt');
  fs.writeFileSync(big, '');
  fs.truncateSync(big, 10 * 1024 * 1024 * 1024); // sparse: 10 GiB, no blocks
  const items = await collect(root, 1024);
  assert.equal(items.length, 1);
  const i = items[0]!;
  assert.ok(i.kind === 'skip' && i.reason === 'too-large' && /limit/.test(i.message));
});

test('a file name that is not valid UTF-8 is recorded with a reason, not mangled', async () => {
  const root = tmpDir();
  const raw = Buffer.concat([Buffer.from(root + '/bad-'), Buffer.from([0xff, 0xfe]), Buffer.from('.txt')]);
  fs.writeFileSync(raw, 'x');
  const items = await collect(root);
  assert.equal(items.length, 1);
  assert.ok(items[0]!.kind === 'skip' && items[0]!.reason === 'invalid-name');
});

test('an unreadable folder is reported so its documents are not taken as deleted', async (t) => {
  if (process.getuid?.() === 0) {
    // root bypasses permission bits; an unreadable folder cannot be made. Simulate with a vanished one instead.
    const root = tmpDir();
    const items = await collect(path.join(root, 'missing'));
    assert.equal(items[0]?.kind, 'unreadable-dir');
    return;
  }
  const root = tmpDir();
  writeTree(root, { 'locked/a.txt': 'x' });
  fs.chmodSync(path.join(root, 'locked'), 0);
  t.after(() => fs.chmodSync(path.join(root, 'locked'), 0o700));
  const items = await collect(root);
  assert.ok(items.some((i) => i.kind === 'unreadable-dir'));
});

test('deep folder trees are walked without recursion limits', async () => {
  const root = tmpDir();
  let dir = root;
  for (let i = 0; i < 200; i++) dir = path.join(dir, 'd');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'deep.txt'), 'x');
  const items = await collect(root);
  assert.equal(items.length, 1);
});
