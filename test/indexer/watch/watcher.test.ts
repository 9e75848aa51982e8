import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import parcel from '@parcel/watcher';
import { Watcher, type WatchBackend } from '../../../src/indexer/watch/watcher.js';
import { OwletService } from '../../../src/indexer/service/service.js';
import { DEFAULT_EXCLUDE } from '../../../src/indexer/config/schema.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';
import { tmpDir, waitFor, writeTree } from '../../helpers/tmp.js';
import { openIndexDb } from '../../helpers/keys.js';

/** The watcher: event coalescing with the real backend, and the fall-back to periodic rescans. */

/** What Linux reports when fs.inotify.max_user_watches is exhausted. */
const WATCH_LIMIT = 'inotify_add_watch on /home/u/big failed: No space left on device';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface FakeSub {
  root: string;
  cb: (err: Error | null, events: { path: string; type: string }[]) => void;
  unsubscribed: boolean;
}

/** A backend the test controls: it can refuse to subscribe, or report an error later. */
function fakeBackend(opts: { failOn?: (root: string) => boolean; before?: () => Promise<void> } = {}): WatchBackend & { subs: FakeSub[] } {
  const subs: FakeSub[] = [];
  return {
    subs,
    async subscribe(root, cb) {
      await opts.before?.();
      if (opts.failOn?.(root)) throw new Error(WATCH_LIMIT);
      const sub: FakeSub = { root, cb, unsubscribed: false };
      subs.push(sub);
      return {
        unsubscribe: async () => {
          sub.unsubscribed = true;
        },
      };
    },
  };
}

/** Records batches and polls; each handler takes `workMs`, and overlapping runs are counted. */
function recorder(workMs = 5) {
  const batches: string[][] = [];
  let polls = 0;
  let running = 0;
  let maxRunning = 0;
  return {
    batches,
    get polls() {
      return polls;
    },
    get maxRunning() {
      return maxRunning;
    },
    onChanges: async (paths: string[]) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      batches.push(paths);
      await sleep(workMs);
      running--;
    },
    onPoll: async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      polls++;
      await sleep(workMs);
      running--;
    },
  };
}

test('a backend that cannot subscribe (watch limit reached): polling mode, a message that says why, and the rescans run', async () => {
  const backend = fakeBackend({ failOn: () => true });
  const rec = recorder();
  const w = new Watcher({ roots: ['/r1'], exclude: [], debounceMs: 10, pollMs: 40, backend, log: nullLogger, onChanges: rec.onChanges, onPoll: rec.onPoll });
  await w.start();
  assert.equal(w.mode, 'polling');
  assert.match(w.message ?? '', /cannot watch for changes/);
  assert.ok(w.message?.includes('No space left on device'), w.message ?? '');
  assert.match(w.message ?? '', /rescanning every/);
  await waitFor(() => rec.polls >= 3, 5000, 'three periodic rescans');
  assert.equal(rec.maxRunning, 1, 'rescans never overlap');
  await w.stop();
  assert.equal(w.mode, 'off');
  const after = rec.polls;
  await sleep(200);
  assert.equal(rec.polls, after, 'no rescans after stop');
});

test('one root failing degrades the whole watcher (no half-watched state) and releases the roots already subscribed', async () => {
  const backend = fakeBackend({ failOn: (r) => r === '/r2' });
  const rec = recorder();
  const w = new Watcher({ roots: ['/r1', '/r2'], exclude: [], debounceMs: 10, pollMs: 40, backend, log: nullLogger, onChanges: rec.onChanges, onPoll: rec.onPoll });
  await w.start();
  assert.equal(w.mode, 'polling');
  assert.equal(backend.subs.length, 1);
  assert.equal(backend.subs[0]!.unsubscribed, true, '/r1 was unsubscribed: polling covers every root');
  await waitFor(() => rec.polls >= 1, 5000, 'a rescan');
  await w.stop();
});

test('a backend that errors later: events first, then polling with the error in the message; restart returns to events', async () => {
  const backend = fakeBackend();
  const rec = recorder();
  const w = new Watcher({ roots: ['/r1'], exclude: [], debounceMs: 20, pollMs: 40, backend, log: nullLogger, onChanges: rec.onChanges, onPoll: rec.onPoll });
  await w.start();
  assert.equal(w.mode, 'events');
  assert.equal(w.message, null);
  const sub = backend.subs[0]!;
  sub.cb(null, [{ path: '/r1/a.txt', type: 'create' }, { path: '/r1/a.txt', type: 'update' }]);
  await waitFor(() => rec.batches.length === 1, 5000, 'the change delivered');
  assert.deepEqual(rec.batches[0], ['/r1/a.txt']);
  assert.equal(rec.polls, 0, 'no polling while events flow');

  sub.cb(new Error(`Unable to read changes: ${WATCH_LIMIT}`), []);
  assert.equal(w.mode, 'polling');
  assert.match(w.message ?? '', /^watcher error: .*No space left on device/);
  assert.equal(sub.unsubscribed, true);
  await waitFor(() => rec.polls >= 2, 5000, 'periodic rescans');

  // The root comes back (e.g. a remounted drive, or watches were freed): events again, polling ends.
  await w.restart();
  assert.equal(w.mode, 'events');
  assert.equal(w.message, null);
  assert.equal(backend.subs.length, 2);
  const polls = rec.polls;
  await sleep(200);
  assert.equal(rec.polls, polls, 'the poller was stopped');
  await w.stop();
  assert.equal(backend.subs[1]!.unsubscribed, true);
});

test('the backend says events were lost (inotify/Windows overflow, FSEvents drop): the root is subscribed afresh and the index reconciled, still in events mode', async () => {
  for (const message of ['Buffer overflow. Some events may have been lost.', 'Events were dropped by the kernel. File system must be re-scanned.']) {
    const backend = fakeBackend();
    const rec = recorder();
    const w = new Watcher({ roots: ['/r1'], exclude: [], debounceMs: 10, pollMs: 60_000, backend, log: nullLogger, onChanges: rec.onChanges, onPoll: rec.onPoll });
    await w.start();
    backend.subs[0]!.cb(new Error(message), []);
    await waitFor(() => rec.polls === 1, 5000, `a reconcile after "${message}"`);
    await w.idle();
    assert.equal(w.mode, 'events', message);
    assert.equal(w.message, null);
    assert.equal(backend.subs.length, 2, 'subscribed afresh');
    assert.equal(backend.subs[0]!.unsubscribed, true, 'the old subscription released');
    assert.equal(backend.subs[1]!.unsubscribed, false);
    // events still flow through the new subscription
    backend.subs[1]!.cb(null, [{ path: '/r1/x.txt', type: 'create' }]);
    await waitFor(() => rec.batches.some((b) => b.includes('/r1/x.txt')), 5000, 'an event after the overflow');
    await w.stop();
  }
});

test('a new folder is walked again once its events settle; walks repeat while they find unreported changes (the root subscribed afresh), and stop when one finds nothing', async () => {
  const root = tmpDir('owlet-settle-');
  const dir = path.join(root, 'new');
  fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
  const backend = fakeBackend();
  const calls: { paths: string[]; at: number }[] = [];
  // What each walk of the folder "finds": the first settle walk 3 new files, the second 1, then nothing.
  const findings = [3, 1, 0];
  const w = new Watcher({
    roots: [root],
    exclude: [],
    debounceMs: 10,
    settleMs: 150,
    pollMs: 60_000,
    backend,
    log: nullLogger,
    onChanges: async (paths) => {
      calls.push({ paths, at: Date.now() });
      if (paths.length === 1 && paths[0] === dir && calls.length > 1) return { walkedDirs: [dir], changed: findings.shift() ?? 0 };
      return { walkedDirs: paths.filter((p) => p === dir), changed: paths.length };
    },
    onPoll: async () => {},
  });
  await w.start();
  const sub = backend.subs[0]!;
  sub.cb(null, [{ path: dir, type: 'create' }]);
  await waitFor(() => calls.length === 1, 5000, 'the folder walked at once');
  assert.deepEqual(w.settlingDirs, [dir]);
  // Events inside the folder postpone its settle walk.
  const first = calls[0]!.at;
  for (let i = 0; i < 4; i++) {
    await sleep(60);
    sub.cb(null, [{ path: path.join(dir, `f${i}.txt`), type: 'create' }]);
  }
  await waitFor(() => calls.length >= 3 && calls.some((c, i) => i > 0 && c.paths.length === 1 && c.paths[0] === dir), 5000, 'the settle walk');
  const settle = calls.find((c, i) => i > 0 && c.paths[0] === dir && c.paths.length === 1)!;
  assert.ok(settle.at - first >= 240 + 150 - 20, `the settle walk waited for quiet (${settle.at - first} ms after the first walk)`);
  await waitFor(() => w.settlingDirs.length === 0, 5000, 'settling to end');
  await w.idle();
  const settleWalks = calls.filter((c, i) => i > 0 && c.paths.length === 1 && c.paths[0] === dir).length;
  assert.equal(settleWalks, 3, 'walked until a walk found nothing (3, 1, 0 changes)');
  assert.ok(backend.subs.length >= 2, 'a walk that found unreported changes subscribed the root afresh');
  assert.equal(backend.subs.filter((s) => !s.unsubscribed).length, 1, 'exactly one live subscription');
  await w.stop();
});

test('real @parcel/watcher: a burst is coalesced into few batches of unique paths, handled one at a time, excluded folders ignored', async () => {
  const root = tmpDir('owlet-watch-');
  // A slow update (400 ms, longer than the debounce): later events must queue behind it, not run beside it.
  const rec = recorder(400);
  const w = new Watcher({ roots: [root], exclude: DEFAULT_EXCLUDE, debounceMs: 100, pollMs: 60_000, backend: parcel, log: nullLogger, onChanges: rec.onChanges, onPoll: rec.onPoll });
  await w.start();
  try {
    assert.equal(w.mode, 'events');
    const files = Array.from({ length: 20 }, (_, i) => path.join(root, 'sub', `f${i}.txt`));
    fs.mkdirSync(path.join(root, 'sub'));
    let writes = 0;
    for (let round = 0; round < 3; round++)
      for (const f of files) {
        fs.writeFileSync(f, `round ${round}`);
        writes++;
      }
    fs.mkdirSync(path.join(root, 'node_modules', 'pkg'), { recursive: true });
    fs.writeFileSync(path.join(root, 'node_modules', 'pkg', 'index.js'), 'x');
    const seen = () => new Set(rec.batches.flat());
    await waitFor(() => files.every((f) => seen().has(f)), 10_000, 'every written file reported');
    // A second burst while the slow handler is still busy with the first.
    fs.rmSync(files[0]!);
    fs.writeFileSync(files[1]!, 'again');
    await waitFor(() => rec.batches.slice(1).some((b) => b.includes(files[0]!)), 10_000, 'the deletion reported');
    await w.idle();
    console.log(`watcher: ${writes + 2} writes and deletes arrived as ${rec.batches.length} batch(es) of ${rec.batches.map((b) => b.length).join(', ')} paths`);
    assert.ok(rec.batches.length < writes / 3, `coalesced: ${rec.batches.length} batches for ${writes} writes`);
    for (const b of rec.batches) assert.equal(new Set(b).size, b.length, 'a batch names each path once');
    assert.equal(rec.maxRunning, 1, 'batches are applied one at a time');
    assert.ok(![...seen()].some((p) => p.includes(`${path.sep}node_modules${path.sep}`)), 'excluded folders are not reported');
    assert.equal(rec.polls, 0);
  } finally {
    await w.stop();
  }
});

test('the service reports a watcher in polling mode in status: state degraded, with the reason', async () => {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  writeTree(root, { 'a.txt': 'hello watchword' });
  fs.writeFileSync(path.join(data, 'config.json'), JSON.stringify({ roots: [root] }), { mode: 0o600 });
  const svc = new OwletService({ dataDir: data, log: nullLogger, watch: true, watchBackend: fakeBackend({ failOn: () => true }) });
  try {
    await svc.start();
    await waitFor(() => svc.status().counts.indexed === 1, 20_000, 'the first pass');
    const s = svc.status();
    assert.equal(s.watcher.mode, 'polling');
    assert.match(s.watcher.message ?? '', /No space left on device.*rescanning every \d+ s instead/);
    assert.equal(s.state, 'degraded');
    const d = s.degraded.find((x) => x.component === 'watcher');
    assert.ok(d, JSON.stringify(s.degraded));
    assert.equal(d.message, s.watcher.message);
    assert.equal(svc.search('watchword', 10, 0).total, 1, 'search is unaffected');
  } finally {
    await svc.stop();
  }
});

test('stopping the service while a watcher batch waits (paused, e.g. disk full) never overwrites indexed documents', async () => {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  const files: Record<string, string> = {};
  for (let i = 0; i < 30; i++) files[`f${i}.txt`] = `first version ${i}`;
  writeTree(root, files);
  fs.writeFileSync(path.join(data, 'config.json'), JSON.stringify({ roots: [root] }), { mode: 0o600 });
  const backend = fakeBackend();
  const svc = new OwletService({ dataDir: data, log: nullLogger, watch: true, watchBackend: backend });
  let stopped = false;
  try {
    await svc.start();
    await waitFor(() => svc.status().counts.indexed === 30 && svc.status().progress.phase === 'idle', 20_000, 'the first pass');
    // Every file changes while indexing is paused: the batch is taken up and waits for the pause.
    writeTree(root, Object.fromEntries(Object.keys(files).map((f) => [f, `second version ${f}`])));
    svc.indexer.pause('disk-full');
    backend.subs[0]!.cb(null, Object.keys(files).map((f) => ({ path: path.join(root, f), type: 'update' })));
    await waitFor(() => svc.status().progress.queued >= 30, 10_000, 'the batch waiting in the indexer');
    await svc.stop();
    stopped = true;
  } finally {
    if (!stopped) await svc.stop();
  }
  // Nothing was re-extracted, and nothing already indexed was replaced by a shutdown artefact.
  const db = openIndexDb(data);
  try {
    const rows = db.prepare('SELECT status, reason, count(*) AS n FROM documents GROUP BY status, reason').all();
    assert.deepEqual(rows, [{ status: 'indexed', reason: null, n: 30 }]);
  } finally {
    db.close();
  }
});

test('a subscription the OS completes after stop() is released, not kept (it would keep the stopped service\'s process alive)', async () => {
  let slow = false;
  let release!: () => void;
  const backend = fakeBackend({ before: () => (slow ? new Promise<void>((r) => (release = r)) : Promise.resolve()) });
  const rec = recorder();
  const w = new Watcher({ roots: ['/r1'], exclude: [], debounceMs: 10, pollMs: 60_000, backend, log: nullLogger, onChanges: rec.onChanges, onPoll: rec.onPoll });
  await w.start();
  // Events were lost: the watcher subscribes afresh, and the OS takes its time.
  slow = true;
  backend.subs[0]!.cb(new Error('Buffer overflow. Some events may have been lost.'), []);
  await waitFor(() => release !== undefined, 5000, 'the fresh subscription under way');
  const stopped = w.stop();
  release();
  await stopped;
  assert.equal(backend.subs.length, 2);
  assert.deepEqual(backend.subs.map((s) => s.unsubscribed), [true, true], 'both subscriptions released after stop()');
  assert.equal(w.mode, 'off');
});
