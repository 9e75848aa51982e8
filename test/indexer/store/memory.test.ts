import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { openDatabase } from '../../../src/indexer/store/db.js';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { applyMemoryLimits, compactingCollection, releaseIdleMemory, releaseSqliteMemory, trimMalloc, type IdleMemory } from '../../../src/indexer/store/memory.js';
import type { Db } from '../../../src/indexer/store/db.js';
import { tmpDir } from '../../helpers/tmp.js';

const MEMORY_TS = fileURLToPath(new URL('../../../src/indexer/store/memory.ts', import.meta.url));

test('the memory knobs set SQLite cache and memory-mapped reads on the connection', () => {
  const db = openDatabase(path.join(tmpDir(), 'index.db'));
  applyMemoryLimits(db, { sqliteCacheMb: 3, sqliteMmapMb: 0 });
  assert.equal(db.pragma('cache_size', { simple: true }), -3 * 1024);
  assert.equal(db.pragma('mmap_size', { simple: true }), 0);
  applyMemoryLimits(db, { sqliteCacheMb: 16, sqliteMmapMb: 2 });
  assert.equal(db.pragma('cache_size', { simple: true }), -16 * 1024);
  assert.equal(db.pragma('mmap_size', { simple: true }), 2 * 1048576);
  db.close();
});

test('releasing SQLite memory works on an open connection and is a no-op on a closed one', () => {
  const db = openDatabase(path.join(tmpDir(), 'index.db'));
  db.exec('CREATE TABLE t (x TEXT)');
  db.prepare('INSERT INTO t VALUES (?)').run('a'.repeat(10_000));
  releaseSqliteMemory(db);
  assert.equal((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 1);
  db.close();
  assert.doesNotThrow(() => releaseSqliteMemory(db));
});

/** A connection that records its pragmas (the order of the release is what is specified). */
function recordingDb(calls: string[], name: string, open = true): Db {
  return { open, pragma: (p: string) => void calls.push(`${name}:${p}`) } as unknown as Db;
}

test('an idle release clears the caches, shrinks every open connection, runs one collection, then trims malloc, in that order', () => {
  const calls: string[] = [];
  const m: IdleMemory = {
    connections: [recordingDb(calls, 'index'), recordingDb(calls, 'closed', false), recordingDb(calls, 'other')],
    caches: [() => calls.push('results'), () => calls.push('stems')],
    gc: () => calls.push('gc'),
    trim: () => (calls.push('trim'), 'released'),
  };
  assert.equal(releaseIdleMemory(m), 'released', 'what the trim did is reported');
  assert.deepEqual(calls, ['results', 'stems', 'index:shrink_memory', 'other:shrink_memory', 'gc', 'trim']);
  // Without a collector (a host that cannot collect) the rest still happens.
  calls.length = 0;
  releaseIdleMemory({ ...m, gc: null });
  assert.deepEqual(calls, ['results', 'stems', 'index:shrink_memory', 'other:shrink_memory', 'trim']);
});

/**
 * A fresh process fragments its old space (one survivor in ten of 4 M small objects), runs a
 * plain collection twice, then `mode`'s collection, and prints V8's heap size. A fresh process
 * each, so that this test runner's own heap and earlier tests do not decide what V8 compacts.
 */
function heapAfter(mode: 'plain' | 'compacting' | 'failed-then-plain'): number {
  const script = `
    import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
    import { compactingCollection } from ${JSON.stringify(MEMORY_TS)};
    const keep = [];
    for (let r = 0; r < 20; r++) { const a = []; for (let i = 0; i < 200000; i++) a.push({ i, s: 'x' + i }); keep.push(a.filter((_, i) => i % 10 === 0)); }
    gc(); gc();
    const mode = ${JSON.stringify(mode)};
    if (mode === 'compacting') compactingCollection(gc);
    else {
      if (mode === 'failed-then-plain') try { compactingCollection(() => { throw new Error('x'); }); } catch {}
      gc();
    }
    process.stdout.write(String(v8.getHeapStatistics().total_heap_size + keep.length * 0));
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--expose-gc', '--max-semi-space-size=2', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  return Number(out) / 1048576;
}

test('the idle collection compacts: a fragmented old space shrinks where a plain collection leaves it, and a failed one leaves the flag off', () => {
  const plain = heapAfter('plain');
  const compacting = heapAfter('compacting');
  const afterFailure = heapAfter('failed-then-plain');
  assert.ok(plain - compacting > 10, `compacting ${compacting.toFixed(1)} MB against plain ${plain.toFixed(1)} MB`);
  assert.ok(afterFailure - compacting > 10, `after a failed compacting collection a plain one still compacted: ${afterFailure.toFixed(1)} MB`);
  assert.throws(() => compactingCollection(() => { throw new Error('no collection'); }), /no collection/);
});

/**
 * A fresh process leaves holes in malloc's heap (four in-memory databases with a 64 MB page cache
 * each, filled; the first and third closed), then trims; prints what the trim reported and the
 * resident memory before and after, MB.
 */
function trimInChild(): { result: string; before: number; after: number } {
  const script = `
    import Database from 'better-sqlite3-multiple-ciphers';
    import { trimMalloc } from ${JSON.stringify(MEMORY_TS)};
    const dbs = [0, 1, 2, 3].map(() => { const db = new Database(':memory:'); db.pragma('cache_size = -64000'); db.exec('CREATE TABLE t(x)'); return db; });
    for (const db of dbs) { const ins = db.prepare('INSERT INTO t VALUES (?)'); db.transaction(() => { for (let i = 0; i < 100000; i++) ins.run('x'.repeat(200) + i); })(); }
    dbs[0].close(); dbs[2].close();
    const before = process.memoryUsage.rss();
    const result = trimMalloc();
    process.stdout.write(JSON.stringify({ result, before: before / 1048576, after: process.memoryUsage.rss() / 1048576 }));
  `;
  return JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000, cwd: path.dirname(MEMORY_TS) })) as { result: string; before: number; after: number };
}

test('trimming malloc gives the free pages between live allocations back to the OS (Linux with glibc)', (t) => {
  if (process.platform !== 'linux' || !(process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime) {
    t.skip('malloc_trim exists only in glibc on Linux; elsewhere trimMalloc reports unavailable (tested below)');
    return;
  }
  const r = trimInChild();
  assert.equal(r.result, 'released');
  assert.ok(r.before - r.after > 20, `resident ${r.before.toFixed(1)} -> ${r.after.toFixed(1)} MB`);
  // In this process too it runs (what it finds to give back depends on this process's heap).
  assert.match(trimMalloc(), /^(released|nothing-to-release)$/);
});

test('trimming malloc is a reported no-op where there is no glibc', () => {
  assert.equal(trimMalloc('darwin'), 'unavailable');
  assert.equal(trimMalloc('win32'), 'unavailable');
});
