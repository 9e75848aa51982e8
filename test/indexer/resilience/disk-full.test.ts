import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openIndexDb } from '../../helpers/keys.js';
import { startOwlet, waitExit } from '../../helpers/cli.js';
import { tmpDir, waitFor, writeTree } from '../../helpers/tmp.js';
import { OwletService } from '../../../src/indexer/service/service.js';
import { fetchAuthed } from '../../helpers/auth.js';
import { openIndex } from '../../../src/indexer/service/context.js';
import { BatchWriter } from '../../../src/indexer/index/writer.js';
import { DiskSpaceGuard, isDiskFullError, resumeThreshold, type VolumeSpace } from '../../../src/indexer/resilience/disk-space.js';
import { classifySqliteError } from '../../../src/indexer/store/db.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';
import type { SearchResult, ServiceInfo, StatusReport } from '../../../src/shared/api.js';

/** Graceful degradation on a full data volume: unit behaviour, then a real full tmpfs. */

const MiB = 1024 * 1024;

function sqliteFull(): Error {
  return Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
}

test('disk-full errors are recognised in every form, other errors are not', () => {
  assert.ok(isDiskFullError(sqliteFull()));
  assert.ok(isDiskFullError(Object.assign(new Error('x'), { code: 'ENOSPC' })));
  assert.ok(isDiskFullError(Object.assign(new Error('x'), { code: 'EDQUOT' })));
  assert.ok(isDiskFullError(classifySqliteError(sqliteFull(), '/x/index.db')), 'coded OWL_ERR_DB_FULL');
  assert.ok(isDiskFullError(new Error('wrapped', { cause: sqliteFull() })), 'found through the cause chain');
  assert.equal(isDiskFullError(Object.assign(new Error('busy'), { code: 'SQLITE_BUSY' })), false);
  assert.equal(isDiskFullError(Object.assign(new Error('gone'), { code: 'ENOENT' })), false);
  assert.equal(isDiskFullError('ENOSPC'), false, 'a bare string is not an error with a code');
  assert.equal(resumeThreshold(32 * MiB), 4 * MiB, 'small volume: at least 4 MiB');
  assert.equal(resumeThreshold(1000 * MiB), 20 * MiB, '2 % of the volume');
  assert.equal(resumeThreshold(1e13), 64 * MiB, 'at most 64 MiB');
});

test('BatchWriter: a failed flush keeps every op queued; a holding failure stops producers from throwing; the retry commits all', () => {
  const data = tmpDir('owlet-data-');
  const ctx = openIndex(data);
  try {
    const rootId = ctx.store.ensureRoot('/r');
    let full = false;
    const realTx = ctx.store.transaction.bind(ctx.store);
    // The real store on a real file; only "the disk is full" is injected, at the commit.
    ctx.store.transaction = <T>(fn: () => T): T => realTx(() => {
      const r = fn();
      if (full) throw sqliteFull();
      return r;
    });
    const writer = new BatchWriter(ctx.store, { batchSize: 3, flushMs: 60_000, maxPendingBytes: MiB });
    const failures: unknown[] = [];
    writer.onDidFail((e) => failures.push(e));
    const doc = (i: number) => ({ path: `/r/f${i}.txt`, rootId, ext: 'txt', size: i, mtimeMs: i, fileId: null, hash: 'h', title: null, extractor: 'text', text: `word${i}` });
    const count = () => (ctx.db.prepare('SELECT count(*) AS n FROM documents').get() as { n: number }).n;

    // Without a hold (the default, e.g. a one-shot `owlet index`) the producer sees the error.
    full = true;
    writer.add({ op: 'indexed', doc: doc(1) });
    writer.add({ op: 'indexed', doc: doc(2) });
    assert.throws(() => writer.add({ op: 'indexed', doc: doc(3) }), /disk is full/);
    assert.equal(writer.size, 3, 'rolled back, nothing dropped');
    assert.equal(count(), 0, 'the failed transaction left nothing behind');
    assert.equal(writer.held, false);

    // With a hold (the service waiting for space): producers keep going, ops accumulate in order.
    writer.holdOnFailure = isDiskFullError;
    assert.throws(() => writer.flush(), /disk is full/, 'an explicit flush reports the failure');
    assert.equal(writer.held, true);
    writer.add({ op: 'indexed', doc: doc(4) });
    writer.add({ op: 'indexed', doc: doc(5) });
    writer.add({ op: 'delete', id: 12345 });
    assert.equal(writer.size, 6, 'queued, no flush attempted while held');
    assert.equal(failures.length, 2, 'every failed flush is reported, none while merely held');
    assert.ok(failures.every(isDiskFullError));

    full = false;
    let committed = 0;
    writer.onDidCommit((ops) => (committed += ops.length));
    writer.flush();
    assert.equal(writer.held, false);
    assert.equal(writer.size, 0);
    assert.equal(committed, 6);
    assert.equal(count(), 5, 'every document survived the failures');
    assert.equal(ctx.db.pragma('integrity_check', { simple: true }), 'ok');
  } finally {
    ctx.close();
  }
});

test('DiskSpaceGuard: pauses on disk-full, waits for free space, backs off failed retries, resumes by itself', async () => {
  let now = 1_000_000;
  let space: VolumeSpace = { free: 0, total: 100 * MiB };
  let retryFails = true;
  const events: string[] = [];
  const guard = new DiskSpaceGuard({
    dir: '/data',
    probe: async () => space,
    now: () => now,
    log: nullLogger,
    backoffBaseMs: 1000,
    backoffMaxMs: 4000,
    retry: () => {
      events.push('retry');
      if (retryFails) throw sqliteFull();
    },
    onDidPause: () => events.push('pause'),
    onDidResume: () => events.push('resume'),
    // Timers are driven by hand: the test calls check().
    setTimer: () => 'timer',
    clearTimer: () => {},
  });
  assert.equal(guard.report(sqliteFull()), false, 'not armed yet (one-shot indexing fails instead)');
  assert.equal(guard.handles(sqliteFull()), false);
  guard.arm();
  assert.equal(guard.report(Object.assign(new Error('busy'), { code: 'SQLITE_BUSY' })), false, 'other errors are left to the caller');
  assert.equal(guard.state, 'ok');
  assert.equal(guard.message, null);

  assert.equal(guard.report(sqliteFull()), true);
  assert.equal(guard.report(sqliteFull()), true, 'a second report while full changes nothing');
  assert.deepEqual(events, ['pause']);
  assert.equal(guard.state, 'full');

  await guard.check();
  assert.deepEqual(events, ['pause'], 'no retry while the volume has no room');
  assert.match(guard.message ?? '', /disk space.*0\.0 MB free.*indexing is paused.*search keeps working/);

  space = { free: 3 * MiB, total: 100 * MiB };
  await guard.check();
  assert.deepEqual(events, ['pause'], 'below the resume threshold (4 MiB here)');

  space = { free: 5 * MiB, total: 100 * MiB };
  await guard.check();
  assert.deepEqual(events, ['pause', 'retry'], 'room: the failed write is retried');
  await guard.check();
  assert.deepEqual(events, ['pause', 'retry'], 'the retry failed: wait out the backoff');
  now += 1000;
  await guard.check();
  assert.deepEqual(events, ['pause', 'retry', 'retry'], 'retried after 1 s');
  now += 1000;
  await guard.check();
  assert.equal(events.length, 3, 'backoff doubled to 2 s');
  now += 1000;
  await guard.check();
  assert.equal(events.length, 4);

  // Much more room than when the last retry failed: worth a retry before the backoff ends.
  retryFails = false;
  space = { free: 50 * MiB, total: 100 * MiB };
  await guard.check();
  assert.deepEqual(events, ['pause', 'retry', 'retry', 'retry', 'retry', 'resume']);
  assert.equal(guard.state, 'ok');
  assert.equal(guard.message, null);

  // A later full disk starts over with a fresh backoff.
  assert.equal(guard.report(Object.assign(new Error('write'), { code: 'ENOSPC' })), true);
  await guard.check();
  assert.deepEqual(events.slice(6), ['pause', 'retry', 'resume']);
  guard.stop();
  assert.equal(guard.handles(sqliteFull()), false, 'stopped: nothing is held any more');
});

test('a write failing while the indexing loop waits (paused for the full disk) neither crashes the process nor loses anything', async () => {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  const files: Record<string, string> = {};
  for (let i = 0; i < 12; i++) files[`f${i}.txt`] = `document ${i} pausedtoken`;
  writeTree(root, files);
  fs.writeFileSync(path.join(data, 'config.json'), JSON.stringify({ roots: [root] }), { mode: 0o600 });
  const svc = new OwletService({ dataDir: data, log: nullLogger, watch: false });
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    // The first attempt record hits the full disk; the guard pauses indexing at that moment.
    const begin = svc.quarantine.begin.bind(svc.quarantine);
    let calls = 0;
    svc.quarantine.begin = (f) => {
      if (++calls === 1) {
        svc.indexer.pause('disk-full');
        throw sqliteFull();
      }
      return begin(f);
    };
    const pass = svc.indexOnce();
    pass.catch(() => {});
    await waitFor(() => calls === 1, 10_000, 'the failing write');
    // Several turns of the event loop while the loop waits with a rejected job in hand.
    for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(unhandled, [], 'no unhandled rejection (it would end the service)');
    svc.indexer.resume('disk-full');
    await assert.rejects(pass, /disk is full/, 'the pass reports the failed write');
    // The next pass (after space returns, the guard reconciles) indexes everything.
    const again = await svc.indexOnce();
    assert.equal(again.indexed + again.unchanged, 12);
    assert.equal(svc.search('pausedtoken', 20, 0).total, 12);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    await svc.stop();
  }
});

// ---------------------------------------------------------------------------------------------
// The real thing: the data directory on a small tmpfs that the test fills up.

/** Mounts a size-limited tmpfs; returns a reason when that is not possible here. */
function mountTmpfs(dir: string, sizeMb: number): string | null {
  if (process.platform !== 'linux') return 'tmpfs mounts are Linux-only';
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root; run the suite as root to exercise a real full disk';
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0700`, 'tmpfs', dir], { timeout: 10_000, encoding: 'utf8' });
  if (r.error) return `mount could not run: ${r.error.message}`;
  if (r.status !== 0) return `mount is not permitted here (${(r.stderr || '').trim() || `exit ${r.status}`})`;
  return null;
}

function unmount(dir: string): void {
  let r = spawnSync('umount', [dir], { timeout: 10_000 });
  if (r.status !== 0) r = spawnSync('umount', ['-l', dir], { timeout: 10_000 });
}

/** Fills the volume holding `file` to the last byte; returns the bytes written. */
function fill(file: string): number {
  const fd = fs.openSync(file, 'w');
  let written = 0;
  try {
    for (const chunk of [MiB, 64 * 1024, 4096, 512, 1]) {
      const buf = crypto.randomBytes(chunk);
      for (;;) {
        try {
          written += fs.writeSync(fd, buf);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw e;
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return written;
}

const WORDS = Array.from({ length: 4000 }, (_, i) => crypto.createHash('md5').update(String(i)).digest('hex').slice(0, 7));

/** Text files with varied words (they do not compress away) and one unique token each. */
function writeCorpus(root: string, prefix: string, n: number): string[] {
  const files: string[] = [];
  let seed = n * 7919;
  const pick = () => WORDS[(seed = (seed * 1103515245 + 12345) & 0x7fffffff) % WORDS.length]!;
  for (let i = 0; i < n; i++) {
    const p = path.join(root, prefix, `d${i % 10}`, `${prefix}-${i}.txt`);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    const words = Array.from({ length: 500 }, pick).join(' ');
    fs.writeFileSync(p, `${prefix}token${i} ${words}\n`);
    files.push(p);
  }
  return files;
}

function indexedPaths(data: string): string[] {
  const db = openIndexDb(data);
  try {
    return (db.prepare("SELECT path FROM documents WHERE status = 'indexed' ORDER BY path").all() as { path: string }[]).map((r) => r.path);
  } finally {
    db.close();
  }
}

function integrity(data: string): string {
  const db = openIndexDb(data);
  try {
    return db.pragma('integrity_check', { simple: true }) as string;
  } finally {
    db.close();
  }
}

test('a full data volume (real tmpfs): search keeps answering, status is degraded, nothing corrupt or lost, indexing resumes when space is freed', async (t) => {
  const root = tmpDir('owlet-root-');
  const mountPoint = fs.mkdtempSync(path.join(os.tmpdir(), 'owlet-tmpfs-'));
  const reason = mountTmpfs(mountPoint, 24);
  if (reason) {
    fs.rmdirSync(mountPoint);
    t.skip(reason);
    return;
  }
  const data = path.join(mountPoint, 'owlet');
  let svc: ReturnType<typeof startOwlet> | null = null;
  try {
    fs.mkdirSync(data, { mode: 0o700 });
    // Only the settings that matter here; the schema supplies every default.
    fs.writeFileSync(path.join(data, 'config.json'), JSON.stringify({ roots: [root], indexing: { batchSize: 50 } }), { mode: 0o600 });
    const first = writeCorpus(root, 'alpha', 300);
    svc = startOwlet(['serve', '--data-dir', data]);
    const info = await waitFor(() => {
      try {
        return JSON.parse(fs.readFileSync(path.join(data, 'service.json'), 'utf8')) as ServiceInfo;
      } catch {
        return null;
      }
    }, 30_000, 'service.json').catch((e: Error) => {
      throw new Error(`${e.message}\n${svc?.output()}`);
    });
    const get = async <T>(url: string): Promise<{ status: number; body: T }> => {
      const r = await fetchAuthed(data, `${info.url}${url}`);
      return { status: r.status, body: (await r.json()) as T };
    };
    const status = async () => (await get<StatusReport>('/api/v1/status')).body;
    await waitFor(async () => {
      const s = await status();
      return s.progress.phase === 'idle' && s.counts.indexed === first.length;
    }, 60_000, 'the first corpus indexed');

    // Fill every byte left on the volume (the WAL and the service log live there too), then
    // give the service more to index.
    const filler = path.join(data, 'filler.bin');
    const filled = fill(filler);
    const second = writeCorpus(root, 'beta', 1200);
    const t0 = Date.now();
    const degraded = await waitFor(async () => {
      const s = await status();
      return s.degraded.some((d) => d.component === 'disk') ? s : null;
    }, 60_000, 'status to report the full disk');
    const toDegraded = Date.now() - t0;
    assert.equal(degraded.state, 'degraded');
    assert.ok(degraded.pausedBecause.includes('disk-full'), JSON.stringify(degraded.pausedBecause));
    const msg = degraded.degraded.find((d) => d.component === 'disk')!.message;
    assert.match(msg, /disk space/);
    assert.match(msg, /resumes by itself/);

    // Search keeps answering while the disk is full, and every committed document is still there.
    let searches = 0;
    for (const i of [0, 17, 150, 299]) {
      const r = await get<SearchResult>(`/api/v1/search?q=alphatoken${i}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.total, 1, `alphatoken${i}`);
      searches++;
    }
    const live = await fetchAuthed(data, `${info.url}/health/ready`);
    assert.equal(live.status, 200);
    assert.equal(integrity(data), 'ok', 'integrity while full');
    const kept = indexedPaths(data);
    for (const f of first) assert.ok(kept.includes(f), `kept ${f}`);
    assert.ok(kept.length < first.length + second.length, 'indexing really was stopped by the full disk');
    // Still degraded a moment later: it does not resume while there is no room.
    await new Promise((r) => setTimeout(r, 2500));
    const still = await status();
    assert.ok(still.degraded.some((d) => d.component === 'disk'), 'stays paused while the volume is full');
    assert.ok(svc.exitCode === null && svc.signalCode === null, 'the service is still running');

    // Free the space: indexing resumes by itself and the index ends equal to the disk.
    fs.rmSync(filler);
    const t1 = Date.now();
    await waitFor(async () => {
      const s = await status();
      return !s.degraded.some((d) => d.component === 'disk') && s.progress.phase === 'idle' && s.counts.indexed === first.length + second.length;
    }, 90_000, 'indexing to resume and finish after space was freed');
    const toRecovered = Date.now() - t1;
    // Committed, not just visible to the service's own connection: another connection sees it all.
    assert.equal(indexedPaths(data).length, first.length + second.length, 'every document committed (read from another connection)');
    const hit = await get<SearchResult>('/api/v1/search?q=betatoken1199');
    assert.equal(hit.body.total, 1);
    console.log(
      `disk full (tmpfs 24 MB, filler ${(filled / MiB).toFixed(1)} MB): degraded ${toDegraded} ms after new files, ` +
        `${searches} searches answered while full; indexing complete ${toRecovered} ms after space was freed`,
    );

    svc.kill('SIGTERM');
    const exit = await waitExit(svc, 20_000);
    svc = null;
    assert.equal(exit.killed, false, 'clean shutdown');
    assert.equal(integrity(data), 'ok');
    const onDisk = [...first, ...second].sort();
    const indexed = indexedPaths(data);
    const missing = onDisk.filter((f) => !indexed.includes(f));
    const phantom = indexed.filter((f) => !onDisk.includes(f));
    assert.deepEqual({ missing, phantom, count: indexed.length }, { missing: [], phantom: [], count: onDisk.length }, 'the index equals the disk');
    const db = openIndexDb(data);
    try {
      assert.equal((db.prepare('SELECT count(*) AS n FROM docs_fts').get() as { n: number }).n, first.length + second.length, 'one FTS entry per document');
    } finally {
      db.close();
    }
  } catch (e) {
    // What the service said, and the end of its log (it lives on the volume about to go away).
    let log = '';
    try {
      log = fs.readFileSync(path.join(data, 'logs', 'service.log'), 'utf8').split('\n').slice(-30).join('\n');
    } catch {
      log = '(no service log)';
    }
    throw new Error(`${(e as Error).message}\n--- service output ---\n${svc?.output() ?? ''}\n--- service log ---\n${log}`, { cause: e });
  } finally {
    if (svc) {
      svc.kill('SIGKILL');
      await waitExit(svc, 10_000);
    }
    unmount(mountPoint);
    fs.rmSync(mountPoint, { recursive: true, force: true });
  }
});
