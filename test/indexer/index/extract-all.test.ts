import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Indexer } from '../../../src/indexer/index/indexer.js';
import { BatchWriter } from '../../../src/indexer/index/writer.js';
import type { ExtractJob } from '../../../src/indexer/extract/pool.js';
import type { GuardedOutcome } from '../../../src/indexer/resilience/breakers.js';
import { openDatabase } from '../../../src/indexer/store/db.js';
import { DocumentStore } from '../../../src/indexer/store/documents.js';
import { migrate } from '../../../src/indexer/store/migrations.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';
import { tmpDir, writeTree } from '../../helpers/tmp.js';

/** How a full pass hands files to extraction (issue #14: workers must never wait on one slow file). */

function setup(files: number) {
  const root = tmpDir('owlet-root-');
  writeTree(root, Object.fromEntries(Array.from({ length: files }, (_, i) => [`f${String(i).padStart(4, '0')}.txt`, `word${i}`])));
  const db = openDatabase(path.join(tmpDir('owlet-data-'), 'index.db'));
  migrate(db);
  const store = new DocumentStore(db);
  const writer = new BatchWriter(store, { batchSize: 100, maxPendingBytes: 1 << 20, flushMs: 50 });
  return { root, db, store, writer };
}

const ok = (job: ExtractJob): GuardedOutcome => ({ ok: true, title: null, text: path.basename(job.path), extractor: 'fake', sha256: '0', size: 1, lang: null });

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not end within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

test('one slow file does not stop the other files from being handed out', { timeout: 60_000 }, async (t) => {
  const files = 600;
  const { root, db, writer } = setup(files);
  t.after(() => db.close());
  // The first file handed out finishes only once every other file has: a pass that waits for it
  // before handing out more (as one once did after 256 files) never ends.
  let finished = 0;
  let releaseSlow: (() => void) | undefined;
  let first = true;
  const extract = async (job: ExtractJob): Promise<GuardedOutcome> => {
    if (first) {
      first = false;
      await new Promise<void>((r) => (releaseSlow = r));
      return ok(job);
    }
    await new Promise((r) => setImmediate(r));
    if (++finished === files - 1) releaseSlow?.();
    return ok(job);
  };
  const indexer = new Indexer({ store: new DocumentStore(db), extract, writer, supports: () => true, log: nullLogger }, { roots: [root], exclude: [], include: ['**/*'], maxFileBytes: 1 << 20, concurrency: 8 });
  const summary = await within(indexer.reconcile(), 30_000, 'the pass');
  assert.equal(summary.indexed, files);
});

test('a write that fails stops the pass after the files in flight, and the failure reaches the caller', { timeout: 60_000 }, async (t) => {
  const files = 300;
  const { root, db, store } = setup(files);
  t.after(() => db.close());
  let handedOut = 0;
  const extract = async (job: ExtractJob): Promise<GuardedOutcome> => {
    handedOut++;
    await new Promise((r) => setImmediate(r));
    return ok(job);
  };
  // A writer whose every flush fails (as on a damaged disk): the op that fills a batch throws.
  const failing = new BatchWriter(store, { batchSize: 10, maxPendingBytes: 1 << 20, flushMs: 60_000 });
  failing.flush = () => {
    throw new Error('disk I/O error');
  };
  const indexer = new Indexer({ store, extract, writer: failing, supports: () => true, log: nullLogger }, { roots: [root], exclude: [], include: ['**/*'], maxFileBytes: 1 << 20, concurrency: 4 });
  await assert.rejects(within(indexer.reconcile(), 30_000, 'the pass'), /disk I\/O error/);
  assert.ok(handedOut < files, `stopped early: ${handedOut} of ${files} handed out`);
});
