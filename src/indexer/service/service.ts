import fs from 'node:fs';
import path from 'node:path';
import type { ProblemFile, SearchResult, StatusReport } from '../../shared/api.js';
import { OwletError, owletError } from '../../shared/errors.js';
import type { Logger } from '../log/logger.js';
import { CollectEvery, boundYoungGeneration, fullCollector } from '../index/heap-collect.js';
import { clearStemCaches } from '../text/stem.js';
import { createExtractionPool, type ExtractionPool, type WorkerLauncher } from '../extract/pool.js';
import { isSupported } from '../extract/formats.js';
import { defaultWorkerLauncher } from '../extract/pool.js';
import { ExtractorBreakers, type BreakerState } from '../resilience/breakers.js';
import { DeferredRetry } from './deferred-retry.js';
import { Quarantine } from '../resilience/quarantine.js';
import { RetryQueue } from '../resilience/retry-queue.js';
import { defaultPowerProbe, type PowerProbe } from '../resilience/power.js';
import { lowPriority } from '../resilience/cpu.js';
import { BatchWriter } from '../index/writer.js';
import { Indexer, type IndexerSettings, type RunSummary } from '../index/indexer.js';
import { parseQuery } from '../search/query.js';
import { SearchCache } from '../search/cache.js';
import { IdleRelease } from './idle-release.js';
import { newCorrelationId, withCorrelation } from '../log/correlation.js';
import { schemaVersion } from '../store/migrations.js';
import { INDEX_FILE, indexedDocuments, servingProblems } from '../store/stats.js';
import { diagnose } from '../store/damage.js';
import { releaseIdleMemory, trimMalloc } from '../store/memory.js';
import { WalWatch } from '../store/wal-watch.js';
import type { Counts, RootRow } from '../store/documents.js';
import { statusReport, type Backlog, type StatusNote } from './status.js';
import { Watcher, type WatchBackend } from '../watch/watcher.js';
import { DiskSpaceGuard } from '../resilience/disk-space.js';
import type { Config } from '../config/schema.js';
import { openIndex, type BeforeMigrate, type IndexContext } from './context.js';
import type { ProblemGroup } from '../store/documents.js';
import type { SecretStore } from '../security/secret-store.js';
import { previewDocument, type DocumentPreview } from './preview.js';
import { noAudit, type AuditLog } from '../../shared/audit.js';

export interface ServiceOptions {
  dataDir: string;
  log: Logger;
  /** Watch for changes while running (serve/run); `owlet index` does one pass without watching. */
  watch: boolean;
  watchBackend?: WatchBackend;
  launchWorker?: WorkerLauncher;
  now?: () => number;
  power?: PowerProbe;
  /** Period of the retry-queue timer; tests shorten it. */
  tickMs?: number;
  /** How often the battery is checked (default one minute). */
  powerCheckMs?: number;
  /** Where the database key comes from (default: the keychain or key file; Electron hands one over). */
  secrets?: SecretStore;
  /** Told about SQLITE_CORRUPT / SQLITE_NOTADB wherever they surface on the index connection (recovery/guardian.ts). */
  onCorrupt?: (e: unknown) => void;
  /** Runs before a pending schema migration (serve and the CLI pass backupBeforeMigration). */
  beforeMigrate?: BeforeMigrate;
  /**
   * Opens the audit trail once the index and its secret store are open. serve, `owlet index` and
   * doctor pass audit/service-audit.ts's serviceAuditLog; the service stands below audit/ and only
   * appends through the AuditLog it is handed. Without one nothing is audited (tests).
   */
  openAudit?: (ctx: IndexContext, log: Logger) => AuditLog;
  /** How often the index's WAL is checked for deletion under the service (default 2 s; a stat). */
  walCheckMs?: number;
}

/** The writer's hook that keeps the heap near its live size while indexing (heap-collect.ts); none when it cannot collect. */
function heapCollection(everyMb: number): ((chars: number) => void) | undefined {
  boundYoungGeneration();
  const gc = everyMb > 0 ? fullCollector() : null;
  if (!gc) return undefined;
  const every = new CollectEvery(everyMb * 1024 * 1024, gc);
  return (chars) => every.wrote(chars);
}

export function indexerSettings(config: Config): IndexerSettings {
  return {
    roots: config.roots.map((r) => path.resolve(r)),
    exclude: config.exclude,
    include: config.include,
    maxFileBytes: Math.floor(config.maxFileSizeMb * 1024 * 1024),
    // Wide enough that every worker has its jobs ahead (extract/pool.ts, 16 each) and one running,
    // with a few to spare for files that finish while the writer commits.
    concurrency: config.extractors.workers * 20,
    ioTimeoutMs: config.resilience.ioTimeoutMs,
  };
}

export function poolLimits(config: Config) {
  const e = config.extractors;
  return {
    maxTextBytes: Math.floor(e.maxTextMb * 1024 * 1024),
    maxUnzipBytes: Math.floor(e.maxUnzipMb * 1024 * 1024),
    pdfMaxPages: e.pdfMaxPages,
  };
}

export function problemOf(r: { path: string; status: string; reason: string | null; message: string | null; size: number; mtimeMs: number }): ProblemFile {
  return {
    path: r.path,
    status: r.status as ProblemFile['status'],
    reason: r.reason ?? 'unknown',
    message: r.message ?? '',
    size: r.size,
    mtime: new Date(r.mtimeMs).toISOString(),
  };
}

/** Resident and heap memory in MB, for the log. */
function memoryFigures(): Record<string, number> {
  const m = process.memoryUsage();
  const mb = (n: number) => Math.round(n / 104857.6) / 10;
  return { rssMb: mb(m.rss), heapTotalMb: mb(m.heapTotal), heapUsedMb: mb(m.heapUsed), externalMb: mb(m.external) };
}

/**
 * The indexer service: owns the database, the extraction pool, the indexer and the watcher.
 * It is the same object whether driven by `owlet index` (one pass), `owlet serve`, or the
 * supervised child of `owlet run` / Electron's utility process.
 */
export class OwletService {
  readonly ctx: IndexContext;
  readonly pool: ExtractionPool;
  readonly writer: BatchWriter;
  readonly indexer: Indexer;
  readonly quarantine: Quarantine;
  readonly retries: RetryQueue;
  /** A round of due retries is running (runDueRetries). */
  private retrying = false;
  readonly breakers: ExtractorBreakers;
  private readonly deferredRetry: DeferredRetry;
  /** The tamper-evident audit trail (backup/restore, updates and wipes append here too). */
  readonly audit: AuditLog;
  /** Recent search results; cleared by every committed index batch. */
  readonly searchCache: SearchCache;
  /** Gives SQLite's cache and cached results back after a quiet spell (config.memory). */
  readonly idleRelease: IdleRelease;
  /** Pauses indexing while the data volume is full and resumes it when space returns. */
  readonly disk: DiskSpaceGuard;
  watcher: Watcher | null = null;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly started: number;
  private readonly now: () => number;
  private ready = false;
  private running: Promise<unknown> = Promise.resolve();
  /** The last full pass asked for (none yet: not completed). */
  private lastPass: Promise<boolean> = Promise.resolve(false);
  private rescanRequested = false;
  /** Watcher changes handed to us and not yet applied. */
  private changesInFlight = 0;
  private stopping = false;
  private rescanTimer: NodeJS.Timeout | null = null;
  private lastError: string | null = null;
  private readonly abort = new AbortController();
  /** Notices index.db-wal deleted under the open connection (store/wal-watch.ts). */
  private readonly wal: WalWatch;
  private walWaiting = false;

  constructor(private readonly opts: ServiceOptions) {
    this.now = opts.now ?? Date.now;
    this.started = this.now();
    this.ctx = openIndex(opts.dataDir, { secrets: opts.secrets, onCorrupt: opts.onCorrupt, beforeMigrate: opts.beforeMigrate });
    this.audit = opts.openAudit ? opts.openAudit(this.ctx, opts.log) : noAudit;
    // Armed at open: the WAL the connection has open now is the one it must keep.
    this.wal = new WalWatch(this.ctx.db, path.join(this.ctx.dataDir, INDEX_FILE));
    const { config } = this.ctx;
    this.pool = createExtractionPool({
      workers: config.extractors.workers,
      timeoutMs: config.extractors.timeoutMs,
      memoryMb: config.extractors.memoryMb,
      recycleMb: config.extractors.recycleMb,
      heavyWorkers: config.extractors.heavyWorkers,
      idleExitMs: config.extractors.idleExitSeconds * 1000,
      limits: poolLimits(config),
      languages: config.search.languages,
      launch: lowPriority(opts.launchWorker ?? defaultWorkerLauncher(config.extractors.memoryMb), opts.log),
      // Read per job: the dashboard can change it while running.
      cpuShare: () => this.ctx.config.resilience.cpuShare,
    });
    const r = config.resilience;
    this.quarantine = new Quarantine(this.ctx.db, r.quarantineAttempts, this.now);
    this.retries = new RetryQueue(this.ctx.db, r.retry, this.now);
    // A breaker's error rate is over files a worker ran (told when each settles), and the pool asks it
    // again when a worker takes a file, so files queued before it opened are deferred, not run.
    this.breakers = new ExtractorBreakers((job, mayStart) => this.pool.extract(job, { mayStart }), r.breaker, this.now);
    this.breakers.onDidChange(({ kind, state }) => this.onBreakerChange(kind, state));
    this.writer = new BatchWriter(this.ctx.store, {
      batchSize: config.indexing.batchSize,
      flushMs: config.indexing.flushMs,
      // FTS5 holds a batch's terms in memory until commit: a small byte budget bounds the peak.
      maxPendingBytes: config.indexing.maxBatchMb * 1024 * 1024,
      onTextWritten: heapCollection(config.memory.collectEveryMb),
    });
    this.searchCache = new SearchCache(config.memory.searchCacheEntries);
    this.idleRelease = new IdleRelease({ idleMs: config.memory.idleReleaseSeconds * 1000, isIdle: () => this.isQuiet(), release: () => this.releaseMemory(), now: this.now });
    this.writer.onDidCommit(() => this.idleRelease.activity());
    this.disk = new DiskSpaceGuard({
      dir: opts.dataDir,
      retry: () => this.writer.flush(),
      onDidPause: () => this.indexer.pause('disk-full'),
      onDidResume: () => {
        this.indexer.resume('disk-full');
        // The pass that hit the full disk stopped part-way: reconcile again from the database.
        void this.rescan();
      },
      log: opts.log.child('disk'),
    });
    this.writer.holdOnFailure = (e) => this.disk.handles(e);
    this.writer.onDidCommit(() => this.searchCache.clear());
    this.writer.onDidFail((e) => {
      if (!this.disk.report(e)) opts.log.error('index write failed', { error: e });
    });
    const disabled = new Set(config.extractors.disabled);
    this.indexer = new Indexer(
      {
        store: this.ctx.store,
        extract: (job) => this.breakers.guard(job),
        writer: this.writer,
        quarantine: this.quarantine,
        retries: this.retries,
        supports: (ext) => !disabled.has(ext) && isSupported(ext),
        log: opts.log.child('indexer'),
        now: this.now,
      },
      indexerSettings(config),
    );
    this.deferredRetry = new DeferredRetry({
      waiting: () => this.indexer.deferred,
      kindOf: (p) => this.breakers.kindOf(path.extname(p).slice(1)),
      stateOf: (kind) => this.breakers.state(kind),
      retry: (batch) => this.applyAfterRunning(batch, 'retrying deferred files failed'),
    });
    this.indexer.onDidDefer((p) => this.deferredRetry.deferred(p));
    this.ready = true;
  }

  get config(): Config {
    return this.ctx.config;
  }

  isReady(): boolean {
    return this.ready && this.ctx.db.open;
  }

  /** Starts the first reconcile and, when asked, the watcher. Returns at once; work runs in the background. */
  async start(): Promise<void> {
    if (this.opts.watch) {
      await this.startWatcher();
      const minutes = this.ctx.config.indexing.rescanMinutes;
      if (minutes > 0) {
        this.rescanTimer = setInterval(() => void this.rescan(), minutes * 60_000);
        this.rescanTimer.unref();
      }
    }
    this.disk.arm();
    this.startMaintenance();
    void this.rescan();
  }

  /** Watches the configured roots (a new watcher after the roots or exclusions change). */
  private async startWatcher(): Promise<void> {
    const backend = this.opts.watchBackend ?? ((await import('@parcel/watcher')) as unknown as WatchBackend);
    const cfg = this.ctx.config;
    this.watcher = new Watcher({
      roots: indexerSettings(cfg).roots,
      exclude: cfg.exclude,
      debounceMs: cfg.indexing.watchDebounceMs,
      pollMs: Math.max(30_000, cfg.indexing.rescanMinutes * 60_000 || 300_000),
      backend,
      log: this.opts.log.child('watcher'),
      onChanges: async (paths) => {
        this.changesInFlight += paths.length;
        try {
          await this.running;
          if (this.stopping) return;
          return await withCorrelation(newCorrelationId('chg'), async () => {
            try {
              const s = await this.indexer.applyChanges(paths, this.abort.signal);
              // Watcher-driven work is logged like a reconcile, but only when something changed.
              if (s.changed > 0) {
                const { indexed, skipped, failed, deleted, renamed, bytes, seconds } = s;
                this.opts.log.info('changes applied', { paths: paths.length, indexed, skipped, failed, deleted, renamed, bytes, seconds });
              }
              return s;
            } catch (e) {
              if (!this.disk.report(e)) throw e;
              return undefined;
            }
          });
        } finally {
          this.changesInFlight -= paths.length;
        }
      },
      onPoll: () => this.rescan(),
    });
    await this.watcher.start();
  }

  /**
   * Applies a changed configuration while running (the dashboard's folders and settings): the
   * roots, exclusions, CPU share and battery pause take effect now and a reconcile starts, so a
   * new folder is indexed and a removed one stops being searched at once. Everything else is read
   * when the service starts; the caller says so to the user.
   */
  async applyConfig(next: Config): Promise<void> {
    if (this.stopping) return;
    const before = this.ctx.config;
    this.ctx.config = next;
    // The pool keeps the workers it started with until a restart, and so does the indexer's window
    // (it is sized for them): a dashboard change to extractors.workers takes effect at the next start.
    this.indexer.updateSettings({ ...indexerSettings(next), concurrency: this.indexer.concurrency });
    this.searchCache.clear();
    if (!next.resilience.pauseOnBattery && before.resilience.pauseOnBattery) this.indexer.resume('battery');
    const watched = (c: Config) => JSON.stringify([indexerSettings(c).roots, c.exclude]);
    if (this.opts.watch && this.watcher && watched(before) !== watched(next)) {
      const old = this.watcher;
      await old.stop();
      if (this.stopping) return;
      await this.startWatcher();
      // stop() ran while the new watcher was starting: it stopped the old one, so stop this one.
      if (this.stopping) await this.watcher?.stop();
    }
    void this.rescan();
  }

  /**
   * Tries skipped or failed files again now (the dashboard's "try again"): their quarantine and
   * retry records are cleared and they go through the normal change path. Returns the paths that
   * were not skipped or failed files of the index (nothing to retry).
   */
  retry(paths: readonly string[]): string[] {
    const unknown: string[] = [];
    const known: string[] = [];
    for (const p of paths) {
      this.quarantine.end(p);
      this.retries.remove(p);
      if (this.ctx.store.markForRetry(p)) known.push(p);
      else unknown.push(p);
    }
    this.applyAfterRunning(known, 'retrying files failed');
    return unknown;
  }

  /** Runs these paths through the indexer once the work in hand is done (a full disk pauses, not fails). */
  private applyAfterRunning(paths: string[], failure: string): void {
    if (paths.length === 0 || this.stopping) return;
    this.running = this.running.then(() => this.indexer.applyChanges(paths, this.abort.signal)).then(
      () => undefined,
      (e: unknown) => {
        if (!this.disk.report(e)) this.opts.log.error(failure, { error: e });
      },
    );
  }

  /**
   * Background duties while serving: due retries, offline roots coming back, and the battery.
   * Each is cheap when there is nothing to do.
   */
  private startMaintenance(): void {
    const every = (ms: number, fn: () => Promise<void> | void) => {
      const t = setInterval(() => {
        if (this.stopping) return;
        Promise.resolve(fn()).catch((e) => this.disk.report(e) || this.opts.log.error('maintenance task failed', { error: e }));
      }, ms);
      t.unref();
      this.timers.push(t);
    };
    const tick = this.opts.tickMs ?? 1000;
    every(tick, () => this.runDueRetries());
    every(tick, () => void this.idleRelease.tick());
    every(this.config.resilience.rootCheckMs, () => this.checkOfflineRoots());
    every(this.opts.walCheckMs ?? 2000, () => this.healWal());
    // Read at every check: the setting can be changed while running (applyConfig).
    const power = this.opts.power ?? defaultPowerProbe();
    const check = async () => {
      if (this.config.resilience.pauseOnBattery && (await power.onBattery())) this.indexer.pause('battery');
      else this.indexer.resume('battery');
    };
    void check();
    every(this.opts.powerCheckMs ?? 60_000, check);
  }

  /**
   * A WAL deleted under the service: its commits are written into index.db through the open
   * connection and a new WAL is opened, so other connections (doctor, the CLI) work again and
   * nothing committed is lost. Waits while another connection holds the index.
   */
  private healWal(): void {
    const r = this.wal.heal();
    if (r.healed) {
      this.walWaiting = false;
      this.opts.log.warn('the index WAL was deleted under the running service; its commits were saved into index.db and a new WAL opened', { wal: r.state });
    } else if (r.state !== 'ok' && !this.walWaiting) {
      this.walWaiting = true;
      this.opts.log.warn('the index WAL was deleted under the running service; it is healed as soon as no other connection holds the index', { wal: r.state, reason: r.reason });
    }
  }

  /** A pass over the roots is running (the first one of a new install, a rescan). */
  isIndexing(): boolean {
    return this.indexer.progress.phase !== 'idle';
  }

  /** Nothing queued, extracting, unwritten or announced by the watcher. */
  private isQuiet(): boolean {
    const b = this.backlog();
    return this.indexer.progress.phase === 'idle' && b.queued === 0 && b.unwritten === 0 && b.poolBusy === 0 && b.poolQueued === 0 && b.changes === 0 && !b.rescanPending;
  }

  /**
   * SQLite frees what its cache holds beyond the pages in use; cached results go too; a full,
   * compacting collection lets V8 hand back the heap that indexing grew and fragmented; and malloc
   * gives its free pages back to the OS (store/memory.ts releaseIdleMemory).
   */
  private releaseMemory(): void {
    const before = memoryFigures();
    // The index connection is the only one this object holds (metrics.db is monitoring's, about 1 MB).
    const malloc = releaseIdleMemory({ connections: [this.ctx.db], caches: [() => this.searchCache.clear(), clearStemCaches], gc: fullCollector(), trim: trimMalloc });
    this.opts.log.info('idle: released cached memory', { releases: this.idleRelease.count, before, after: memoryFigures(), malloc });
  }

  /** Files whose retry is due go through the normal change path (re-checked, re-extracted). */
  async runDueRetries(): Promise<void> {
    // One round at a time: a round that outlasts the tick (an extraction deadline is seconds) would
    // otherwise hand the same due files to workers again, side by side.
    if (this.retrying) return;
    this.retrying = true;
    try {
      const due = this.retries.due(200);
      if (due.length === 0) return;
      await this.running;
      if (this.stopping) return;
      await this.indexer.applyChanges(due.map((d) => d.path), this.abort.signal);
      if (this.stopping) return;
      // A retry that nothing rescheduled or ended (the file turned out current, excluded, or gone)
      // would stay due and be looked at again every tick: it is spent.
      for (const d of due) if (this.retries.attemptsOf(d.path) === d.attempts) this.retries.remove(d.path);
    } finally {
      this.retrying = false;
    }
  }

  /** A root that was offline and is reachable again is reconciled (its watcher restarted). */
  async checkOfflineRoots(): Promise<void> {
    const offline = this.ctx.store.roots().filter((r) => r.state === 'offline');
    for (const r of offline) {
      try {
        if (!fs.statSync(r.path).isDirectory() || fs.readdirSync(r.path).length === 0) continue;
      } catch {
        continue;
      }
      this.opts.log.info('root is back online', { root: r.path });
      await this.rescan();
      await this.watcher?.restart();
      return;
    }
  }

  private onBreakerChange(kind: string, state: BreakerState): void {
    this.opts.log.warn('extractor breaker changed', { kind, state });
    this.deferredRetry.breakerChanged(kind, state);
  }

  /** Queues a full reconcile; concurrent requests collapse into one follow-up pass. */
  rescan(): Promise<void> {
    if (this.rescanRequested || this.stopping) return this.running.then(() => undefined);
    return this.scan().then(() => undefined);
  }

  /**
   * Queues a full pass over the folders (or joins the one queued); resolves whether it ran to its
   * end: false when it failed (a full disk, an I/O error) or was stopped.
   */
  scan(): Promise<boolean> {
    if (this.stopping) return Promise.resolve(false);
    if (this.rescanRequested) return this.lastPass;
    this.rescanRequested = true;
    const run = this.running.then(async () => {
      this.rescanRequested = false;
      if (this.stopping) return false;
      try {
        const s = await withCorrelation(newCorrelationId('scan'), () => this.indexer.reconcile(undefined, this.abort.signal));
        this.lastError = null;
        this.opts.log.info('reconcile finished', { ...s });
        return !this.abort.signal.aborted;
      } catch (e) {
        // A full disk pauses indexing; the guard reconciles again when space returns.
        if (this.disk.report(e)) return false;
        this.lastError = e instanceof Error ? e.message : String(e);
        this.opts.log.error('reconcile failed', { error: e });
        return false;
      }
    });
    this.running = run;
    this.lastPass = run;
    return run;
  }

  /** The pass running or queued now (the last one asked for): whether it ran to its end. */
  scanned(): Promise<boolean> {
    return this.lastPass;
  }

  /** One full pass, for `owlet index`. */
  async indexOnce(roots?: readonly string[]): Promise<RunSummary> {
    return this.indexer.reconcile(roots, this.abort.signal);
  }

  search(q: string, limit: number, offset: number): SearchResult {
    if (!this.isReady()) throw owletError('OWL_ERR_NOT_READY', { reason: 'the index is not open yet; try again in a moment' });
    // Only the configured roots: a root removed from config.json is not searchable (#11.10).
    const roots = indexerSettings(this.config).roots;
    return this.searchCache.get(q, limit, offset, () => this.ctx.search.search(parseQuery(q, { languages: this.ctx.config.search.languages }), { limit, offset, roots }, q));
  }

  /** The start of a document's stored text, for paths under the roots only (security/preview.ts). */
  preview(requested: string): DocumentPreview {
    return previewDocument(this.ctx.store, this.config.roots, requested);
  }

  problems(limit: number, offset: number): ProblemFile[] {
    return this.ctx.store.problems(limit, offset).map(problemOf);
  }

  problemsWithReason(reason: string, limit: number, offset: number): ProblemFile[] {
    return this.ctx.store.problemsWithReason(reason, limit, offset).map(problemOf);
  }

  /** Files not indexed, counted by status and reason (failures first). */
  problemGroups(): ProblemGroup[] {
    return this.ctx.store.problemGroups();
  }

  /** Work in hand: while any of it is non-zero the service is not "up to date". */
  backlog(): Backlog {
    const pool = this.pool.stats();
    return {
      queued: this.indexer.progress.queued,
      unwritten: this.writer.size,
      poolBusy: pool.busy,
      poolQueued: pool.queued,
      changes: (this.watcher?.pendingChanges ?? 0) + this.changesInFlight,
      rescanPending: this.rescanRequested,
    };
  }

  status(): StatusReport {
    const notes: StatusNote[] = [];
    if (this.watcher?.mode === 'polling') notes.push({ component: 'watcher', message: this.watcher.message ?? 'watching by periodic rescans' });
    if (this.lastError) notes.push({ component: 'indexer', message: this.lastError });
    for (const b of this.breakers.snapshot())
      if (b.state !== 'closed') notes.push({ component: `breaker:${b.name}`, message: `${b.name} extraction is paused after repeated failures; files wait and are retried automatically` });
    if (this.indexer.pausedBecause.includes('battery')) notes.push({ component: 'power', message: 'indexing paused while on battery; it resumes on mains power' });
    if (this.disk.message) notes.push({ component: 'disk', message: this.disk.message });
    return statusReport({
      dataDir: this.ctx.dataDir,
      ready: this.isReady(),
      starting: !this.ready,
      paused: this.indexer.paused,
      pausedBecause: this.indexer.pausedBecause,
      progress: { ...this.indexer.progress },
      backlog: this.backlog(),
      counts: this.ctx.store.counts(),
      roots: this.ctx.store.roots(),
      watcher: { mode: this.watcher?.mode ?? 'off', message: this.watcher?.message ?? null },
      notes,
      schemaVersion: schemaVersion(this.ctx.db),
      uptimeMs: this.now() - this.started,
      resilience: {
        breakers: this.breakers.snapshot().map((b) => ({ name: b.name, state: b.state, openedAt: b.openedAt ? new Date(b.openedAt).toISOString() : null })),
        retryQueue: this.retries.size(),
        quarantined: this.quarantine.quarantinedCount(),
        deferred: this.indexer.deferred.size,
        pool: this.pool.stats(),
      },
    });
  }

  /** The data folder this service serves. */
  get dataDir(): string {
    return this.ctx.dataDir;
  }

  /** The database key (null for a legacy plaintext file): metrics.db and backups are keyed with it. */
  get key(): Buffer | null {
    return this.ctx.key;
  }

  /** Where the keys live (null only for a legacy plaintext file opened read-only). */
  get secrets(): SecretStore | null {
    return this.ctx.secrets;
  }

  /** Document counts by status (store/documents.ts: the one definition). */
  counts(): Counts {
    return this.ctx.store.counts();
  }

  roots(): RootRow[] {
    return this.ctx.store.roots();
  }

  /** Why this service cannot answer searches right now (empty when it can): /health/ready. */
  servingProblems(): string[] {
    if (!this.isReady()) return ['the index database is not open'];
    return servingProblems(this.ctx.db);
  }

  /** The schema version of the open index. */
  schemaVersion(): number {
    return schemaVersion(this.ctx.db);
  }

  /**
   * Checks a freshly opened index (after a restore): quick_check passes and it holds the rows the
   * backup recorded. Returns what is wrong, or null.
   */
  check(expectedRows: number): string | null {
    const d = diagnose(this.ctx.db);
    if (d.kind !== 'ok') return 'is damaged';
    const n = indexedDocuments(this.ctx.db);
    return n === expectedRows ? null : `holds ${n} documents, the backup ${expectedRows}`;
  }

  /** Closes the connection without the orderly stop (a damaged file that refused its final checkpoint). */
  forceClose(): void {
    try {
      if (this.ctx.db.open) this.ctx.db.close();
    } catch {
      // already closed
    }
  }

  pause(): void {
    this.indexer.pause();
  }

  resume(): void {
    this.indexer.resume();
  }

  /** Finishes the current batch, stops workers, checkpoints the WAL and closes the database. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.abort.abort();
    if (this.rescanTimer) clearInterval(this.rescanTimer);
    for (const t of this.timers) clearInterval(t);
    this.breakers.shutdown();
    this.disk.stop();
    this.indexer.resumeAll();
    await this.watcher?.stop();
    await this.pool.close();
    await this.running.catch(() => {});
    try {
      this.writer.flush();
    } catch (e) {
      this.opts.log.error('final flush failed', { error: e });
    }
    this.ready = false;
    this.ctx.close();
  }
}
