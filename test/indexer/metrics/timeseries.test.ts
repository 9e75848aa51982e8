import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { closeDatabase } from '../../../src/indexer/store/db.js';
import { METRICS_FILE, openMetricsDb } from '../../../src/indexer/store/metrics-db.js';
import { defaultMonitoringSettings } from '../../../src/indexer/config/monitoring-settings.js';
import { SIGNAL_NAMES, type Signals } from '../../../src/shared/signals.js';
import { maxRows, TimeSeriesStore } from '../../../src/indexer/metrics/timeseries.js';
import { tmpDir } from '../../helpers/tmp.js';

const DAY = 86_400_000;

/** A sample with every signal set (the worst case for row size), varying over time. */
function sample(t: number): Signals {
  const s: Signals = {};
  SIGNAL_NAMES.forEach((n, i) => (s[n] = ((t / 1000) % 997) * (i + 1) + 0.123456789 * i));
  return s;
}

test('retention keeps metrics.db bounded: more than 90 simulated days stay within the stated rows and bytes', () => {
  const data = tmpDir('owlet-metrics-');
  const settings = defaultMonitoringSettings();
  const db = openMetricsDb(data, null);
  const store = new TimeSeriesStore(db, settings.retention, settings.sampleSeconds);
  const bound = maxRows(settings.retention, settings.sampleSeconds);
  assert.equal(bound, 17_292 + 10_081 + 2_161, 'the documented bound: 24 h of 5-s samples (+1 minute before expiry) + 7 d of minutes + 90 d of hours (+1 partial each)');
  const start = Date.UTC(2026, 0, 1);
  let t = start;
  const insertAll = (until: number, stepMs: number) => {
    // Batched in transactions only to keep the test fast; the service records one sample per tick.
    while (t < until) {
      db.transaction(() => {
        for (let i = 0; i < 500 && t < until; i++, t += stepMs) store.record(t, sample(t));
      })();
    }
  };
  // Phase 1: 92 days with a sample every minute fills the minute and hour tiers to their limits.
  insertAll(start + 92 * DAY, 60_000);
  const mid = store.rowCounts();
  // Phase 2: 25 hours at the real 5-second pace fills the raw tier to its limit.
  insertAll(t + 25 * 3_600_000, 5_000);
  const rows = store.rowCounts();
  const bytes = () => fs.statSync(path.join(data, METRICS_FILE)).size + (fs.existsSync(path.join(data, METRICS_FILE + '-wal')) ? fs.statSync(path.join(data, METRICS_FILE + '-wal')).size : 0);
  db.pragma('wal_checkpoint(TRUNCATE)');
  const size1 = bytes();
  console.log(`after 93 days: rows raw=${rows.raw} 1m=${rows['1m']} 1h=${rows['1h']} (bound ${bound}); file ${(size1 / 1048576).toFixed(2)} MiB; phase-1 rows ${JSON.stringify(mid)}`);
  assert.ok(rows.raw <= 17_292 && rows.raw >= 17_000, `raw rows ${rows.raw}`);
  assert.ok(rows['1m'] <= 10_081 && rows['1m'] >= 10_000, `minute rows ${rows['1m']}`);
  assert.ok(rows['1h'] <= 2_161 && rows['1h'] >= 2_150, `hour rows ${rows['1h']}`);
  assert.ok(rows.raw + rows['1m'] + rows['1h'] <= bound);
  // The stated byte bound (timeseries.ts): 12 MiB for the file with every signal set to a fractional value (the worst case).
  assert.ok(size1 < 12 * 1048576, `metrics.db is ${size1} bytes`);

  // Steady state: another 3 days at the real pace do not grow it (expired pages are reused or returned).
  insertAll(t + 3 * DAY, 5_000);
  db.pragma('wal_checkpoint(TRUNCATE)');
  const size2 = bytes();
  const rows2 = store.rowCounts();
  console.log(`after 96 days: rows ${JSON.stringify(rows2)}; file ${(size2 / 1048576).toFixed(2)} MiB`);
  assert.ok(rows2.raw + rows2['1m'] + rows2['1h'] <= bound);
  assert.ok(size2 <= size1 * 1.1, `no growth at steady state: ${size1} → ${size2}`);
  closeDatabase(db);
});

test('rollups keep the average and the maximum; queries pick the finest tier that covers the range', () => {
  const data = tmpDir('owlet-metrics-');
  const db = openMetricsDb(data, null);
  const store = new TimeSeriesStore(db, { rawHours: 24, minuteDays: 7, hourDays: 90 }, 5);
  const start = Date.UTC(2026, 0, 1);
  // Two hours of samples: queue_depth is 10 except one spike of 100 per minute; rss grows linearly.
  for (let t = start; t < start + 2 * 3_600_000 + 60_000; t += 5_000) {
    const inMinute = ((t - start) / 5_000) % 12;
    store.record(t, { queue_depth: inMinute === 3 ? 100 : 10, rss_bytes: (t - start) / 1000, search_p95_ms: undefined });
  }
  const row = db.prepare('SELECT queue_depth, queue_depth__max, search_p95_ms FROM ts_1m WHERE t = ?').get((start + 60_000) / 1000) as Record<string, number | null>;
  assert.equal(row.queue_depth, (11 * 10 + 100) / 12);
  assert.equal(row.queue_depth__max, 100);
  assert.equal(row.search_p95_ms, null, 'no value stays no value (never invented)');
  const hour = db.prepare('SELECT queue_depth, queue_depth__max FROM ts_1h WHERE t = ?').get(start / 1000) as { queue_depth: number; queue_depth__max: number };
  assert.equal(hour.queue_depth__max, 100);
  assert.ok(Math.abs(hour.queue_depth - (11 * 10 + 100) / 12) < 1e-9);

  const now = start + 2 * 3_600_000 + 60_000;
  const q15 = store.query({ names: ['queue_depth', 'rss_bytes'], from: (now - 15 * 60_000) / 1000, to: now / 1000, maxPoints: 1000 }, now);
  assert.equal(q15.tier, 'raw');
  assert.equal(q15.step, 5);
  assert.ok(q15.series.queue_depth!.length >= 179 && q15.series.queue_depth!.length <= 181);
  const q1h = store.query({ names: ['queue_depth'], from: (now - 3_600_000) / 1000, to: now / 1000, maxPoints: 60 }, now);
  assert.ok(q1h.series.queue_depth!.length <= 61, `bucketed to the point budget: ${q1h.series.queue_depth!.length}`);
  assert.equal(q1h.step % 5, 0);
  const q7d = store.query({ names: ['queue_depth'], from: (now - 7 * DAY) / 1000, to: now / 1000, maxPoints: 300 }, now);
  assert.equal(q7d.tier, '1m');
  const q90 = store.query({ names: ['queue_depth'], from: (now - 90 * DAY) / 1000, to: now / 1000, maxPoints: 300 }, now);
  assert.equal(q90.tier, '1h');
  assert.equal(store.rowCounts()['1h'], 2, 'two complete hours rolled up');
  // The right edge of a coarse chart comes from the finer tiers (the current hour is not rolled up yet).
  const q90edge = store.query({ names: ['rss_bytes'], from: (now - 30 * DAY) / 1000, to: now / 1000, maxPoints: 30 * 24 }, now);
  assert.equal(q90edge.step, 3600);
  assert.deepEqual(q90edge.series.rss_bytes!.map((p) => p[0]), [start / 1000, start / 1000 + 3600, start / 1000 + 7200], 'the partial third hour is there');
  const fresh = new TimeSeriesStore(openMetricsDb(tmpDir('owlet-metrics-'), null), { rawHours: 24, minuteDays: 7, hourDays: 90 }, 5);
  fresh.record(now - 10_000, { queue_depth: 3 });
  assert.deepEqual(fresh.query({ names: ['queue_depth'], from: (now - 90 * DAY) / 1000, to: now / 1000 }, now).series.queue_depth!.map((p) => p[1]), [3], 'a new install charts its first samples at any range');
  assert.equal(q90.series.queue_depth!.length, 1, 'both in one bucket of a 90-day chart');
  closeDatabase(db);
});

test('a signal added in a later version becomes a new column; older rows read it as empty', () => {
  const data = tmpDir('owlet-metrics-');
  const db = openMetricsDb(data, null);
  new TimeSeriesStore(db, { rawHours: 24, minuteDays: 7, hourDays: 90 }, 5);
  // As if written by a version that did not know queue_depth yet.
  db.exec('ALTER TABLE ts_raw DROP COLUMN queue_depth');
  db.prepare('INSERT INTO ts_raw (t, rss_bytes) VALUES (1, 42)').run();
  const store = new TimeSeriesStore(db, { rawHours: 24, minuteDays: 7, hourDays: 90 }, 5);
  store.record(2000, { queue_depth: 7 });
  const rows = db.prepare('SELECT t, queue_depth, rss_bytes FROM ts_raw ORDER BY t').all();
  assert.deepEqual(rows, [
    { t: 1, queue_depth: null, rss_bytes: 42 },
    { t: 2, queue_depth: 7, rss_bytes: null },
  ]);
  closeDatabase(db);
});
