import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CollectEvery, fullCollector } from '../../../src/indexer/index/heap-collect.js';
import { BatchWriter } from '../../../src/indexer/index/writer.js';
import { openIndex } from '../../../src/indexer/service/context.js';
import { tmpDir } from '../../helpers/tmp.js';

test('CollectEvery collects once per threshold of text written, on a later turn, never twice at once; 0 turns it off', () => {
  const later: (() => void)[] = [];
  let collected = 0;
  const every = new CollectEvery(100, () => collected++, (fn) => later.push(fn));
  every.wrote(60);
  assert.equal(later.length, 0, 'under the threshold');
  every.wrote(60);
  assert.equal(later.length, 1);
  assert.equal(collected, 0, 'not inside the write that crossed it');
  every.wrote(500);
  assert.equal(later.length, 1, 'one collection pending at a time');
  later.shift()!();
  assert.deepEqual([collected, every.count], [1, 1]);
  every.wrote(100);
  later.shift()!();
  assert.equal(collected, 2);
  const off = new CollectEvery(0, () => assert.fail('disabled'), () => assert.fail('disabled'));
  off.wrote(1e9);
});

test('the writer reports the text each committed batch wrote, and nothing for a batch without text', () => {
  const ctx = openIndex(tmpDir('owlet-data-'));
  try {
    const rootId = ctx.store.ensureRoot('/r');
    const seen: number[] = [];
    const writer = new BatchWriter(ctx.store, { batchSize: 2, flushMs: 60_000, maxPendingBytes: 1 << 20, onTextWritten: (n) => seen.push(n) });
    const meta = (i: number) => ({ path: `/r/f${i}.txt`, rootId, ext: 'txt', size: i, mtimeMs: i, fileId: null });
    writer.add({ op: 'indexed', doc: { ...meta(1), hash: 'h', title: null, extractor: 'text', text: 'abc' } });
    writer.add({ op: 'indexed', doc: { ...meta(2), hash: 'h', title: null, extractor: 'text', text: 'defgh' } });
    writer.add({ op: 'unindexed', doc: { ...meta(3), status: 'skipped', reason: 'unsupported', message: 'no' } });
    writer.flush();
    assert.deepEqual(seen, [8]);
  } finally {
    ctx.close();
  }
});

test('a process started without --expose-gc still gets a working full collector (owlet index runs without flags)', () => {
  const helper = fileURLToPath(new URL('../../../src/indexer/index/heap-collect.ts', import.meta.url));
  const script = `
    const { fullCollector } = await import(${JSON.stringify(helper)});
    if (typeof globalThis.gc === 'function') throw new Error('started with gc exposed');
    const gc = fullCollector();
    let junk = []; for (let i = 0; i < 8; i++) junk.push(new Array(1 << 20).fill(i + 0.5)); // large objects: only a full collection frees them
    junk = null;
    const before = process.memoryUsage().heapUsed;
    gc();
    const after = process.memoryUsage().heapUsed;
    console.log(JSON.stringify({ before, after }));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  const { before, after } = JSON.parse(r.stdout.trim()) as { before: number; after: number };
  assert.ok(after < before - 32 * 1048576, `64 MB of garbage collected: ${before} → ${after}`);
  assert.equal(typeof fullCollector(), 'function', 'and in this process too');
});
