import type { Db } from '../store/db.js';
import { SIGNAL_NAMES, type SignalName, type Signals } from '../../shared/signals.js';

/**
 * Time series in metrics.db, in three tiers:
 *
 *   ts_raw  one row per sample (every `sampleSeconds`, default 5 s), kept `rawHours` (24 h)
 *   ts_1m   one row per minute: average and maximum of the raw samples, kept `minuteDays` (7 d)
 *   ts_1h   one row per hour: average of the minute averages and maximum of the maxima, kept `hourDays` (90 d)
 *
 * A row is one instant with one REAL column per signal (NULL when a signal has no value), keyed
 * by time in seconds as the INTEGER PRIMARY KEY (the rowid: no separate index). Complete minutes
 * and hours are rolled up and expired rows deleted once per minute of sample time.
 *
 * Storage bound, with the defaults and the 27 signals of signals.ts:
 *   rows  ≤ 17,292 raw (24 h × 720/h, +12 because expiry runs once a minute) + 10,081 minutes
 *           (7 d × 1,440/d +1 partial) + 2,161 hours (90 d × 24/d +1 partial) = 29,534 rows
 *   bytes ≤ 12 MiB for the file in the worst case, every signal a fractional value (measured
 *           10.3 MiB by test/indexer/metrics/timeseries.test.ts, which simulates 96 days with
 *           an injected clock, asserts both bounds and no growth at steady state; integral
 *           values such as byte counts take less; freed pages go back by incremental vacuum).
 * In general: rows ≤ rawHours·3600/sampleSeconds + 60/sampleSeconds + minuteDays·1440 + 1 +
 * hourDays·24 + 1, and bytes ≈ 240 B per raw row + 470 B per rollup row at worst.
 */

export interface RetentionSettings {
  rawHours: number;
  minuteDays: number;
  hourDays: number;
}

export type Tier = 'raw' | '1m' | '1h';
const TABLE: Record<Tier, string> = { raw: 'ts_raw', '1m': 'ts_1m', '1h': 'ts_1h' };
const STEP: Record<Tier, number> = { raw: 0, '1m': 60, '1h': 3600 };

export interface SeriesQuery {
  names: readonly SignalName[];
  /** Seconds since the epoch, inclusive. */
  from: number;
  to: number;
  /** Upper bound on points per series; samples are averaged into buckets to meet it. */
  maxPoints?: number;
}

export interface SeriesResult {
  tier: Tier;
  /** Seconds per point. */
  step: number;
  from: number;
  to: number;
  /** [time in seconds, value or null] per point, oldest first. */
  series: Record<string, [number, number | null][]>;
}

export function maxRows(r: RetentionSettings, sampleSeconds: number): number {
  // Expiry runs once a minute, so up to a minute of raw samples more than the retention.
  return Math.ceil((r.rawHours * 3600) / sampleSeconds) + Math.ceil(60 / sampleSeconds) + Math.ceil(r.minuteDays * 1440) + 1 + Math.ceil(r.hourDays * 24) + 1;
}

function columnsOf(db: Db, table: string): Set<string> {
  return new Set((db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[]).map((c) => c.name));
}

export class TimeSeriesStore {
  private readonly insert;
  private readonly q;
  private lastMaintenanceMinute = -1;
  private lastVacuumHour = -1;

  constructor(
    private readonly db: Db,
    private readonly retention: RetentionSettings,
    readonly sampleSeconds: number,
  ) {
    this.ensureColumns();
    const cols = SIGNAL_NAMES.join(', ');
    this.insert = db.prepare(`INSERT OR REPLACE INTO ts_raw (t, ${cols}) VALUES (?, ${SIGNAL_NAMES.map(() => '?').join(', ')})`);
    const avgMax = SIGNAL_NAMES.map((n) => `avg(${n}), max(${n})`).join(', ');
    const avgOfMax = SIGNAL_NAMES.map((n) => `avg(${n}), max(${n}__max)`).join(', ');
    const both = SIGNAL_NAMES.map((n) => `${n}, ${n}__max`).join(', ');
    this.q = {
      rollMinutes: db.prepare(`INSERT OR REPLACE INTO ts_1m (t, ${both}) SELECT (t / 60) * 60 AS b, ${avgMax} FROM ts_raw WHERE t >= ? AND t < ? GROUP BY b`),
      rollHours: db.prepare(`INSERT OR REPLACE INTO ts_1h (t, ${both}) SELECT (t / 3600) * 3600 AS b, ${avgOfMax} FROM ts_1m WHERE t >= ? AND t < ? GROUP BY b`),
      expireRaw: db.prepare('DELETE FROM ts_raw WHERE t < ?'),
      expire1m: db.prepare('DELETE FROM ts_1m WHERE t < ?'),
      expire1h: db.prepare('DELETE FROM ts_1h WHERE t < ?'),
      getMark: db.prepare('SELECT value FROM kv WHERE key = ?'),
      setMark: db.prepare('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      firstRaw: db.prepare('SELECT min(t) AS t FROM ts_raw'),
      first1m: db.prepare('SELECT min(t) AS t FROM ts_1m'),
    };
  }

  /** New signals become new columns: old rows read NULL for them. Names come from our own catalogue. */
  private ensureColumns(): void {
    for (const [tier, table] of Object.entries(TABLE) as [Tier, string][]) {
      const have = columnsOf(this.db, table);
      for (const n of SIGNAL_NAMES) {
        if (!have.has(n)) this.db.exec(`ALTER TABLE ${table} ADD COLUMN ${n} REAL`);
        if (tier !== 'raw' && !have.has(`${n}__max`)) this.db.exec(`ALTER TABLE ${table} ADD COLUMN ${n}__max REAL`);
      }
    }
  }

  /** Stores one sample at `tMs`; rolls up and expires once per minute of sample time. */
  record(tMs: number, values: Signals): void {
    const t = Math.floor(tMs / 1000);
    this.insert.run(t, ...SIGNAL_NAMES.map((n) => {
      const v = values[n];
      return v === undefined || !Number.isFinite(v) ? null : v;
    }));
    const minute = Math.floor(t / 60);
    if (minute !== this.lastMaintenanceMinute) {
      this.lastMaintenanceMinute = minute;
      this.maintain(t);
    }
  }

  /** Rolls complete minutes into ts_1m and complete hours into ts_1h, then deletes what retention drops. */
  maintain(nowSec: number): void {
    const minuteStart = Math.floor(nowSec / 60) * 60;
    const hourStart = Math.floor(nowSec / 3600) * 3600;
    this.db.transaction(() => {
      const m = this.watermark('rollup.1m', this.q.firstRaw, 60);
      if (m !== null && m < minuteStart) {
        this.q.rollMinutes.run(m, minuteStart);
        this.q.setMark.run('rollup.1m', String(minuteStart));
      }
      const h = this.watermark('rollup.1h', this.q.first1m, 3600);
      if (h !== null && h < hourStart) {
        this.q.rollHours.run(h, hourStart);
        this.q.setMark.run('rollup.1h', String(hourStart));
      }
      const r = this.retention;
      this.q.expireRaw.run(nowSec - Math.round(r.rawHours * 3600));
      this.q.expire1m.run(nowSec - Math.round(r.minuteDays * 86_400));
      this.q.expire1h.run(nowSec - Math.round(r.hourDays * 86_400));
    })();
    const hour = Math.floor(nowSec / 3600);
    if (hour !== this.lastVacuumHour) {
      this.lastVacuumHour = hour;
      // Returns pages freed by the deletes to the file system (auto_vacuum = INCREMENTAL).
      this.db.pragma('incremental_vacuum');
    }
  }

  /** Where the next rollup starts: the saved mark, or the first bucket holding source rows. */
  private watermark(key: string, first: { get(): unknown }, step: number): number | null {
    const saved = this.q.getMark.get(key) as { value: string } | undefined;
    if (saved) return Number(saved.value);
    const t = (first.get() as { t: number | null }).t;
    return t === null ? null : Math.floor(t / step) * step;
  }

  /** Rows per tier, for the bound check and the health report. */
  rowCounts(): Record<Tier, number> {
    const n = (t: string) => (this.db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
    return { raw: n('ts_raw'), '1m': n('ts_1m'), '1h': n('ts_1h') };
  }

  /**
   * Points for a chart: the finest tier whose retention reaches back to `from`, averaged into at
   * most `maxPoints` buckets. The newest stretch a coarse tier has not rolled up yet (the current
   * hour, the current minute) is read from the finer tiers, so a chart is never empty or stale at
   * its right edge.
   */
  query(q: SeriesQuery, nowMs: number): SeriesResult {
    const now = Math.floor(nowMs / 1000);
    const r = this.retention;
    const span = Math.max(1, q.to - q.from);
    const tier: Tier = q.from >= now - r.rawHours * 3600 ? 'raw' : q.from >= now - r.minuteDays * 86_400 ? '1m' : '1h';
    const maxPoints = Math.max(2, Math.min(2000, q.maxPoints ?? 300));
    const base = Math.ceil(tier === 'raw' ? this.sampleSeconds : STEP[tier]);
    const step = Math.max(base, Math.ceil(span / maxPoints / base) * base);
    const names = q.names.filter((n) => (SIGNAL_NAMES as readonly string[]).includes(n));
    const series: SeriesResult['series'] = {};
    if (names.length) {
      const tiers: Tier[] = tier === '1h' ? ['1h', '1m', 'raw'] : tier === '1m' ? ['1m', 'raw'] : ['raw'];
      const cols = names.join(', ');
      const parts: string[] = [];
      const params: number[] = [];
      let lo = q.from;
      tiers.forEach((tr, i) => {
        if (i === tiers.length - 1) {
          parts.push(`SELECT t, ${cols} FROM ${TABLE[tr]} WHERE t >= ? AND t <= ?`);
          params.push(lo, q.to);
          return;
        }
        const last = (this.db.prepare(`SELECT max(t) AS t FROM ${TABLE[tr]}`).get() as { t: number | null }).t;
        const cut = last === null ? lo : Math.max(lo, last + STEP[tr]);
        parts.push(`SELECT t, ${cols} FROM ${TABLE[tr]} WHERE t >= ? AND t <= ? AND t < ?`);
        params.push(lo, q.to, cut);
        lo = cut;
      });
      const rows = this.db
        .prepare(`SELECT (t / ${step}) * ${step} AS b, ${names.map((n) => `avg(${n}) AS ${n}`).join(', ')} FROM (${parts.join(' UNION ALL ')}) GROUP BY b ORDER BY b`)
        .all(...params) as Record<string, number | null>[];
      for (const n of names) series[n] = rows.map((row) => [row.b as number, row[n] ?? null]);
    }
    return { tier, step, from: q.from, to: q.to, series };
  }
}
