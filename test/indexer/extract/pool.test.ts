import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, fork, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { handleFromChild } from '../../../src/indexer/extract/launcher.js';
import {
  WORKER_MALLOC_TUNABLES,
  WORKER_V8_FLAGS,
  defaultWorkerLauncher,
  workerEnv,
  heapMb,
  createExtractionPool,
  NOT_STARTED,
  forkWorkerLauncher,
  type ExtractionPool,
  type ExtractOutcome,
  type PoolOptions,
  type WorkerHandle,
  type WorkerLauncher,
} from '../../../src/indexer/extract/pool.js';
import { LIMITS, makeDocx, makePdf, tempDir } from './fixtures.js';
import { stemsText } from '../../../src/indexer/text/stem.js';
import { isReady } from '../../../src/indexer/extract/protocol.js';

// ---------------------------------------------------------------------------------------------
// helpers: every wait is bounded

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, limit]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not true within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Wraps a launcher to remember every handle it started (to find pids, kill workers). */
function tracking(base: WorkerLauncher): { launch: WorkerLauncher; handles: WorkerHandle[] } {
  const handles: WorkerHandle[] = [];
  return {
    handles,
    launch: () => {
      const h = base();
      handles.push(h);
      return h;
    },
  };
}

/** Wraps a launcher to record, in order, the base name of every file sent to any of its workers. */
function recordingSends(base: WorkerLauncher, sent: string[]): WorkerLauncher {
  return () => {
    const h = base();
    return { send: (m) => { if ((m as { path?: string }).path) sent.push(path.basename((m as { path: string }).path)); h.send(m); }, onMessage: (cb) => h.onMessage(cb), onExit: (cb) => h.onExit(cb), kill: () => h.kill(), get pid() { return h.pid; } };
  };
}

function failure(o: ExtractOutcome, reason: string): Extract<ExtractOutcome, { ok: false }> {
  assert.equal(o.ok, false, `expected ${reason}, got ${JSON.stringify(o).slice(0, 200)}`);
  assert.ok(!o.ok);
  assert.equal(o.reason, reason, o.message);
  return o;
}

function poolFor(t: { after(fn: () => Promise<void> | void): void }, opts: Partial<PoolOptions> & { launch: WorkerLauncher }): ExtractionPool {
  const pool = createExtractionPool({ workers: 1, timeoutMs: 20_000, memoryMb: 512, limits: LIMITS, ...opts });
  t.after(() => pool.close());
  return pool;
}

// ---------------------------------------------------------------------------------------------
// A hostile stand-in for worker-main, written by the test: it speaks the protocol but its
// behaviour is chosen by the file name. No production code path can reach it.

const FAKE_WORKER = `
process.on('disconnect', () => process.exit(0));
const reply = (m, text) => process.send({ id: m.id, ok: true, title: null, text, extractor: 'fake', sha256: '0', size: 0 });
process.on('message', (m) => {
  if (m.type === 'config') return;
  const name = m.path.split('/').pop();
  if (name === 'hang') return;                                    // never answers
  if (name === 'slow') return void setTimeout(() => reply(m, 'slow'), 60_000);
  if (name === 'nap') return void setTimeout(() => reply(m, 'nap'), 300);
  if (name === 'spin') for (;;) {}                                // busy loop: cannot even check itself
  if (name === 'hog') {                                           // off-heap growth: only RSS shows it
    const keep = [];
    return void setInterval(() => keep.push(Buffer.alloc(16 * 1024 * 1024, 1)), 10);
  }
  if (name === 'heap') {                                          // V8 heap exhaustion
    const keep = [];
    for (;;) keep.push(new Array(10_000).fill({ n: keep.length }));
  }
  if (name === 'garbage') return void process.send({ id: m.id, ok: 'maybe' });
  reply(m, 'fake:' + name);
});
process.send({ type: 'ready' });
`;

function fakeLauncher(dir: string, execArgv: string[] = []): WorkerLauncher {
  const script = path.join(dir, 'fake-worker.mjs');
  fs.writeFileSync(script, FAKE_WORKER);
  return () =>
    handleFromChild(fork(script, [], { execArgv, serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'] }), {
      forwardStderr: false,
    });
}

const job = (p: string) => ({ path: p, ext: 'txt', maxBytes: 1024 * 1024 });

// ---------------------------------------------------------------------------------------------
// supervision, with the hostile stand-in

test('a hanging job times out within its limit, its worker is replaced, the next job succeeds', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const { launch, handles } = tracking(fakeLauncher(dir));
  const pool = poolFor(t, { launch, timeoutMs: 800 });
  const t0 = Date.now();
  const o = failure(await within(pool.extract(job('/x/hang')), 5_000, 'hang'), 'timeout');
  const took = Date.now() - t0;
  // Not before its limit; how late is the machine's business (a busy 2-core box delays timers), and
  // a limit never enforced is caught by `within` above and by the outcome being 'timeout'.
  assert.ok(took >= 700, `timed out after ${took} ms, before its 800 ms limit`);
  assert.match(o.message, /800 ms/);
  const next = await within(pool.extract(job('/x/fine')), 10_000, 'after timeout');
  assert.deepEqual(next.ok && next.text, 'fake:fine');
  assert.equal(handles.length, 2, 'one replacement worker');
  assert.equal(isAlive(handles[0]!.pid!), false, 'the hung worker was killed');
  assert.deepEqual({ ...pool.stats(), workers: 1 }, { workers: 1, busy: 0, queued: 0, restarts: 1, timeouts: 1, crashes: 0, memoryKills: 0, recycled: 0 });
});

test('other workers and queued jobs keep flowing while one job hangs', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const pool = poolFor(t, { launch: fakeLauncher(dir), workers: 2, timeoutMs: 3_000 });
  const hung = pool.extract(job('/x/hang'));
  const t0 = Date.now();
  const rest = await within(Promise.all(Array.from({ length: 20 }, (_, i) => pool.extract(job(`/x/f${i}`)))), 10_000, 'queue');
  assert.ok(Date.now() - t0 < 2_500, 'the queue did not wait for the hung job');
  assert.deepEqual(rest.map((r) => r.ok && r.text), Array.from({ length: 20 }, (_, i) => `fake:f${i}`));
  failure(await within(hung, 10_000, 'hung'), 'timeout');
});

test('a worker killed with SIGKILL mid-job fails that job as crash; the pool recovers', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const { launch, handles } = tracking(fakeLauncher(dir));
  const pool = poolFor(t, { launch });
  const pending = pool.extract(job('/x/slow'));
  await waitFor(() => pool.stats().busy === 1, 10_000, 'job dispatched');
  process.kill(handles[0]!.pid!, 'SIGKILL');
  const o = failure(await within(pending, 5_000, 'killed job'), 'crash');
  assert.match(o.message, /died/);
  const next = await within(pool.extract(job('/x/after')), 10_000, 'after crash');
  assert.equal(next.ok && next.text, 'fake:after');
  assert.equal(pool.stats().crashes, 1);
  assert.equal(pool.stats().restarts, 1);
});

test('a worker spinning in a tight loop is still stopped by the deadline', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const pool = poolFor(t, { launch: fakeLauncher(dir), timeoutMs: 500 });
  failure(await within(pool.extract(job('/x/spin')), 5_000, 'spin'), 'timeout');
  assert.equal((await within(pool.extract(job('/x/ok')), 10_000, 'after spin')).ok, true);
});

test('a worker over its memory cap is killed by the parent watchdog: memory', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const pool = poolFor(t, { launch: fakeLauncher(dir), memoryMb: 160 });
  const o = failure(await within(pool.extract(job('/x/hog')), 10_000, 'hog'), 'memory');
  assert.match(o.message, /160 MB/);
  assert.equal(pool.stats().memoryKills, 1);
  assert.equal((await within(pool.extract(job('/x/ok')), 10_000, 'after hog')).ok, true);
});

test('V8 heap exhaustion in a worker is reported as memory, not crash', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const pool = poolFor(t, { launch: fakeLauncher(dir, ['--max-old-space-size=48']), memoryMb: 4096 });
  failure(await within(pool.extract(job('/x/heap')), 20_000, 'heap'), 'memory');
  assert.equal(pool.stats().memoryKills, 1);
});

test('an invalid reply is a crash and that worker is not trusted again', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const { launch, handles } = tracking(fakeLauncher(dir));
  const pool = poolFor(t, { launch });
  failure(await within(pool.extract(job('/x/garbage')), 5_000, 'garbage'), 'crash');
  assert.equal((await within(pool.extract(job('/x/ok')), 10_000, 'after garbage')).ok, true);
  assert.equal(handles.length, 2);
});

test('workers that cannot start fail queued jobs instead of leaving them waiting', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const script = path.join(dir, 'broken.mjs');
  fs.writeFileSync(script, 'process.exit(3);');
  const pool = poolFor(t, { launch: () => handleFromChild(fork(script, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })) });
  const o = failure(await within(pool.extract(job('/x/a')), 15_000, 'no workers'), 'crash');
  assert.match(o.message, /fail to start/);
});

test('close() settles pending and queued jobs and leaves no child process alive', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const { launch, handles } = tracking(fakeLauncher(dir));
  // prefetch 0: the stand-in answers out of order, so a job sent ahead to a hanging one would finish
  // (the real worker runs its jobs in order; jobs ahead are covered by the tests below).
  const pool = createExtractionPool({ workers: 2, timeoutMs: 60_000, memoryMb: 512, limits: LIMITS, launch, prefetch: 0 });
  const done = await within(pool.extract(job('/x/first')), 10_000, 'first');
  assert.equal(done.ok, true);
  const pending = [pool.extract(job('/x/hang')), pool.extract(job('/x/hang')), pool.extract(job('/x/queued'))];
  await waitFor(() => pool.stats().busy === 2, 10_000, 'both busy');
  await within(pool.close(), 10_000, 'close');
  for (const p of pending) assert.match(failure(await within(p, 1_000, 'settled'), 'crash').message, /closed/);
  for (const h of handles) assert.equal(isAlive(h.pid!), false, `worker ${h.pid} still alive`);
  assert.equal(pool.stats().workers, 0);
  failure(await pool.extract(job('/x/late')), 'crash');
  await within(pool.close(), 1_000, 'second close'); // idempotent
});

// ---------------------------------------------------------------------------------------------
// jobs sent ahead, with a stand-in that behaves like worker-main: one job at a time, in order,
// skipping cancelled ones; it logs every job it starts, and `slow` keeps it busy (synchronously,
// like a long PDF) for 1.5 s.

const SERIAL_WORKER = `
import fs from 'node:fs';
process.on('disconnect', () => process.exit(0));
const log = process.argv[2] + '/started-' + process.pid;
const cancelled = new Set();
let chain = Promise.resolve();
process.on('message', (m) => {
  if (m.type === 'config') return;
  if (m.type === 'cancel') { for (const id of m.ids) cancelled.add(id); return; }
  chain = chain.then(async () => {
    await new Promise((r) => setImmediate(r));
    if (cancelled.delete(m.id)) return;
    const name = m.path.split('/').pop();
    fs.appendFileSync(log, name + '\\n');
    if (name === 'slow') { const end = Date.now() + 1500; while (Date.now() < end); }
    process.send({ id: m.id, ok: true, title: null, text: 'serial:' + name, extractor: 'fake', sha256: '0', size: 0 });
  });
});
process.send({ type: 'ready' });
`;

function serialLauncher(dir: string): WorkerLauncher {
  const script = path.join(dir, 'serial-worker.mjs');
  fs.writeFileSync(script, SERIAL_WORKER);
  return () => handleFromChild(fork(script, [dir], { serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'] }), { forwardStderr: false });
}

function startedBy(dir: string, pid: number): string[] {
  const f = path.join(dir, `started-${pid}`);
  return fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').filter(Boolean) : [];
}

test('a busy worker gets jobs ahead; when it dies they run elsewhere, unblamed, and only its own job fails', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const sent: string[] = [];
  const { launch, handles } = tracking(serialLauncher(dir));
  const recording = recordingSends(launch, sent);
  const pool = poolFor(t, { launch: recording, stealAfterMs: 60_000 });
  const slow = pool.extract(job('/x/slow'));
  const rest = ['a', 'b', 'c'].map((n) => pool.extract(job(`/x/${n}`)));
  await waitFor(() => sent.length === 4, 10_000, 'all four sent to the one worker');
  assert.deepEqual(sent, ['slow', 'a', 'b', 'c'], 'three jobs went ahead while the first ran');
  assert.equal(pool.stats().busy, 1);
  process.kill(handles[0]!.pid!, 'SIGKILL');
  assert.match(failure(await within(slow, 5_000, 'slow'), 'crash').message, /died/);
  const outs = await within(Promise.all(rest), 10_000, 'jobs ahead');
  assert.deepEqual(outs.map((o) => o.ok && o.text), ['serial:a', 'serial:b', 'serial:c']);
  assert.deepEqual(startedBy(dir, handles[1]!.pid!), ['a', 'b', 'c'], 'run by the replacement, in order');
  assert.equal(pool.stats().crashes, 1, 'one crash: the job the worker died on');
});

test('a job whose mayStart says no when a worker would take it is settled NOT_STARTED and never sent; jobs that come back from a dead worker are asked again', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const sent: string[] = [];
  const { launch, handles } = tracking(serialLauncher(dir));
  const recording = recordingSends(launch, sent);
  const pool = poolFor(t, { launch: recording, stealAfterMs: 60_000 });
  const allowed = new Set(['a', 'b', 'c']);
  const asked: string[] = [];
  const gated = (n: string) => pool.extract(job(`/x/${n}`), { mayStart: () => (asked.push(n), allowed.has(n)) });
  const slow = pool.extract(job('/x/slow'));
  const ahead = ['a', 'b', 'c'].map(gated);
  const refused = gated('d');
  await waitFor(() => sent.length === 4, 10_000, 'slow and three jobs ahead sent');
  assert.equal(await within(refused, 5_000, 'd'), NOT_STARTED, 'refused without waiting for a worker to be free');
  assert.deepEqual(sent, ['slow', 'a', 'b', 'c'], 'the refused job never reached a worker');
  // b's kind is refused from now on; the worker dies with a, b and c still ahead of it.
  allowed.delete('b');
  process.kill(handles[0]!.pid!, 'SIGKILL');
  failure(await within(slow, 5_000, 'slow'), 'crash');
  const [a, b, c] = await within(Promise.all(ahead), 10_000, 'jobs ahead');
  assert.equal(b, NOT_STARTED, 'asked again when it came back to the queue');
  assert.ok(a?.ok && c?.ok, JSON.stringify([a, c]));
  assert.deepEqual(startedBy(dir, handles[1]!.pid!), ['a', 'c'], 'the replacement ran only what may still start');
  assert.deepEqual(asked.filter((n) => n === 'b').length, 2, 'b was asked when first sent ahead and again when it came back');
  assert.equal(pool.stats().crashes, 1, 'only the job the worker died on failed');
});

test('with a CPU share below 1 a worker rests after each job in proportion to its run and gets nothing ahead; the share is read per job', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const sent: string[] = [];
  const base = fakeLauncher(dir);
  const recording = recordingSends(base, sent);
  // A fake clock for run and rest times; the rest itself is a real timer of that many ms.
  let clock = 0;
  let share = 0.5;
  const pool = poolFor(t, { launch: recording, now: () => clock, cpuShare: () => share, stealAfterMs: 0 });
  const first = pool.extract(job('/x/nap')); // answers after 300 ms
  const second = pool.extract(job('/x/b'));
  await waitFor(() => sent.length === 1, 10_000, 'the first job sent');
  clock = 10_000; // the first job "ran" 10 s: at share 0.5 the worker rests 10 s after it
  assert.ok((await within(first, 5_000, 'nap')).ok);
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(sent, ['nap'], 'nothing sent ahead, nothing sent while resting');
  clock = 20_001; // the rest is over
  const third = pool.extract(job('/x/c')); // any dispatch now finds the worker rested
  assert.ok((await within(second, 5_000, 'b')).ok);
  assert.deepEqual(sent.slice(0, 2), ['nap', 'b']);
  // Share 1 from now on (a live change): no rest, and jobs go ahead again.
  share = 1;
  clock = 40_002;
  const rest = ['d', 'e', 'f'].map((n) => pool.extract(job(`/x/${n}`)));
  assert.ok((await within(Promise.all([third, ...rest]), 5_000, 'c-f')).every((o) => o.ok));
  assert.deepEqual(sent, ['nap', 'b', 'c', 'd', 'e', 'f']);
});

test('a worker stuck on a long file gives its jobs ahead back, and they finish elsewhere first', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const { launch, handles } = tracking(serialLauncher(dir));
  const pool = poolFor(t, { launch, workers: 2, stealAfterMs: 300 });
  await within(Promise.all([pool.extract(job('/x/warm1')), pool.extract(job('/x/warm2'))]), 10_000, 'both workers up');
  const order: string[] = [];
  const track = (n: string) => pool.extract(job(`/x/${n}`)).then((o) => (order.push(n), o));
  const all = [track('slow'), ...Array.from({ length: 12 }, (_, i) => track(`q${i}`))];
  const outs = await within(Promise.all(all), 15_000, 'all');
  assert.ok(outs.every((o) => o.ok), JSON.stringify(outs));
  assert.equal(order.at(-1), 'slow', `the quick jobs did not wait for the slow one: ${order.join(' ')}`);
  const slowPid = handles.find((h) => startedBy(dir, h.pid!).includes('slow'))!.pid!;
  const byStuck = startedBy(dir, slowPid).filter((n) => n.startsWith('q'));
  const byOther = handles.filter((h) => h.pid !== slowPid).flatMap((h) => startedBy(dir, h.pid!)).filter((n) => n.startsWith('q'));
  assert.equal(byStuck.length + byOther.length, 12, `each quick job ran once: ${byStuck} / ${byOther}`);
});

test('jobs taken back from a stuck worker and later sent to that same worker again do run there', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const { launch, handles } = tracking(serialLauncher(dir));
  // One worker: whatever is taken back can only go to it again. The stand-in keeps every id it was
  // told to cancel, so a job sent again under its old id would be skipped and time out.
  const pool = poolFor(t, { launch, stealAfterMs: 300, timeoutMs: 6_000 });
  await within(pool.extract(job('/x/warm')), 10_000, 'worker up');
  const outs = await within(Promise.all(['slow', 'a', 'b'].map((n) => pool.extract(job(`/x/${n}`)))), 15_000, 'all');
  assert.deepEqual(outs.map((o) => o.ok && o.text), ['serial:slow', 'serial:a', 'serial:b']);
  assert.equal(pool.stats().timeouts, 0);
  assert.deepEqual(startedBy(dir, handles[0]!.pid!), ['warm', 'slow', 'a', 'b'], 'each ran once, on the one worker');
});

test('replies waiting unread behind a long synchronous stretch here are read before any job is taken back: nothing runs twice or times out', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const { launch: base, handles } = tracking(serialLauncher(dir));
  const cancels: unknown[] = [];
  const launch: WorkerLauncher = () => {
    const h = base();
    return { send: (m) => { if ((m as { type?: string }).type === 'cancel') cancels.push(m); h.send(m); }, onMessage: (cb) => h.onMessage(cb), onExit: (cb) => h.onExit(cb), kill: () => h.kill(), get pid() { return h.pid; } };
  };
  const pool = poolFor(t, { launch, stealAfterMs: 300, timeoutMs: 4_000 });
  await within(pool.extract(job('/x/warm')), 10_000, 'worker up');
  const all = Promise.all(['c', 'a', 'b'].map((n) => pool.extract(job(`/x/${n}`))));
  // This process is busy for 1.5 s (as the writer is while it commits a batch): the worker answers
  // all three meanwhile, and the steal timer is long due when the event loop comes back.
  const end = Date.now() + 1_500;
  while (Date.now() < end);
  const outs = await within(all, 15_000, 'all');
  assert.deepEqual(outs.map((o) => o.ok && o.text), ['serial:c', 'serial:a', 'serial:b']);
  assert.equal(pool.stats().timeouts, 0);
  await new Promise((r) => setTimeout(r, 300)); // a job wrongly sent again would have started by now
  assert.deepEqual(startedBy(dir, handles[0]!.pid!), ['warm', 'c', 'a', 'b'], 'each ran once');
  assert.deepEqual(cancels, [], 'the worker was not stuck: nothing was taken back from it');
});

// ---------------------------------------------------------------------------------------------
// the real worker (worker-main.ts through tsx)

test('real workers: documents extract end to end with sha256 and size', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const files: Record<string, Uint8Array> = {
    'a.pdf': makePdf({ pages: ['POOLPDFTOKEN'], title: 'Pool PDF' }),
    'b.docx': makeDocx({ paragraphs: ['POOLDOCXTOKEN'], title: 'Pool Docx' }),
    'c.md': Buffer.from('# Pool MD\nPOOLMDTOKEN'),
    'empty.pdf': new Uint8Array(0),
  };
  for (const [n, b] of Object.entries(files)) fs.writeFileSync(path.join(dir, n), b);
  const pool = poolFor(t, { launch: forkWorkerLauncher(), workers: 2 });
  const run = (n: string) => pool.extract({ path: path.join(dir, n), ext: path.extname(n).slice(1), maxBytes: 1024 * 1024 });
  const [pdf, docx, md, empty] = await within(Promise.all(['a.pdf', 'b.docx', 'c.md', 'empty.pdf'].map(run)), 45_000, 'real extraction');
  assert.ok(pdf?.ok && docx?.ok && md?.ok && empty?.ok, JSON.stringify([pdf, docx, md, empty]));
  assert.deepEqual([pdf.title, pdf.extractor, pdf.size], ['Pool PDF', 'pdf', files['a.pdf']!.length]);
  assert.match(pdf.text, /POOLPDFTOKEN/);
  assert.equal(pdf.sha256, createHash('sha256').update(files['a.pdf']!).digest('hex'));
  assert.deepEqual([docx.title, docx.text], ['Pool Docx', 'POOLDOCXTOKEN']);
  assert.deepEqual([md.title, md.extractor], ['Pool MD', 'text']);
  assert.deepEqual([empty.text, empty.size], ['', 0]);
  // a zip bomb is refused inside the worker, which stays within its memory and keeps serving
  const bomb = path.join(dir, 'bomb.docx');
  fs.writeFileSync(bomb, makeDocx({ paragraphs: [], documentXml: ' '.repeat(40 * 1024 * 1024) }));
  failure(await within(pool.extract({ path: bomb, ext: 'docx', maxBytes: 1024 * 1024 }), 20_000, 'bomb'), 'too-large');
  assert.equal(pool.stats().memoryKills, 0);
});

test('real workers: FIFO refused without blocking, oversized file refused without reading, errno kept', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const fifo = path.join(dir, 'pipe.txt');
  execFileSync('mkfifo', [fifo]);
  const huge = path.join(dir, 'huge.txt');
  fs.writeFileSync(huge, '');
  fs.truncateSync(huge, 8 * 1024 * 1024 * 1024); // sparse 8 GB: reading it would take ages
  const pool = poolFor(t, { launch: forkWorkerLauncher(), timeoutMs: 10_000 });
  await within(pool.extract(job(path.join(dir, 'missing.txt'))), 30_000, 'warm-up'); // worker start-up is not measured below
  const t0 = Date.now();
  const f = failure(await within(pool.extract(job(fifo)), 5_000, 'fifo'), 'unsupported');
  assert.match(f.message, /not a regular file.*FIFO/);
  const big = failure(await within(pool.extract({ path: huge, ext: 'txt', maxBytes: 64 * 1024 * 1024 }), 5_000, 'huge'), 'too-large');
  assert.match(big.message, /over the 64\.0 MB limit; not read/);
  assert.ok(Date.now() - t0 < 3_000, `took ${Date.now() - t0} ms`);
  const gone = failure(await within(pool.extract(job(path.join(dir, 'missing.txt'))), 5_000, 'missing'), 'io-error');
  assert.equal(gone.errno, 'ENOENT');
  failure(await within(pool.extract(job(dir)), 5_000, 'directory'), 'unsupported');
  assert.equal(pool.stats().timeouts, 0);
});

test('real workers exit when their parent dies (never orphaned)', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const poolUrl = new URL('../../../src/indexer/extract/pool.ts', import.meta.url).href;
  const parentScript = path.join(dir, 'parent.mts');
  fs.writeFileSync(
    parentScript,
    `import { createExtractionPool, forkWorkerLauncher } from ${JSON.stringify(poolUrl)};
const base = forkWorkerLauncher();
const pids = [];
const pool = createExtractionPool({ workers: 2, timeoutMs: 20000, memoryMb: 256,
  limits: { maxTextBytes: 1e6, maxUnzipBytes: 1e7, pdfMaxPages: 10 },
  launch: () => { const h = base(); pids.push(h.pid); return h; } });
await Promise.all([pool.extract({ path: '/nonexistent-a', ext: 'txt', maxBytes: 1 }), pool.extract({ path: '/nonexistent-b', ext: 'txt', maxBytes: 1 })]);
process.stdout.write(JSON.stringify(pids) + '\\n');
setInterval(() => {}, 1000);
`,
  );
  const parent = spawn(process.execPath, ['--import', 'tsx', parentScript], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    if (parent.exitCode === null) parent.kill('SIGKILL');
  });
  const pids = await within(
    new Promise<number[]>((resolve, reject) => {
      let out = '';
      parent.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(JSON.parse(out) as number[]);
      });
      parent.on('exit', (code) => reject(new Error(`parent exited early (${code})`)));
    }),
    45_000,
    'parent ready',
  );
  assert.equal(pids.length, 2);
  assert.ok(pids.every(isAlive));
  parent.kill('SIGKILL');
  await waitFor(() => !pids.some(isAlive), 10_000, 'workers gone after parent death');
});

test('a worker above the soft memory limit after a job is replaced between jobs, losing nothing', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  for (let i = 0; i < 3; i++) fs.writeFileSync(path.join(dir, `r${i}.txt`), `recycle token ${i}`);
  // Any real worker is above 1 MB: each job ends with a replacement.
  const pool = poolFor(t, { launch: forkWorkerLauncher(), recycleMb: 1 });
  for (let i = 0; i < 3; i++) {
    const out = await within(pool.extract(job(path.join(dir, `r${i}.txt`))), 20_000, `job ${i}`);
    assert.ok(out.ok && out.text.includes(`token ${i}`));
  }
  assert.ok(pool.stats().recycled >= 2, `recycled ${pool.stats().recycled}`);
  assert.equal(pool.stats().crashes, 0);
});

test('with idleExitMs, idle workers exit and the next job starts them again, losing nothing', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  for (let i = 0; i < 2; i++) fs.writeFileSync(path.join(dir, `idle${i}.txt`), `idle token ${i}`);
  const { launch, handles } = tracking(forkWorkerLauncher());
  const pool = poolFor(t, { launch, workers: 2, idleExitMs: 300 });
  const first = await within(pool.extract(job(path.join(dir, 'idle0.txt'))), 20_000, 'first job');
  assert.ok(first.ok && first.text.includes('token 0'));
  assert.equal(handles.length, 2);
  // Nothing to do: both workers go, and nothing replaces them.
  await waitFor(() => pool.stats().workers === 0, 15_000, 'workers gone while idle');
  await waitFor(() => !handles.some((h) => isAlive(h.pid!)), 10_000, 'worker processes exited');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(handles.length, 2, 'no worker started while idle');
  // A new job wakes the pool: a full set of workers, not counted as restarts or crashes.
  const second = await within(pool.extract(job(path.join(dir, 'idle1.txt'))), 20_000, 'job after idle');
  assert.ok(second.ok && second.text.includes('token 1'));
  assert.equal(handles.length, 4);
  assert.equal(pool.stats().workers, 2);
  assert.equal(pool.stats().restarts, 0);
  assert.equal(pool.stats().crashes, 0);
});

test('without idleExitMs, idle workers stay', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'stay.txt'), 'stay token');
  const { launch, handles } = tracking(forkWorkerLauncher());
  const pool = poolFor(t, { launch });
  assert.ok((await within(pool.extract(job(path.join(dir, 'stay.txt'))), 20_000, 'job')).ok);
  await new Promise((r) => setTimeout(r, 800));
  assert.equal(pool.stats().workers, 1);
  assert.ok(handles.every((h) => isAlive(h.pid!)));
});

test('the default launcher starts workers with the pool V8 flags (no Liftoff, small young generation), and they extract a PDF', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'a.pdf'), makePdf({ pages: ['FLAGGEDPDFTOKEN'], title: 'Flagged' }));
  const { launch, handles } = tracking(defaultWorkerLauncher(256));
  const pool = poolFor(t, { launch, workers: 1 });
  const out = await within(pool.extract({ path: path.join(dir, 'a.pdf'), ext: 'pdf', maxBytes: 1024 * 1024 }), 45_000, 'pdf');
  assert.ok(out.ok, JSON.stringify(out));
  assert.match(out.text, /FLAGGEDPDFTOKEN/);
  if (process.platform === 'linux') {
    const cmd = fs.readFileSync(`/proc/${handles[0]!.pid}/cmdline`, 'utf8').split('\0');
    for (const f of [...WORKER_V8_FLAGS, `--max-old-space-size=${heapMb(256)}`]) assert.ok(cmd.includes(f), `${f} in ${cmd.join(' ')}`);
  }
});

test('workers get a fixed malloc mmap threshold, added to any glibc tunables the user set (theirs win a clash)', () => {
  assert.match(WORKER_MALLOC_TUNABLES, /^glibc\.malloc\.mmap_threshold=\d+:glibc\.malloc\.top_pad=\d+$/);
  assert.equal(workerEnv({ PATH: '/bin' }).GLIBC_TUNABLES, WORKER_MALLOC_TUNABLES);
  assert.equal(workerEnv({ PATH: '/bin' }).PATH, '/bin', 'the rest of the environment is passed on');
  // glibc applies tunables in order: the user's come last so theirs win.
  assert.equal(workerEnv({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }).GLIBC_TUNABLES, `${WORKER_MALLOC_TUNABLES}:glibc.malloc.arena_max=2`);
  assert.equal(workerEnv({ GLIBC_TUNABLES: '  ' }).GLIBC_TUNABLES, WORKER_MALLOC_TUNABLES);
  const base = { GLIBC_TUNABLES: 'x=1' };
  workerEnv(base);
  assert.deepEqual(base, { GLIBC_TUNABLES: 'x=1' }, 'the environment handed in is not modified');
});

test('the default launcher starts real workers with the malloc tunables in their environment', { skip: process.platform !== 'linux' ? 'reads /proc/<pid>/environ (Linux only)' : false, timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'a.txt'), 'tunable words');
  const env = { ...process.env };
  delete env.GLIBC_TUNABLES;
  const { launch, handles } = tracking(defaultWorkerLauncher(256, env));
  const pool = poolFor(t, { launch, workers: 1 });
  const out = await within(pool.extract({ path: path.join(dir, 'a.txt'), ext: 'txt', maxBytes: 1024 }), 45_000, 'txt');
  assert.ok(out.ok, JSON.stringify(out));
  // (glibc 2.36 rewrites this variable in place as it parses it: /proc shows only the first tunable
  // of a list, which is why the merge with the user's own is checked above, not here.)
  const seen = fs.readFileSync(`/proc/${handles[0]!.pid}/environ`, 'utf8').split('\0');
  assert.ok(seen.includes(`GLIBC_TUNABLES=${WORKER_MALLOC_TUNABLES.split(':')[0]}`), seen.filter((e) => e.startsWith('GLIBC')).join(' ') || 'no GLIBC_TUNABLES');
});

test('with heavyWorkers 1, PDFs go to one worker only (the heavy lane); other files flow to the others meanwhile; one worker takes everything', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  for (let i = 0; i < 4; i++) fs.writeFileSync(path.join(dir, `p${i}.pdf`), makePdf({ pages: [`LANEPDF${i}`] }));
  for (let i = 0; i < 6; i++) fs.writeFileSync(path.join(dir, `m${i}.md`), `# M${i}\nLANEMD${i}`);
  const sent: { pid: number | undefined; ext: string }[] = [];
  let ready = 0;
  const recording = (base: WorkerLauncher): WorkerLauncher => () => {
    const h = base();
    const onMessage: WorkerHandle['onMessage'] = (cb) => h.onMessage((m) => { if (isReady(m)) ready++; cb(m); });
    return { send: (m) => { if ((m as { ext?: string }).ext) sent.push({ pid: h.pid, ext: (m as { ext: string }).ext }); h.send(m); }, onMessage, onExit: (cb) => h.onExit(cb), kill: () => h.kill(), get pid() { return h.pid; } };
  };
  const pool = poolFor(t, { launch: recording(forkWorkerLauncher()), workers: 2, heavyWorkers: 1 });
  // Both workers ready first: otherwise, on a loaded machine, the first one may finish all ten
  // files before the second has started, and there would be no 'meanwhile' to observe.
  await waitFor(() => ready === 2, 30_000, 'both workers ready');
  const names = [...[0, 1, 2, 3].map((i) => `p${i}.pdf`), ...[0, 1, 2, 3, 4, 5].map((i) => `m${i}.md`)];
  const outs = await within(Promise.all(names.map((n) => pool.extract({ path: path.join(dir, n), ext: path.extname(n).slice(1), maxBytes: 1024 * 1024 }))), 45_000, 'lane');
  outs.forEach((o, i) => assert.ok(o.ok && o.text.includes(names[i]!.startsWith('p') ? `LANEPDF${names[i]![1]}` : `LANEMD${names[i]![1]}`), JSON.stringify(o)));
  const pdfPids = new Set(sent.filter((s) => s.ext === 'pdf').map((s) => s.pid));
  assert.equal(pdfPids.size, 1, `PDFs went to ${[...pdfPids].join(', ')}`);
  const mdPids = new Set(sent.filter((s) => s.ext === 'md').map((s) => s.pid));
  assert.ok([...mdPids].some((p) => !pdfPids.has(p)), 'the other worker took markdown files while the PDFs queued for their lane');

  const single = poolFor(t, { launch: forkWorkerLauncher(), workers: 1 });
  const both = await within(Promise.all(['p0.pdf', 'm0.md'].map((n) => single.extract({ path: path.join(dir, n), ext: path.extname(n).slice(1), maxBytes: 1024 * 1024 }))), 45_000, 'single');
  assert.ok(both.every((o) => o.ok), JSON.stringify(both));
});

test('real workers stem the body in the document language, so the writer does not have to', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'en.md'), 'The runners were running and configured everything they could configure today.');
  const pool = poolFor(t, { launch: forkWorkerLauncher(), languages: ['en', 'de'] });
  const o = await within(pool.extract({ path: path.join(dir, 'en.md'), ext: 'md', maxBytes: 1024 * 1024 }), 45_000, 'stems');
  assert.ok(o.ok, JSON.stringify(o));
  assert.equal(o.stems?.lang, 'en');
  assert.equal(o.stems?.text, stemsText(o.text, 'en'));
  assert.deepEqual(o.stems?.text.split(' ').filter((w) => w === 'run' || w === 'configur'), ['run', 'configur', 'configur']);
});
