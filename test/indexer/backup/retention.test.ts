import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { budgetBytes, chooseParent, createBackup, prune, type BackupAlert } from '../../../src/indexer/backup/create.js';
import { listBackups, writeManifest, type Manifest } from '../../../src/indexer/backup/manifest.js';
import { dayKey, describePlan, planRetention, weekKey } from '../../../src/indexer/backup/retention.js';
import { BackupScheduler, nextDailyAt, type Timers } from '../../../src/indexer/backup/scheduler.js';
import { DEFAULT_BACKUP_CONFIG } from '../../../src/indexer/config/backup-settings.js';
import { SCHEMA_VERSION } from '../../../src/indexer/store/schema-version.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';
import { tmpDir } from '../../helpers/tmp.js';
import { deps, indexedEncrypted, made } from './fixtures.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1, 3, 0, 0); // Thursday 2026-01-01 03:00 UTC

function manifest(id: string, at: number, ok: boolean | null = true, extra: Partial<Manifest> = {}): Manifest {
  return {
    format: 1,
    id,
    createdAt: new Date(at).toISOString(),
    reason: 'scheduled',
    owletVersion: '0.0.0',
    schemaVersion: 3,
    documentCount: 1,
    size: 4,
    sha256: '0'.repeat(64),
    dbBytes: 4,
    dbSha256: '0'.repeat(64),
    compression: 'gzip',
    encrypted: false,
    keyId: null,
    config: null,
    verification: ok === null ? null : { at: new Date(at).toISOString(), ok, message: ok ? null : 'bad', checksum: ok, integrity: ok, documents: ok },
    kind: 'full',
    parentId: null,
    baseId: null,
    changeSeq: null,
    indexUuid: null,
    rawBytes: 0,
    mac: null,
    ...extra,
  };
}

const idOf = (day: number, n = 0) => `2026${String(day).padStart(4, '0')}T03000${n}Z-${(day * 16 + n).toString(16).padStart(4, '0')}`;

test('ISO weeks and UTC days bucket backups', () => {
  assert.equal(weekKey(Date.UTC(2026, 0, 1)), '2026-W01');
  assert.equal(weekKey(Date.UTC(2025, 11, 29)), '2026-W01', 'Monday 29 December 2025 is in the first week of 2026');
  assert.equal(weekKey(Date.UTC(2027, 0, 3)), '2026-W53');
  assert.equal(dayKey(Date.UTC(2026, 4, 5, 23, 59)), '2026-05-05');
});

test('retention keeps exactly the newest backup of each of the last 7 days and of each of the last 4 weeks', () => {
  // One backup a day for 40 days, a second (later) one on some days, an unverified and a failed one.
  const ms: Manifest[] = [];
  for (let d = 0; d < 40; d++) {
    ms.push(manifest(idOf(d), T0 + d * DAY));
    if (d % 5 === 0) ms.push(manifest(idOf(d, 1), T0 + d * DAY + 3_600_000));
  }
  ms.push(manifest(idOf(38, 2), T0 + 38 * DAY + 7_200_000, false));
  const plan = planRetention(ms, { daily: 7, weekly: 4 });
  // Days 33-39: the newest of each day (day 35 has a second, later one).
  const daily = [39, 38, 37, 36, 35, 34, 33].map((d) => (d === 35 ? idOf(35, 1) : idOf(d)));
  // Weeks (Monday-Sunday): day 39 = Feb 9 (week 7, Monday), 38 = Feb 8 (week 6, Sunday), Feb 1 = day 31 (week 5), Jan 25 = day 24 (week 4).
  const weekly = [idOf(39), idOf(38), idOf(31), idOf(24)];
  assert.deepEqual(new Set(plan.keep), new Set([...daily, ...weekly]));
  assert.equal(plan.keep.length, 9);
  assert.ok(plan.remove.includes(idOf(38, 2)), 'a failed backup is removed');
  assert.equal(plan.keep.length + plan.remove.length, ms.length);
  // Other settings.
  assert.deepEqual(planRetention(ms, { daily: 1, weekly: 0 }).keep, [idOf(39)]);
  assert.deepEqual(planRetention(ms, { daily: 2, weekly: 1 }).keep, [idOf(39), idOf(38)]);
  // An unverified backup that is the newest (verification running) is kept.
  const running = manifest('20260301T030000Z-ffff', T0 + 60 * DAY, null);
  assert.ok(planRetention([...ms, running], { daily: 1, weekly: 0 }).keep.includes(running.id));
});

test('pruning on disk removes exactly the backups outside the retention set (injected clock)', () => {
  const dir = tmpDir('owlet-retention-');
  for (let d = 0; d < 20; d++) {
    const m = manifest(idOf(d), T0 + d * DAY);
    fs.writeFileSync(path.join(dir, `${m.id}.db.gz`), 'data');
    writeManifest(dir, m, null);
  }
  const removed = prune(dir, { ...DEFAULT_BACKUP_CONFIG, retention: { daily: 3, weekly: 2 } }, nullLogger).removed;
  const left = listBackups(dir).map((b) => b.manifest.id);
  // Days 17-19 (Jan 18-20), and the newest of the two newest weeks: Jan 20 (W04) and Jan 18 (W03).
  assert.deepEqual(left, [idOf(19), idOf(18), idOf(17)]);
  assert.equal(removed.length, 17);
  assert.deepEqual(fs.readdirSync(dir).sort(), left.flatMap((id) => [`${id}.db.gz`, `${id}.json`]).sort());
});

test('retention never breaks a chain: the increments a kept point needs, and their full backup, stay', () => {
  // Day 0 full, days 1-9 increments on each other, day 10 a new full, days 11-12 increments.
  const ms: Manifest[] = [];
  for (let d = 0; d <= 12; d++) {
    const full = d === 0 || d === 10;
    ms.push(manifest(idOf(d), T0 + d * DAY, true, { format: 2, kind: full ? 'full' : 'incremental', parentId: full ? null : idOf(d - 1), size: full ? 1000 : 10 }));
  }
  const plan = planRetention(ms, { daily: 3, weekly: 2 });
  // Daily: 12, 11, 10. Weekly: day 12 (W03: Jan 12-18) and the newest of W02 (Jan 5-11): day 10.
  // The chain of 12 is 10, 11, 12: nothing older is needed.
  assert.deepEqual(plan.keep, [idOf(12), idOf(11), idOf(10)]);
  // With weekly 3, day 3 (W01's newest, Jan 4) is kept, and with it days 0-2 (its chain).
  const wider = planRetention(ms, { daily: 3, weekly: 3 });
  assert.deepEqual(new Set(wider.keep), new Set([idOf(12), idOf(11), idOf(10), idOf(3), idOf(2), idOf(1), idOf(0)]));
  // A point whose chain lost a member is no point: with day 1 gone, days 2-9 cannot be restored.
  const broken = planRetention(ms.filter((m) => m.id !== idOf(1)), { daily: 3, weekly: 3 });
  assert.ok(!broken.keep.includes(idOf(3)));
  assert.equal(describePlan(plan), `kept 3 daily, 2 weekly, removed ${ms.length - 3}`);
});

test('manual and pre-update backups stay until a newer verified backup exists AND their removal was announced', () => {
  const scheduled = manifest(idOf(5), T0 + 5 * DAY);
  const manual = manifest(idOf(5, 1), T0 + 5 * DAY + 3_600_000, true, { reason: 'manual' });
  // Only one daily slot: the manual backup is the newest, so it is the point; the scheduled one is announced? No: it is not protected.
  let plan = planRetention([scheduled, manual], { daily: 1, weekly: 0 });
  assert.deepEqual(plan.keep, [manual.id]);
  // A newer scheduled backup arrives: the manual one is announced, not removed.
  const later = manifest(idOf(6), T0 + 6 * DAY);
  plan = planRetention([scheduled, manual, later], { daily: 1, weekly: 0 });
  assert.deepEqual(plan.announce, [manual.id]);
  assert.ok(plan.keep.includes(manual.id));
  // At the next pruning, announced, it goes.
  plan = planRetention([scheduled, manual, later], { daily: 1, weekly: 0 }, { announced: new Set([manual.id]) });
  assert.ok(plan.remove.includes(manual.id));
  // A newer backup that is not verified does not count.
  const failed = manifest(idOf(7), T0 + 7 * DAY, false);
  plan = planRetention([manual, failed], { daily: 1, weekly: 0 }, { announced: new Set([manual.id]) });
  assert.ok(plan.keep.includes(manual.id));
});

test('the storage budget removes the oldest restore points first, never the newest, and says when it limits them', () => {
  const dir = tmpDir('owlet-retention-budget-');
  for (let d = 0; d < 10; d++) {
    const m = manifest(idOf(d), T0 + d * DAY, true, { size: 100 });
    fs.writeFileSync(path.join(dir, `${m.id}.db.gz`), 'x'.repeat(100));
    writeManifest(dir, m, null);
  }
  const settings = { ...DEFAULT_BACKUP_CONFIG, retention: { daily: 7, weekly: 4 }, maxBytes: 450 };
  const out = prune(dir, settings, nullLogger);
  assert.deepEqual(listBackups(dir).map((b) => b.manifest.id), [idOf(9), idOf(8), idOf(7), idOf(6)]);
  assert.equal(out.usedBytes, 400);
  assert.equal(out.budgetBytes, 450);
  assert.match(out.budgetWarning ?? '', /holds only 4 restore points, fewer than the 7 configured/);
  // Room for what is kept but not for the next full backup: the warning comes before the loss.
  const ahead = prune(dir, { ...settings, maxBytes: 450 }, nullLogger);
  assert.equal(ahead.removed.length, 0);
  assert.match(ahead.budgetWarning ?? '', /next full backup will force fewer restore points/);
  // Even a budget below one backup keeps the newest.
  const tight = prune(dir, { ...settings, maxBytes: 1 }, nullLogger);
  assert.deepEqual(listBackups(dir).map((b) => b.manifest.id), [idOf(9)]);
  assert.ok(tight.budgetWarning);
});

class FakeTimers implements Timers {
  now = 0;
  private seq = 0;
  readonly pending = new Map<number, { at: number; fn: () => void }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: this.now + ms, fn });
    return id;
  }
  clearTimeout(t: unknown): void {
    this.pending.delete(t as number);
  }
  /** Moves the clock to `to`, firing due timers in order. */
  async advance(to: number): Promise<void> {
    for (;;) {
      const due = [...this.pending.entries()].filter(([, v]) => v.at <= to).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.pending.delete(due[0]);
      this.now = due[1].at;
      due[1].fn();
      for (let i = 0; i < 5; i++) await Promise.resolve();
    }
    this.now = to;
  }
}

test('the scheduler backs up daily at the configured local hour and catches up a missed day', async () => {
  const start = new Date(2026, 2, 10, 14, 30).getTime(); // local time
  assert.equal(nextDailyAt(start, 3), new Date(2026, 2, 11, 3, 0).getTime());
  assert.equal(nextDailyAt(new Date(2026, 2, 10, 2, 59).getTime(), 3), new Date(2026, 2, 10, 3, 0).getTime());
  const timers = new FakeTimers();
  timers.now = start;
  const runs: { reason: string; at: number }[] = [];
  let last: number | null = start - 3 * DAY;
  const s = new BackupScheduler({
    enabled: true,
    hour: 3,
    now: () => timers.now,
    timers,
    run: async (reason) => {
      runs.push({ reason, at: timers.now });
      last = timers.now;
    },
    lastBackupAt: () => last,
    log: nullLogger,
    catchUpDelayMs: 60_000,
  });
  s.start();
  assert.equal(s.nextAt, new Date(2026, 2, 11, 3, 0).getTime());
  await timers.advance(start + 2 * DAY + 3_600_000);
  assert.deepEqual(
    runs.map((r) => [r.reason, new Date(r.at).toString()]),
    [
      ['catch-up', new Date(start + 60_000).toString()],
      ['scheduled', new Date(2026, 2, 11, 3, 0).toString()],
      ['scheduled', new Date(2026, 2, 12, 3, 0).toString()],
    ],
  );
  await s.stop();
  assert.equal(timers.pending.size, 0, 'stop leaves no timer');
  // Disabled: nothing is scheduled.
  const off = new BackupScheduler({ enabled: false, hour: 3, now: () => timers.now, timers, run: async () => {}, lastBackupAt: () => null, log: nullLogger });
  off.start();
  assert.equal(timers.pending.size, 0);
});

test('a backup that falls due while indexing runs waits for indexing to end, but not longer than maxDeferMs', async () => {
  const start = new Date(2026, 2, 10, 14, 30).getTime();
  const timers = new FakeTimers();
  timers.now = start;
  const runs: { reason: string; at: number }[] = [];
  let busyUntil = start + 60_000 + 150_000; // the first pass ends 2.5 min after the catch-up was due
  const s = new BackupScheduler({
    enabled: true,
    hour: 3,
    now: () => timers.now,
    timers,
    run: async (reason) => void runs.push({ reason, at: timers.now }),
    lastBackupAt: () => null,
    log: nullLogger,
    catchUpDelayMs: 60_000,
    busy: () => timers.now < busyUntil,
    deferStepMs: 60_000,
    maxDeferMs: 3_600_000,
  });
  s.start();
  await timers.advance(start + 60 * 60_000);
  assert.deepEqual(runs.map((r) => [r.reason, (r.at - start) / 60_000]), [['catch-up', 4]], 'first recheck after the pass ended');
  // Indexing that never ends: the daily backup runs anyway, an hour late.
  busyUntil = Infinity;
  await timers.advance(new Date(2026, 2, 11, 4, 0).getTime());
  assert.deepEqual(runs.map((r) => [r.reason, new Date(r.at).toString()]).slice(1), [['scheduled', new Date(2026, 2, 11, 4, 0).toString()]]);
  await new Promise((r) => setImmediate(r)); // the finished backup re-arms through a few promise turns
  assert.equal(timers.pending.size, 1, 'nothing left deferred: only the next daily timer');
  await s.stop();
  assert.equal(timers.pending.size, 0, 'stop leaves no timer');
});

test('a real backup raises the budget alert before the budget costs a restore point, and again when it does', async () => {
  const { data, svc, dir, key } = await indexedEncrypted('owlet-retention-alert-', 12);
  try {
    const alerts: BackupAlert[] = [];
    const at = (ms: number) => () => ms;
    const first = await made(createBackup(deps(data, key, { full: true, now: at(T0) }), 'scheduled'));
    // Room for two and a half full backups: two fit, the third would not.
    const settings = { ...DEFAULT_BACKUP_CONFIG, maxBytes: Math.floor(first.size * 2.5) };
    const withBudget = (now: number) => deps(data, key, { full: true, settings, now: at(now), onAlert: (a) => alerts.push(a) });
    const second = await made(createBackup(withBudget(T0 + DAY), 'scheduled'));
    assert.deepEqual(listBackups(dir).map((b) => b.manifest.id), [second.id, first.id], 'nothing removed yet');
    assert.deepEqual(alerts.map((a) => a.id), ['backup-budget'], 'warned while every restore point is still there');
    assert.match(alerts[0]!.message, /next full backup will force fewer restore points/);
    const third = await made(createBackup(withBudget(T0 + 2 * DAY), 'scheduled'));
    assert.deepEqual(listBackups(dir).map((b) => b.manifest.id), [third.id, second.id], 'the budget removed the oldest point');
    assert.equal(alerts.length, 2);
    assert.match(alerts[1]!.message, /holds only 2 restore points, fewer than the 3 configured/);
  } finally {
    await svc.stop();
  }
});

test('a new full backup starts a chain when the increments pass their share of the full backup, when the full one is fullEveryDays old, and before an update', async () => {
  const { root, data, svc, dir, key } = await indexedEncrypted('owlet-retention-chain-', 20);
  try {
    const full = await made(createBackup(deps(data, key), 'scheduled'));
    const created = Date.parse(full.createdAt);
    const base = DEFAULT_BACKUP_CONFIG;
    assert.equal(chooseParent(dir, base, key, [key], 'scheduled', created + DAY)?.id, full.id, 'the next daily backup builds on it');
    assert.equal(chooseParent(dir, base, key, [key], 'scheduled', created + (base.incremental.fullEveryDays + 1) * DAY), null, 'a full backup older than fullEveryDays starts a new chain');
    assert.equal(chooseParent(dir, base, key, [key], 'pre-update', created + DAY), null, 'a backup before an update is full');
    assert.equal(chooseParent(dir, base, key, [key], 'scheduled', created + DAY, SCHEMA_VERSION + 1), null, 'an index migrated since its full backup starts a new chain (a restore refuses mixed schemas)');
    fs.writeFileSync(path.join(root, 'doc1.txt'), 'changed: sorbword');
    await svc.indexOnce();
    svc.writer.flush();
    const inc = await made(createBackup(deps(data, key), 'scheduled'));
    assert.equal(inc.kind, 'incremental');
    assert.equal(chooseParent(dir, base, key, [key], 'scheduled', created + DAY)?.id, inc.id, 'the chain goes on from its newest point');
    // Increments past the share: the next backup is full, end to end.
    const tight = { ...base, incremental: { ...base.incremental, fullShare: inc.size / full.size / 2 } };
    assert.equal(chooseParent(dir, tight, key, [key], 'scheduled', created + DAY), null);
    fs.writeFileSync(path.join(root, 'doc2.txt'), 'changed again: medlarword');
    await svc.indexOnce();
    svc.writer.flush();
    const next = await made(createBackup(deps(data, key, { settings: tight }), 'scheduled'));
    assert.equal(next.kind, 'full', 'a new chain');
    assert.equal(next.parentId, null);
  } finally {
    await svc.stop();
  }
});

test('the default budget is the smaller of twice the index and 2% of the volume; backup.maxBytes overrides it', () => {
  const GB = 1024 ** 3;
  assert.equal(budgetBytes(DEFAULT_BACKUP_CONFIG, 235 * 1024 ** 2, 256 * GB), 470 * 1024 ** 2, 'a 235 MB index on a 256 GB disk: twice the index');
  assert.equal(budgetBytes(DEFAULT_BACKUP_CONFIG, 10 * GB, 256 * GB), Math.floor(256 * GB * 0.02), 'a 10 GB index on the same disk: 2% of it');
  assert.equal(budgetBytes(DEFAULT_BACKUP_CONFIG, 235 * 1024 ** 2, null), 470 * 1024 ** 2, 'volume unknown: twice the index');
  assert.equal(budgetBytes({ ...DEFAULT_BACKUP_CONFIG, maxBytes: 12345 }, 235 * 1024 ** 2, 256 * GB), 12345);
});
