import fs from 'node:fs';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { formatOf } from '../extract/formats.js';
import { DisposableStore } from '../../shared/event.js';
import type { WriteOp } from '../index/writer.js';
import type { IndexService } from '../service/index-service.js';
import { indexPath } from '../store/stats.js';
import type { OwletMetrics } from './registry.js';
import { statfsProbe, type SpaceProbe, type VolumeSpace } from '../resilience/disk-space.js';
import type { Signals } from '../../shared/signals.js';

export type SearchOutcome = 'ok' | 'invalid' | 'error';

/** The same probe the disk-space guard uses (statfs: free space this process may use). */
export { statfsProbe as statfsSpace, type SpaceProbe, type VolumeSpace };

/** Windows over which rates and percentiles are computed. */
const FAILURE_WINDOW_MS = 10 * 60_000;
const FAILURE_MIN_FILES = 20;
const SEARCH_WINDOW_MS = 5 * 60_000;
const SEARCH_MIN_COUNT = 5;
const POOL_WINDOW_MS = 10 * 60_000;
/** Latest searches kept for the p95 (a ring: bounded memory whatever the load). */
const SEARCH_RING = 4096;
const COUNTS_EVERY_MS = 60_000;

function fileSize(f: string): number {
  try {
    return fs.statSync(f).size;
  } catch {
    return 0;
  }
}

function percentile(values: number[], p: number): number {
  values.sort((a, b) => a - b);
  return values[Math.min(values.length - 1, Math.max(0, Math.ceil((p / 100) * values.length) - 1))]!;
}

/**
 * Collects what the service does (hooks on its hot paths: one counter bump each) and turns it
 * into signals at each sample: rates from counter deltas, windows for the failure ratio and the
 * search p95, and process, database and disk figures read at that moment.
 */
export class Collector {
  private docs = 0;
  private bytes = 0;
  private failed = 0;
  private extracted = 0;
  private searches = 0;
  private readonly searchT = new Float64Array(SEARCH_RING);
  private readonly searchMs = new Float64Array(SEARCH_RING);
  private searchNext = 0;
  private searchCount = 0;
  private readonly failureWindow: { t: number; extracted: number; failed: number }[] = [];
  private readonly poolWindow: { t: number; n: number }[] = [];
  private readonly notClosed = new Map<string, number>();
  private last: { t: number; docs: number; bytes: number; failed: number; extracted: number; searches: number; cpu: NodeJS.CpuUsage; poolDeaths: number };
  private readonly eld: IntervalHistogram;
  private readonly subscriptions = new DisposableStore();
  private lagMs: number | undefined;
  private docCount: number | undefined;
  private docCountAt = -Infinity;
  private space: VolumeSpace | null = null;
  private readonly started: number;

  constructor(
    private readonly service: IndexService,
    private readonly metrics: OwletMetrics | null,
    private readonly now: () => number,
    private readonly spaceProbe: SpaceProbe,
    private readonly metricsFile: string | null,
  ) {
    this.started = now();
    this.last = { t: this.started, docs: 0, bytes: 0, failed: 0, extracted: 0, searches: 0, cpu: process.cpuUsage(), poolDeaths: this.poolDeaths() };
    this.eld = monitorEventLoopDelay({ resolution: 20 });
  }

  /** Listens to the service's events (the host re-emits them from whichever service is current, so a swap loses nothing). */
  attach(): void {
    this.subscriptions.dispose();
    this.subscriptions.add(this.service.onDidProcess(({ outcome }) => this.metrics?.filesProcessed.inc({ outcome })));
    this.subscriptions.add(this.service.onDidCommit((ops) => this.onCommit(ops)));
    this.eld.enable();
  }

  detach(): void {
    this.subscriptions.dispose();
    this.eld.disable();
  }

  private onCommit(ops: readonly WriteOp[]): void {
    const m = this.metrics;
    m?.batchesCommitted.inc();
    for (const op of ops) {
      if (op.op === 'indexed') {
        this.docs++;
        this.extracted++;
        this.bytes += op.doc.size;
        m?.documentsIndexed.inc();
        m?.bytesIndexed.inc(op.doc.size);
      } else if (op.op === 'unindexed' && op.doc.status === 'failed') {
        const reason = op.doc.reason;
        // Deferred files did not fail: their breaker is open and they wait.
        if (reason === 'deferred') continue;
        if (reason === 'io-error') m?.retriesScheduled.inc();
        this.failed++;
        this.extracted++;
        m?.extractionFailures.inc({ kind: formatOf(op.doc.ext) ?? 'other', reason });
      }
    }
  }

  /** Called by the instrumented API for every search. */
  observeSearch(ms: number, outcome: SearchOutcome): void {
    this.searches++;
    this.metrics?.searchDuration.observe(ms / 1000);
    this.metrics?.searches.inc({ outcome });
    if (outcome !== 'ok') return;
    this.searchT[this.searchNext] = this.now();
    this.searchMs[this.searchNext] = ms;
    this.searchNext = (this.searchNext + 1) % SEARCH_RING;
    this.searchCount = Math.min(SEARCH_RING, this.searchCount + 1);
  }

  private poolDeaths(): number {
    const c = this.service.current();
    if (!c.ok) return this.last?.poolDeaths ?? 0;
    const p = c.service.pool.stats();
    return p.crashes + p.timeouts + p.memoryKills;
  }

  /** Worker deaths in the last 10 minutes (as of the last sample). */
  recentPoolFailures(): number {
    return this.poolWindow.reduce((s, w) => s + w.n, 0);
  }

  /** When each breaker left the closed state, surviving its open ⇄ half-open flapping. */
  notClosedSince(): ReadonlyMap<string, number> {
    return this.notClosed;
  }

  lastSpace(): VolumeSpace | null {
    return this.space;
  }

  eventLoopLagMs(): number | undefined {
    return this.lagMs;
  }

  /** Document count by status; the GROUP BY runs at most once a minute. */
  documentCount(): number | undefined {
    return this.docCount;
  }

  private refreshBreakers(now: number): { open: number; longestMs: number } {
    let open = 0;
    let longestMs = 0;
    const seen = new Set<string>();
    const c = this.service.current();
    for (const b of c.ok ? c.service.breakers.snapshot() : []) {
      seen.add(b.name);
      if (b.state === 'closed') {
        this.notClosed.delete(b.name);
        continue;
      }
      open++;
      if (!this.notClosed.has(b.name)) this.notClosed.set(b.name, b.openedAt ?? now);
      longestMs = Math.max(longestMs, now - this.notClosed.get(b.name)!);
    }
    for (const k of [...this.notClosed.keys()]) if (!seen.has(k)) this.notClosed.delete(k);
    return { open, longestMs };
  }

  /** One sample of every signal this collector owns (monitoring adds health, integrity, backup, restarts). */
  async sample(): Promise<Signals> {
    const now = this.now();
    const host = this.service;
    const c = host.current();
    // Mid-recovery there is no service: its figures are left out of this sample.
    const s = c.ok && c.service.isReady() ? c.service : null;
    const dt = Math.max(0.001, (now - this.last.t) / 1000);
    try {
      this.space = await this.spaceProbe(host.dataDir);
    } catch {
      this.space = null;
    }
    if (now - this.docCountAt >= COUNTS_EVERY_MS && s) {
      this.docCountAt = now;
      try {
        this.docCount = s.counts().indexed;
      } catch {
        // Database busy or closing: keep the last figure.
      }
    }
    const cpu = process.cpuUsage(this.last.cpu);
    const deaths = this.poolDeaths();
    this.poolWindow.push({ t: now, n: Math.max(0, deaths - this.last.poolDeaths) });
    while (this.poolWindow.length && this.poolWindow[0]!.t < now - POOL_WINDOW_MS) this.poolWindow.shift();
    this.failureWindow.push({ t: now, extracted: this.extracted - this.last.extracted, failed: this.failed - this.last.failed });
    while (this.failureWindow.length && this.failureWindow[0]!.t < now - FAILURE_WINDOW_MS) this.failureWindow.shift();
    let wExtracted = 0;
    let wFailed = 0;
    for (const w of this.failureWindow) {
      wExtracted += w.extracted;
      wFailed += w.failed;
    }
    const recent: number[] = [];
    for (let i = 0; i < this.searchCount; i++) if (this.searchT[i]! >= now - SEARCH_WINDOW_MS) recent.push(this.searchMs[i]!);
    // The histogram holds nanoseconds; an idle interval can have no sample at all.
    const p99 = this.eld.count > 0 ? this.eld.percentile(99) / 1e6 : undefined;
    this.lagMs = p99;
    this.eld.reset();
    const breakers = this.refreshBreakers(now);
    const cache = s?.searchCache.stats() ?? { hits: 0, misses: 0 };
    const file = indexPath(host.dataDir);
    let rootsOffline: number | undefined;
    let retry: number | undefined;
    if (s) {
      try {
        rootsOffline = s.roots().filter((r) => r.state === 'offline').length;
        retry = s.retries.size();
      } catch {
        // Database closing.
      }
    }
    const signals: Signals = {
      uptime_seconds: (now - this.started) / 1000,
      documents_indexed: this.docCount,
      docs_per_second: (this.docs - this.last.docs) / dt,
      bytes_per_second: (this.bytes - this.last.bytes) / dt,
      queue_depth: s ? s.indexer.progress.queued + s.writer.size : undefined,
      extraction_failures_per_minute: ((this.failed - this.last.failed) / dt) * 60,
      extraction_failure_ratio: wExtracted >= FAILURE_MIN_FILES ? wFailed / wExtracted : undefined,
      retry_queue: retry,
      breakers_open: breakers.open,
      breaker_open_seconds: breakers.longestMs / 1000,
      searches_per_minute: ((this.searches - this.last.searches) / dt) * 60,
      search_p95_ms: recent.length >= SEARCH_MIN_COUNT ? percentile(recent, 95) : undefined,
      cache_hit_ratio: cache.hits + cache.misses > 0 ? cache.hits / (cache.hits + cache.misses) : undefined,
      cpu_ratio: (cpu.user + cpu.system) / 1000 / (dt * 1000),
      rss_bytes: process.memoryUsage.rss(),
      heap_used_bytes: process.memoryUsage().heapUsed,
      event_loop_lag_ms: p99,
      db_bytes: fileSize(file),
      wal_bytes: fileSize(file + '-wal'),
      metrics_db_bytes: this.metricsFile ? fileSize(this.metricsFile) + fileSize(this.metricsFile + '-wal') : undefined,
      disk_free_bytes: this.space?.free,
      disk_free_ratio: this.space && this.space.total > 0 ? this.space.free / this.space.total : undefined,
      roots_offline: rootsOffline,
    };
    this.last = { t: now, docs: this.docs, bytes: this.bytes, failed: this.failed, extracted: this.extracted, searches: this.searches, cpu: process.cpuUsage(), poolDeaths: deaths };
    return signals;
  }
}
