import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { forkWorkerLauncher } from '../../../src/indexer/extract/launcher.js';
import { createExtractionPool } from '../../../src/indexer/extract/pool.js';
import { isReply } from '../../../src/indexer/extract/protocol.js';
import { packPassage, packLegacyPassage, splitPassages, unpackPassage } from '../../../src/indexer/store/passages.js';
import { LIMITS, tempDir } from './fixtures.js';

/** Brotli runs in the extraction worker, not on the writer's thread (issue #14). */

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, limit]);
  } finally {
    clearTimeout(timer);
  }
}

const okReply = { id: 1, ok: true, title: null, text: 'x', extractor: 'text', sha256: '0', size: 1 };

test('a real worker sends the text split and compressed as the store keeps it', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const text = Array.from({ length: 9000 }, (_, i) => `word${i % 97} line ${i}`).join('\n');
  fs.writeFileSync(path.join(dir, 'long.txt'), text);
  const pool = createExtractionPool({ workers: 1, timeoutMs: 20_000, memoryMb: 512, limits: LIMITS, launch: forkWorkerLauncher() });
  t.after(() => pool.close());
  const o = await within(pool.extract({ path: path.join(dir, 'long.txt'), ext: 'txt', maxBytes: 1024 * 1024 }), 45_000, 'extract');
  assert.ok(o.ok, JSON.stringify(o));
  assert.ok(o.passages, 'the reply carries packed passages');
  assert.deepEqual(o.passages.map((p) => unpackPassage(p)), splitPassages(o.text), 'the same cuts the store makes');
  assert.ok(o.passages.length > 1, 'precondition: a text of several passages');
});

test('a worker cut short by the text limit sends no passages: the writer packs the text the index holds', { timeout: 60_000 }, async (t) => {
  // The fake worker answers more text than the limit; the pool cuts it and must drop its passages.
  const dir = tempDir(t);
  const script = path.join(dir, 'fake-worker.cjs');
  fs.writeFileSync(
    script,
    `const zlib = require('node:zlib');
process.on('disconnect', () => process.exit(0));
process.on('message', (m) => {
  if (typeof m.id !== 'number') return;
  const text = 'a'.repeat(64);
  const packed = Buffer.concat([Buffer.from([0xff]), zlib.brotliCompressSync(Buffer.from(text))]);
  process.send({ id: m.id, ok: true, title: null, text, extractor: 'fake', sha256: '0', size: 64, passages: [packed] });
});
process.send({ type: 'ready' });
`,
  );
  const { fork } = await import('node:child_process');
  const { handleFromChild } = await import('../../../src/indexer/extract/launcher.js');
  const launch = () => handleFromChild(fork(script, [], { execArgv: [], serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'] }));
  const pool = createExtractionPool({ workers: 1, timeoutMs: 20_000, memoryMb: 512, limits: { ...LIMITS, maxTextBytes: 16 }, launch });
  t.after(() => pool.close());
  const o = await within(pool.extract({ path: path.join(dir, 'any.txt'), ext: 'txt', maxBytes: 1024 }), 45_000, 'extract');
  assert.ok(o.ok, JSON.stringify(o));
  assert.equal(o.text, 'a'.repeat(16));
  assert.equal(o.passages, undefined);
});

test('a reply whose passages are not in the store format is refused', () => {
  assert.ok(isReply({ ...okReply, passages: [packPassage('x')] }));
  assert.ok(isReply({ ...okReply, passages: [] }));
  assert.ok(!isReply({ ...okReply, passages: [packLegacyPassage('x')] }), 'another format');
  assert.ok(!isReply({ ...okReply, passages: ['x'] }), 'a string');
  assert.ok(!isReply({ ...okReply, passages: [new Uint8Array(0)] }), 'empty');
  assert.ok(!isReply({ ...okReply, passages: packPassage('x') }), 'not a list');
});

test('passages a worker sends that are not its text (a compromised worker, a bomb) are dropped: the writer packs the text itself', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const script = path.join(dir, 'lying-worker.cjs');
  fs.writeFileSync(
    script,
    `const zlib = require('node:zlib');
process.on('disconnect', () => process.exit(0));
let n = 0;
process.on('message', (m) => {
  if (typeof m.id !== 'number') return;
  const text = 'the real text';
  const other = Buffer.concat([Buffer.from([0xff]), zlib.brotliCompressSync(Buffer.from('something else'))]);
  const bomb = Buffer.concat([Buffer.from([0xff]), zlib.brotliCompressSync(Buffer.alloc(32 * 1024 * 1024, 0x61))]);
  const honest = Buffer.concat([Buffer.from([0xff]), zlib.brotliCompressSync(Buffer.from(text))]);
  const passages = [[other], [bomb], [honest]][n++ % 3];
  process.send({ id: m.id, ok: true, title: null, text, extractor: 'fake', sha256: '0', size: 13, passages });
});
process.send({ type: 'ready' });
`,
  );
  const { fork } = await import('node:child_process');
  const { handleFromChild } = await import('../../../src/indexer/extract/launcher.js');
  const launch = () => handleFromChild(fork(script, [], { execArgv: [], serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'] }));
  const pool = createExtractionPool({ workers: 1, timeoutMs: 20_000, memoryMb: 512, limits: LIMITS, launch });
  t.after(() => pool.close());
  const got = [];
  for (let i = 0; i < 3; i++) {
    const o = await within(pool.extract({ path: path.join(dir, 'any.txt'), ext: 'txt', maxBytes: 1024 }), 45_000, 'extract');
    assert.ok(o.ok, JSON.stringify(o));
    assert.equal(o.text, 'the real text');
    got.push(o.passages === undefined ? 'dropped' : o.passages.map((p) => unpackPassage(p)).join(''));
  }
  assert.deepEqual(got, ['dropped', 'dropped', 'the real text']);
});
