import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExtractorBreakers, type GuardedOutcome } from '../../../src/indexer/resilience/breakers.js';
import { NOT_STARTED, type ExtractJob, type ExtractOutcome, type NotStarted } from '../../../src/indexer/extract/pool.js';

/**
 * The breakers against a stand-in pool that holds every file until the test settles it, the way
 * files wait in the real pool's queue. Settling asks `mayStart` first, as the pool does when a
 * worker is about to take a file.
 */
function fakePool() {
  const queued: { job: ExtractJob; mayStart: () => boolean; resolve: (o: ExtractOutcome | NotStarted) => void }[] = [];
  const ran: string[] = [];
  const extract = (job: ExtractJob, mayStart: () => boolean) => new Promise<ExtractOutcome | NotStarted>((resolve) => queued.push({ job, mayStart, resolve }));
  /** A worker takes the file: it runs and ends with `outcome`, or is not started. */
  const take = (name: string, outcome: ExtractOutcome) => {
    const i = queued.findIndex((q) => q.job.path.endsWith(`/${name}`));
    assert.ok(i >= 0, `${name} is queued`);
    const [q] = queued.splice(i, 1);
    if (!q!.mayStart()) return q!.resolve(NOT_STARTED);
    ran.push(name);
    q!.resolve(outcome);
  };
  return { queued, ran, extract, take };
}

const settings = { errorThresholdPercentage: 50, volumeThreshold: 3, resetTimeoutMs: 200, rollingWindowMs: 60_000 };
const job = (name: string): ExtractJob => ({ path: `/docs/${name}`, ext: name.split('.').pop()!, maxBytes: 1 << 20 });
const ok = (name: string): ExtractOutcome => ({ ok: true, title: null, text: name, extractor: 'text', sha256: '0', size: 1, lang: null });
const timeout: ExtractOutcome = { ok: false, reason: 'timeout', message: 'extraction took longer than 30 s', workerLost: true };
const tick = () => new Promise((r) => setImmediate(r));

/** Breakers over a fresh stand-in pool, shut down after the test. */
function breakersOn(t: { after(fn: () => void): void }) {
  const pool = fakePool();
  const breakers = new ExtractorBreakers(pool.extract, settings);
  t.after(() => breakers.shutdown());
  return { pool, breakers };
}

test('every file of a kind is handed to the pool at once: no per-kind limit leaves the workers waiting', async (t) => {
  const { pool, breakers } = breakersOn(t);
  const all = Array.from({ length: 50 }, (_, i) => breakers.guard(job(`f${i}.txt`)));
  await tick();
  assert.equal(pool.queued.length, 50);
  for (let i = 0; i < 50; i++) pool.take(`f${i}.txt`, ok(`f${i}`));
  assert.ok((await Promise.all(all)).every((o) => o.ok));
  assert.equal(breakers.state('text'), 'closed');
});

test('the breaker rates the files that ran, not those still queued: three hangs among twenty queued open it, and the queued rest are deferred, not run', async (t) => {
  const { pool, breakers } = breakersOn(t);
  const changes: string[] = [];
  breakers.onDidChange((c) => changes.push(`${c.kind}:${c.state}`));
  const outs = new Map<string, Promise<GuardedOutcome>>();
  for (let i = 0; i < 20; i++) outs.set(`h${i}.txt`, breakers.guard(job(`h${i}.txt`)));
  // Another kind, queued alongside: it keeps flowing.
  const page = breakers.guard(job('page.html'));
  await tick();
  for (let i = 0; i < 3; i++) {
    pool.take(`h${i}.txt`, timeout);
    assert.equal((await outs.get(`h${i}.txt`))!.ok, false);
  }
  // Counted when queued (as opossum counts calls fired), 3 failures of 20 calls would be 15%.
  assert.equal(breakers.state('text'), 'open', `opened after three costly failures of three that ran: ${changes}`);
  for (let i = 3; i < 20; i++) pool.take(`h${i}.txt`, ok(`h${i}`));
  for (let i = 3; i < 20; i++) {
    const o = await outs.get(`h${i}.txt`)!;
    assert.ok(!o.ok && o.reason === 'deferred', `h${i}: ${JSON.stringify(o)}`);
  }
  assert.deepEqual(pool.ran, ['h0.txt', 'h1.txt', 'h2.txt'], 'nothing queued behind the failures ran once the breaker was open');
  pool.take('page.html', ok('page'));
  assert.ok((await page).ok, 'html is another kind: not deferred');
  const snap = breakers.snapshot().find((s) => s.name === 'text')!;
  assert.equal(snap.failures, 3);
  assert.equal(snap.rejects, 17);
  // A new file of the kind is deferred at once, without waiting in the pool.
  const late = await breakers.guard(job('late.txt'));
  assert.ok(!late.ok && late.reason === 'deferred');
  assert.equal(pool.queued.length, 0);
});

test('half-open, one file tries the kind again while the others are deferred; its success closes the breaker', async (t) => {
  const { pool, breakers } = breakersOn(t);
  const failing = Array.from({ length: 3 }, (_, i) => breakers.guard(job(`x${i}.txt`)));
  await tick();
  for (let i = 0; i < 3; i++) pool.take(`x${i}.txt`, timeout);
  await Promise.all(failing);
  assert.equal(breakers.state('text'), 'open');
  const deadline = Date.now() + 5_000;
  while (breakers.state('text') !== 'half-open') {
    assert.ok(Date.now() < deadline, 'half-open after the reset timeout');
    await new Promise((r) => setTimeout(r, 20));
  }
  const probe = breakers.guard(job('probe.txt'));
  const other = await breakers.guard(job('other.txt'));
  assert.ok(!other.ok && other.reason === 'deferred', 'one probe at a time');
  await tick();
  assert.deepEqual(pool.queued.map((q) => q.job.path), ['/docs/probe.txt']);
  pool.take('probe.txt', ok('probe'));
  assert.ok((await probe).ok);
  assert.equal(breakers.state('text'), 'closed');
  const after = breakers.guard(job('after.txt'));
  await tick();
  pool.take('after.txt', ok('after'));
  assert.ok((await after).ok, 'closed again: files run');
});

test('a file that was already running when its breaker opened keeps its own outcome', async (t) => {
  const { pool, breakers } = breakersOn(t);
  const outs = Array.from({ length: 4 }, (_, i) => breakers.guard(job(`y${i}.txt`)));
  await tick();
  // y3 is taken by a worker (mayStart asked, true) before the breaker opens, and settles after.
  const i3 = pool.queued.findIndex((q) => q.job.path.endsWith('/y3.txt'));
  const [running] = pool.queued.splice(i3, 1);
  assert.equal(running!.mayStart(), true);
  for (let i = 0; i < 3; i++) pool.take(`y${i}.txt`, timeout);
  await Promise.all(outs.slice(0, 3));
  assert.equal(breakers.state('text'), 'open');
  running!.resolve(ok('y3'));
  const o = await outs[3]!;
  assert.ok(o.ok, 'the file ran: its text is kept, not deferred');
});

test('after shutdown a kind reads as open, never closed: its breaker refuses every file', async (t) => {
  const { pool, breakers } = breakersOn(t);
  const first = breakers.guard(job('a.txt'));
  await tick();
  pool.take('a.txt', ok('a'));
  assert.ok((await first).ok);
  assert.equal(breakers.state('text'), 'closed');
  breakers.shutdown();
  assert.equal(breakers.state('text'), 'open');
  assert.equal((await breakers.guard(job('b.txt'))).ok, false);
});
