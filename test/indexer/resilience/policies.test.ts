import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { backoffDelay, isTransientFsError } from '../../../src/indexer/resilience/retry-policy.js';
import { RetryQueue } from '../../../src/indexer/resilience/retry-queue.js';
import { Quarantine } from '../../../src/indexer/resilience/quarantine.js';
import { withTimeout } from '../../../src/indexer/resilience/timeout.js';
import { linuxPowerProbe } from '../../../src/indexer/resilience/power.js';
import { openDatabase } from '../../../src/indexer/store/db.js';
import { migrate } from '../../../src/indexer/store/migrations.js';
import { OwletError } from '../../../src/shared/errors.js';
import { tmpDir, writeTree } from '../../helpers/tmp.js';

function db(dir = tmpDir()) {
  const d = openDatabase(path.join(dir, 'index.db'));
  migrate(d);
  return d;
}

test('transient errors are retried, permanent ones are not', () => {
  for (const e of ['EBUSY', 'EAGAIN', 'EMFILE', 'ENFILE', 'ETIMEDOUT']) assert.ok(isTransientFsError(e), e);
  for (const e of ['ENOENT', 'EACCES', 'EISDIR', undefined]) assert.ok(!isTransientFsError(e), String(e));
});

test('backoff is exponential with full jitter, capped', () => {
  const p = { baseMs: 1000, maxMs: 30_000 };
  assert.equal(backoffDelay(1, p, () => 0.999999), 999);
  assert.equal(backoffDelay(3, p, () => 0.5), 2000, 'attempt 3: uniform in [0, 4000)');
  assert.equal(backoffDelay(20, p, () => 0.999999), 29_999, 'capped at maxMs');
  assert.equal(backoffDelay(5, p, () => 0), 0, 'full jitter reaches zero');
});

test('the retry queue schedules with backoff on an injected clock, gives up after maxAttempts, and survives a restart', () => {
  const dir = tmpDir();
  let now = 1_000_000;
  const policy = { maxAttempts: 3, baseMs: 1000, maxMs: 60_000 };
  let q = new RetryQueue(db(dir), policy, () => now, () => 0.5);
  assert.deepEqual(q.schedule('/r/a.txt', 'EBUSY'), { scheduled: true, attempts: 1, nextAt: now + 500 });
  assert.deepEqual(q.due(), []);
  now += 499;
  assert.deepEqual(q.due(), []);
  now += 1;
  assert.deepEqual(q.due().map((e) => e.path), ['/r/a.txt']);
  assert.deepEqual(q.schedule('/r/a.txt', 'EBUSY'), { scheduled: true, attempts: 2, nextAt: now + 1000 });
  // A restart: a new queue over the same file sees the same entry.
  q = new RetryQueue(db(dir), policy, () => now, () => 0.5);
  assert.equal(q.attemptsOf('/r/a.txt'), 2);
  assert.equal(q.nextDueAt(), now + 1000);
  assert.deepEqual(q.schedule('/r/a.txt', 'EBUSY'), { scheduled: true, attempts: 3, nextAt: now + 2000 });
  assert.deepEqual(q.schedule('/r/a.txt', 'EBUSY'), { scheduled: false, attempts: 3 });
  assert.equal(q.size(), 0, 'given up: forgotten');
});

test('quarantine: only recorded worker deaths count; looking is free; a changed file starts afresh; an outcome clears it', () => {
  const d = db();
  const q = new Quarantine(d, 2, () => 5);
  const f = { path: '/r/bad.pdf', size: 10, mtimeMs: 1 };
  // Checking before extraction records nothing: a service that stops or dies meanwhile costs the file nothing.
  for (let i = 0; i < 5; i++) assert.deepEqual(q.begin(f), { verdict: 'go', attempts: 0 });
  assert.deepEqual(q.recordDeath(f), { attempts: 1, quarantined: false });
  assert.deepEqual(q.begin(f), { verdict: 'go', attempts: 1 });
  assert.deepEqual(q.recordDeath(f), { attempts: 2, quarantined: true });
  assert.deepEqual(q.begin(f), { verdict: 'quarantined', attempts: 2 });
  assert.equal(q.quarantinedCount(), 1);
  assert.deepEqual(q.begin({ ...f, mtimeMs: 2 }), { verdict: 'go', attempts: 0 }, 'changed on disk');
  assert.deepEqual(q.recordDeath({ ...f, mtimeMs: 2 }), { attempts: 1, quarantined: false }, 'the count starts afresh');
  q.end(f.path);
  assert.equal(q.attemptsOf({ ...f, mtimeMs: 2 }), 0);
  assert.equal(q.quarantinedCount(), 0);
});

test('withTimeout stops waiting on an operation that hangs', async () => {
  // The deadline timer is unref'd (it must not keep a service alive); hold the loop open here.
  const keepAlive = setInterval(() => {}, 1000);
  after(() => clearInterval(keepAlive));
  await assert.rejects(withTimeout(new Promise(() => {}), 50, 'listing /mnt/share'), (e: unknown) => e instanceof OwletError && /did not answer within 50 ms/.test(e.message));
  assert.equal(await withTimeout(Promise.resolve(7), 50, 'x'), 7);
});

test('battery detection reads the Linux power_supply class', async () => {
  const sys = tmpDir();
  writeTree(sys, { 'AC/type': 'Mains\n', 'AC/online': '0\n', 'BAT0/type': 'Battery\n' });
  assert.equal(await linuxPowerProbe(sys).onBattery(), true);
  fs.writeFileSync(path.join(sys, 'AC/online'), '1\n');
  assert.equal(await linuxPowerProbe(sys).onBattery(), false);
  assert.equal(await linuxPowerProbe(path.join(sys, 'missing')).onBattery(), false, 'no information: never pause on a guess');
});
