import fs from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../../shared/errors.js';
import type { Progress } from '../../shared/api.js';
import { classifyEntry, crawl, type CrawlItem, type FoundFile, type SkippedEntry } from '../crawl/crawler.js';
import { createPathFilter, type PathFilter } from '../crawl/filters.js';
import { HEAVY_EXTS, type ExtractJob } from '../extract/pool.js';
import type { GuardedOutcome } from '../resilience/breakers.js';
import type { Quarantine } from '../resilience/quarantine.js';
import type { RetryQueue } from '../resilience/retry-queue.js';
import { isTransientFsError } from '../resilience/retry-policy.js';
import { withTimeout } from '../resilience/timeout.js';
import type { DocState, DocumentStore } from '../store/documents.js';
import type { Logger } from '../log/logger.js';
import type { BatchWriter } from './writer.js';
import { Emitter, type Event } from '../../shared/event.js';

export interface IndexerSettings {
  roots: readonly string[];
  exclude: readonly string[];
  include: readonly string[];
  maxFileBytes: number;
  /** Extraction jobs kept in flight (a little more than the pool size keeps workers busy). */
  concurrency: number;
  /** Deadline for each stat / directory listing. */
  ioTimeoutMs?: number;
}

export interface IndexerDeps {
  store: DocumentStore;
  /** Extraction, normally the pool behind per-kind circuit breakers. */
  extract: (job: ExtractJob) => Promise<GuardedOutcome>;
  writer: BatchWriter;
  quarantine?: Quarantine;
  retries?: RetryQueue;
  /** Whether an extractor exists (and is enabled) for an extension. */
  supports: (ext: string) => boolean;
  log: Logger;
  now?: () => number;
}

export interface RunSummary {
  indexed: number;
  skipped: number;
  failed: number;
  deleted: number;
  renamed: number;
  unchanged: number;
  bytes: number;
  seconds: number;
  offlineRoots: string[];
}

/** What applying watcher changes did: the usual counts, and the folders it walked. */
export interface ChangeSummary extends RunSummary {
  walkedDirs: string[];
  /** Entries whose index row changed (indexed, skipped, failed, deleted or renamed). */
  changed: number;
}

/**
 * Outcomes after which a file's worker deaths stay on record: a worker may have been lost on it,
 * or it never reached a worker (deferred by an open breaker). Any other outcome means a worker
 * came back from the file, so the record is dropped.
 */
const KEEPS_QUARANTINE_RECORD = new Set(['timeout', 'crash', 'memory', 'quarantined', 'deferred']);

/**
 * Outcomes whose retry record extractOne sets itself (scheduled again, or dropped): io-error
 * retries, and files a worker was lost on, which are retried until the quarantine stops them.
 */
const OWNS_RETRY_RECORD = new Set(['io-error', 'timeout', 'crash', 'memory']);

function emptySummary(): RunSummary {
  return { indexed: 0, skipped: 0, failed: 0, deleted: 0, renamed: 0, unchanged: 0, bytes: 0, seconds: 0, offlineRoots: [] };
}

/**
 * Keeps the index in step with the disk: full reconciliation passes (start, rescan) and targeted
 * updates for paths the watcher reports. Extraction happens in the pool; writes go through the
 * batch writer, so this class never holds a transaction open across an await.
 */
/** One finished file: how it ended and the bytes it added to the index. */
export interface Processed {
  outcome: 'indexed' | 'skipped' | 'failed';
  bytes: number;
}

export class Indexer {
  private settings: IndexerSettings;
  private filter: PathFilter;
  private readonly pauseReasons = new Set<string>();
  private resumeWaiters: (() => void)[] = [];
  private readonly now: () => number;
  private inFlight = 0;
  private slotWaiters: (() => void)[] = [];
  readonly progress: Progress = { phase: 'idle', scanned: 0, queued: 0, done: 0, startedAt: null, finishedAt: null };
  private readonly processEmitter = new Emitter<Processed>();
  /** Fired for every finished file (metrics, progress bars). */
  readonly onDidProcess: Event<Processed> = this.processEmitter.event;
  private readonly deferEmitter = new Emitter<string>();
  /** Fired with a file's path when it joins `deferred` (not when a path already there is deferred again). */
  readonly onDidDefer: Event<string> = this.deferEmitter.event;

  constructor(private readonly deps: IndexerDeps, settings: IndexerSettings) {
    this.settings = settings;
    this.filter = createPathFilter(settings.exclude, settings.include);
    this.now = deps.now ?? Date.now;
    // Bookkeeping that must commit together with a file's outcome.
    deps.writer.afterWrite = (op) => {
      if (op.op === 'indexed') {
        deps.quarantine?.end(op.doc.path);
        deps.retries?.remove(op.doc.path);
      } else if (op.op === 'unindexed') {
        if (!KEEPS_QUARANTINE_RECORD.has(op.doc.reason)) deps.quarantine?.end(op.doc.path);
        if (!OWNS_RETRY_RECORD.has(op.doc.reason)) deps.retries?.remove(op.doc.path);
      }
    };
  }

  /** Files deferred by an open breaker, waiting for it to close. */
  readonly deferred = new Set<string>();

  /** Files in flight at most (extracting or waiting in the pool's queue). */
  get concurrency(): number {
    return this.settings.concurrency;
  }

  updateSettings(settings: IndexerSettings): void {
    this.settings = settings;
    this.filter = createPathFilter(settings.exclude, settings.include);
  }

  get paused(): boolean {
    return this.pauseReasons.size > 0;
  }

  /** Why indexing is paused (the user, the battery, a full disk…); empty when running. */
  get pausedBecause(): string[] {
    return [...this.pauseReasons];
  }

  /** Pauses for a reason; indexing runs again only when every reason has been lifted. */
  pause(reason = 'user'): void {
    this.pauseReasons.add(reason);
  }

  resume(reason = 'user'): void {
    this.pauseReasons.delete(reason);
    if (this.pauseReasons.size > 0) return;
    const w = this.resumeWaiters;
    this.resumeWaiters = [];
    w.forEach((f) => f());
  }

  /** Lifts every pause (shutdown must not wait on a paused indexer). */
  resumeAll(): void {
    for (const r of [...this.pauseReasons]) this.resume(r);
  }

  private async waitIfPaused(): Promise<void> {
    while (this.pauseReasons.size > 0) await new Promise<void>((r) => this.resumeWaiters.push(r));
  }

  private async acquire(): Promise<void> {
    while (this.inFlight >= this.settings.concurrency) await new Promise<void>((r) => this.slotWaiters.push(r));
    this.inFlight++;
  }

  private release(): void {
    this.inFlight--;
    this.slotWaiters.shift()?.();
  }

  rootOf(p: string): string | undefined {
    return this.settings.roots.find((r) => p === r || p.startsWith(r.endsWith(path.sep) ? r : r + path.sep));
  }

  /** True when the file's row is current: same size and mtime, and not an outcome worth retrying. */
  private isCurrent(state: DocState, f: { path: string; size: number; mtimeMs: number; ext: string }): boolean {
    if (state.size !== f.size || state.mtimeMs !== f.mtimeMs) return false;
    if (state.status === 'failed') {
      switch (state.reason) {
        case 'deferred':
          return false;
        case 'io-error':
          // Transient read errors wait in the retry queue; once given up (or permanent), leave it.
          return !this.deps.retries || this.deps.retries.attemptsOf(f.path) === 0;
        case 'timeout':
        case 'crash':
        case 'memory':
          // Tried again; the quarantine decides whether it may run or is recorded as quarantined.
          return !this.deps.quarantine;
        default:
          return true;
      }
    }
    if (state.status === 'skipped') {
      if (state.reason === 'too-large' && f.size <= this.settings.maxFileBytes) return false;
      if (state.reason === 'unsupported' && this.deps.supports(f.ext)) return false;
    }
    if (state.status === 'indexed' && !this.deps.supports(f.ext)) return false;
    return true;
  }

  /** A full pass over the given roots (default: all). Roots that are missing are marked offline, never emptied. */
  async reconcile(roots: readonly string[] = this.settings.roots, signal?: AbortSignal): Promise<RunSummary> {
    const started = this.now();
    const summary = emptySummary();
    Object.assign(this.progress, { phase: 'scanning', scanned: 0, queued: 0, done: 0, startedAt: new Date(started).toISOString(), finishedAt: null });
    try {
      for (const root of roots) {
        if (signal?.aborted) break;
        await this.reconcileRoot(root, summary, signal);
      }
      this.deps.writer.flush();
    } finally {
      summary.seconds = (this.now() - started) / 1000;
      Object.assign(this.progress, { phase: 'idle', queued: 0, finishedAt: new Date(this.now()).toISOString() });
    }
    return summary;
  }

  private async rootOnline(root: string): Promise<string | null> {
    try {
      const st = await withTimeout(fs.promises.stat(root), this.settings.ioTimeoutMs ?? 0, `reading root ${root}`);
      return st.isDirectory() ? null : 'root is not a folder';
    } catch (e) {
      return `root is not reachable (${errnoCode(e) ?? (e as Error).message})`;
    }
  }

  private async reconcileRoot(root: string, summary: RunSummary, signal?: AbortSignal): Promise<void> {
    const { store, log } = this.deps;
    const rootId = store.ensureRoot(root);
    const offline = await this.rootOnline(root);
    if (offline) {
      store.setRootState(rootId, 'offline');
      summary.offlineRoots.push(root);
      log.warn('root offline; its documents are kept', { root, reason: offline });
      return;
    }
    const known = store.statesUnder(rootId);
    const seen = new Set<string>();
    const unreadableDirs: string[] = [];
    const changed: FoundFile[] = [];
    for await (const item of crawl(root, { filter: this.filter, maxBytes: this.settings.maxFileBytes, signal, ioTimeoutMs: this.settings.ioTimeoutMs })) {
      this.progress.scanned++;
      // A full disk or the battery pauses the crawl too, so held writes cannot pile up.
      if (this.paused) await this.waitIfPaused();
      if (item.kind === 'unreadable-dir') {
        unreadableDirs.push(item.path);
        log.warn('folder unreadable; its documents are kept', { path: item.path, reason: item.message });
        continue;
      }
      seen.add(item.path);
      const state = known.get(item.path);
      if (state && this.isCurrent(state, item)) {
        summary.unchanged++;
        continue;
      }
      if (item.kind === 'skip') this.recordSkip(rootId, item, summary);
      else if (!this.deps.supports(item.ext)) this.recordUnsupported(rootId, item, summary);
      else changed.push(item);
    }
    if (signal?.aborted) return;
    // A root that held documents and now shows no file at all is far more likely an unmounted
    // drive (an empty mount point) than a user who deleted everything: keep its documents.
    if (seen.size === 0 && known.size > 0) {
      store.setRootState(rootId, 'offline');
      summary.offlineRoots.push(root);
      log.warn('root is empty; treated as offline and its documents are kept', { root });
      return;
    }
    store.setRootState(rootId, 'online');
    const missing = [...known.values()].filter(
      (s) => !seen.has(s.path) && !unreadableDirs.some((d) => s.path.startsWith(d + path.sep)),
    );
    const toExtract = this.matchRenames(rootId, changed, missing, summary);
    for (const gone of missing) {
      this.deps.writer.add({ op: 'delete', id: gone.id });
      summary.deleted++;
    }
    this.progress.phase = 'indexing';
    await this.extractAll(rootId, toExtract, summary, signal);
    this.deps.writer.flush();
    store.markRootScanned(rootId);
  }

  /**
   * A new path with the identity (dev:ino), size and mtime of a vanished one is the same file,
   * moved: keep its text and change its path. Mutates `missing` (renamed sources are removed).
   */
  private matchRenames(rootId: number, changed: FoundFile[], missing: DocState[], summary: RunSummary): FoundFile[] {
    if (missing.length === 0) return changed;
    const byId = new Map<string, DocState>();
    for (const m of missing) if (m.fileId) byId.set(m.fileId, m);
    const rest: FoundFile[] = [];
    const moved = new Set<number>();
    for (const f of changed) {
      const src = byId.get(f.fileId);
      if (src && src.size === f.size && src.mtimeMs === f.mtimeMs && !this.deps.store.stateOf(f.path)) {
        this.deps.writer.add({ op: 'rename', id: src.id, to: { path: f.path, rootId, ext: f.ext, size: f.size, mtimeMs: f.mtimeMs, fileId: f.fileId } });
        byId.delete(f.fileId);
        moved.add(src.id);
        summary.renamed++;
      } else {
        rest.push(f);
      }
    }
    // Renamed documents are not missing; removed in one pass (a splice per rename was quadratic in a burst).
    if (moved.size > 0) {
      let kept = 0;
      for (const m of missing) if (!moved.has(m.id)) missing[kept++] = m;
      missing.length = kept;
    }
    return rest;
  }

  private recordSkip(rootId: number, item: SkippedEntry, summary: RunSummary): void {
    this.deps.writer.add({
      op: 'unindexed',
      doc: { path: item.path, rootId, ext: item.ext, size: item.size, mtimeMs: item.mtimeMs, fileId: item.fileId, status: 'skipped', reason: item.reason, message: item.message },
    });
    summary.skipped++;
    this.progress.done++;
    this.processEmitter.fire({ outcome: 'skipped', bytes: 0 });
  }

  private recordUnsupported(rootId: number, f: FoundFile, summary: RunSummary): void {
    this.recordSkip(rootId, { ...f, kind: 'skip', reason: 'unsupported', message: f.ext ? `no extractor for .${f.ext} files` : 'no extractor for files without an extension' }, summary);
  }

  private async extractAll(rootId: number, found: FoundFile[], summary: RunSummary, signal?: AbortSignal): Promise<void> {
    this.progress.queued += found.length;
    const files = spreadOut(found, (f) => HEAVY_EXTS.includes(f.ext.toLowerCase()));
    // Each file leaves the set when it settles. The loop once waited for the oldest 128 of every
    // 256 started: one slow file among them (a large PDF) stopped new jobs from being handed out
    // while the rest drained, and the workers sat idle until it was done (issue #14).
    const running = new Set<Promise<void>>();
    const failures: unknown[] = [];
    for (const f of files) {
      if (signal?.aborted || failures.length > 0) break;
      await this.waitIfPaused();
      await this.acquire();
      const p = this.extractOne(rootId, f, summary, signal).finally(() => this.release());
      running.add(p);
      // A rejection (a write failing, e.g. on a full disk) stops the pass once the files in
      // flight have settled; handled here, since an unhandled one ends the process.
      p.then(
        () => running.delete(p),
        (error: unknown) => {
          running.delete(p);
          failures.push(error);
        },
      );
    }
    while (running.size > 0) await Promise.allSettled([...running]);
    if (failures.length > 0) throw failures[0];
  }

  private async extractOne(rootId: number, f: FoundFile, summary: RunSummary, signal?: AbortSignal): Promise<void> {
    const meta = { path: f.path, rootId, ext: f.ext, size: f.size, mtimeMs: f.mtimeMs, fileId: f.fileId };
    const fail = (reason: string, message: string, status: 'failed' | 'skipped' = 'failed') => {
      this.deps.writer.add({ op: 'unindexed', doc: { ...meta, status, reason, message } });
      if (status === 'skipped') summary.skipped++;
      else summary.failed++;
      this.processEmitter.fire({ outcome: status, bytes: 0 });
    };
    const done = () => {
      this.progress.queued = Math.max(0, this.progress.queued - 1);
      this.progress.done++;
    };
    const quarantined = (attempts: number) =>
      fail('quarantined', `not extracted: extraction workers crashed or hung on this file ${attempts} times; it is tried again when it changes`);
    const q = this.deps.quarantine?.begin(f);
    if (q?.verdict === 'quarantined') {
      done();
      return quarantined(q.attempts);
    }
    let out: GuardedOutcome;
    try {
      out = await this.deps.extract({ path: f.path, ext: f.ext, maxBytes: this.settings.maxFileBytes });
    } catch (e) {
      out = { ok: false, reason: 'crash', message: `extraction failed: ${(e as Error).message}` };
    }
    // Shutting down: the pool failed in-flight jobs on purpose; the file is retried next start.
    if (signal?.aborted) return;
    done();
    if (!(!out.ok && out.reason === 'deferred')) this.deferred.delete(f.path);
    if (out.ok) {
      this.deps.writer.add({ op: 'indexed', doc: { ...meta, hash: out.sha256, title: out.title, extractor: out.extractor, text: out.text, lang: out.lang, ...(out.stems ? { bodyStems: out.stems } : {}), ...(out.passages ? { passages: out.passages } : {}) } });
      summary.indexed++;
      summary.bytes += f.size;
      this.processEmitter.fire({ outcome: 'indexed', bytes: f.size });
      return;
    }
    if (out.reason === 'deferred') {
      // Announced only when new: a path already waiting is retried when its breaker closes.
      const fresh = !this.deferred.has(f.path);
      this.deferred.add(f.path);
      fail('deferred', out.message);
      if (fresh) this.deferEmitter.fire(f.path);
      return;
    }
    if ('errno' in out && out.errno === 'ENOENT') {
      // Deleted while queued: nothing to record; the delete is handled by the watcher or next pass.
      const state = this.deps.store.stateOf(f.path);
      if (state) this.deps.writer.add({ op: 'delete', id: state.id });
      this.deps.quarantine?.end(f.path);
      this.deps.retries?.remove(f.path);
      return;
    }
    if (out.reason === 'io-error' && 'errno' in out && isTransientFsError(out.errno) && this.deps.retries) {
      const r = this.deps.retries.schedule(f.path, out.errno ?? out.message);
      const message = r.scheduled
        ? `${out.message}; retry ${r.attempts} scheduled in ${Math.ceil((r.nextAt - this.now()) / 1000)} s`
        : `${out.message}; gave up after ${r.attempts} attempts (retried when the file changes)`;
      return fail('io-error', message);
    }
    if ('workerLost' in out && out.workerLost && this.deps.quarantine) {
      // A worker really died or hung on this file: only this counts towards its quarantine.
      const r = this.deps.quarantine.recordDeath(f);
      if (r.quarantined) {
        this.deps.retries?.remove(f.path);
        // This outcome keeps its own reason (metrics count what happened); from now on the file is
        // recorded as quarantined and not handed to a worker until it changes.
        this.deps.log.warn('file quarantined', { path: f.path, reason: out.reason, attempts: r.attempts, size: f.size });
        return fail(out.reason, `${out.message}; quarantined after ${r.attempts} worker crash(es) or hang(s): not tried again until it changes`);
      }
      // The worker may have been lost for another reason (killed from outside, the OOM killer, a
      // machine too loaded to meet the deadline): the file is tried again soon, from the persistent
      // retry queue, not left failed until the next full pass (an hour away, or never without
      // rescans). A file that really kills workers reaches its quarantine within a few retries.
      if (this.deps.retries) {
        const s = this.deps.retries.schedule(f.path, out.message);
        const next = s.scheduled ? `; retry ${s.attempts} scheduled in ${Math.ceil((s.nextAt - this.now()) / 1000)} s` : `; gave up after ${s.attempts} retries (retried when the file changes)`;
        return fail(out.reason, `${out.message}${next}`);
      }
    }
    // Any other outcome of these kinds (a pool that cannot start workers, an invalid reply) is not
    // retried from the queue: an earlier record would otherwise stay due and be retried at every tick.
    if (OWNS_RETRY_RECORD.has(out.reason) && out.reason !== 'io-error') this.deps.retries?.remove(f.path);
    const status = out.reason === 'unsupported' || out.reason === 'too-large' || out.reason === 'binary' ? 'skipped' : 'failed';
    return fail(out.reason, out.message, status);
  }

  /**
   * Applies changes the watcher reported: each path is looked at afresh (the event type is only a
   * hint), so missed or reordered events cannot leave the index wrong.
   */
  async applyChanges(paths: readonly string[], signal?: AbortSignal): Promise<ChangeSummary> {
    const started = this.now();
    const summary: ChangeSummary = { ...emptySummary(), walkedDirs: [], changed: 0 };
    const { store, writer } = this.deps;
    const deletedStates: DocState[] = [];
    const changedByRoot = new Map<number, FoundFile[]>();
    for (const p of new Set(paths)) {
      // Stopping (a shutdown, or a recovery replacing this service): the paths not looked at yet
      // are found by the next start's reconcile, so the stop does not wait for a whole burst.
      if (signal?.aborted) break;
      const root = this.rootOf(p);
      if (!root || p === root) continue;
      const rel = path.relative(root, p).split(path.sep).join('/');
      if (rel.split('/').some((seg, i, all) => this.filter.excluded(all.slice(0, i + 1).join('/'), seg))) continue;
      const rootId = store.ensureRoot(root);
      let st: fs.Stats | null = null;
      try {
        st = await fs.promises.lstat(p);
      } catch (e) {
        if (errnoCode(e) !== 'ENOENT' && errnoCode(e) !== 'ENOTDIR') continue;
      }
      if (st === null) {
        // Gone: a retry waiting for it would otherwise stay due (and be looked at every tick).
        this.deps.retries?.remove(p);
        const own = store.stateOf(p);
        if (own) deletedStates.push(own);
        // A removed folder: everything known below it is gone too.
        // (A loop, not a spread: a folder of 150,000 files would overflow the argument list.)
        for (const s of store.statesBelow(p)) deletedStates.push(s);
        continue;
      }
      const items: CrawlItem[] = [];
      if (st.isDirectory()) {
        summary.walkedDirs.push(p);
        for await (const it of crawl(p, { filter: this.filter, maxBytes: this.settings.maxFileBytes, ioTimeoutMs: this.settings.ioTimeoutMs })) items.push(it);
      } else {
        if (!this.filter.included(rel)) continue;
        items.push(classifyEntry(p, st, this.settings.maxFileBytes));
      }
      for (const item of items) {
        if (item.kind === 'unreadable-dir') continue;
        const state = store.stateOf(item.path);
        if (state && this.isCurrent(state, item)) continue;
        if (item.kind === 'skip') this.recordSkip(rootId, item, summary);
        else if (!this.deps.supports(item.ext)) this.recordUnsupported(rootId, item, summary);
        else {
          const list = changedByRoot.get(rootId) ?? [];
          list.push(item);
          changedByRoot.set(rootId, list);
        }
      }
    }
    const missing = [...new Map(deletedStates.map((s) => [s.id, s])).values()];
    for (const [rootId, files] of changedByRoot) {
      const rest = this.matchRenames(rootId, files, missing, summary);
      changedByRoot.set(rootId, rest);
    }
    for (const gone of missing) {
      writer.add({ op: 'delete', id: gone.id });
      summary.deleted++;
    }
    // With the shutdown signal: outcomes of jobs the stopping pool failed on purpose are not recorded.
    for (const [rootId, files] of changedByRoot) await this.extractAll(rootId, files, summary, signal);
    writer.flush();
    summary.seconds = (this.now() - started) / 1000;
    summary.changed = summary.indexed + summary.skipped + summary.failed + summary.deleted + summary.renamed;
    return summary;
  }
}

/**
 * The files in crawl order, with the heavy ones (PDFs) spread evenly among the others. Only one
 * worker takes heavy files (extract/pool.ts, for memory); crawled in folder order, a folder of
 * PDFs would fill every extraction slot while the other workers wait.
 */
export function spreadOut<T>(files: readonly T[], isHeavy: (f: T) => boolean): T[] {
  const heavy: T[] = [];
  const light: T[] = [];
  for (const f of files) (isHeavy(f) ? heavy : light).push(f);
  if (heavy.length === 0 || light.length === 0) return [...files];
  const out: T[] = [];
  let h = 0;
  for (let i = 0; i < light.length; i++) {
    // Heavy file number h goes after light file number floor(h * light / heavy).
    while (h < heavy.length && Math.floor((h * light.length) / heavy.length) <= i) out.push(heavy[h++]!);
    out.push(light[i]!);
  }
  while (h < heavy.length) out.push(heavy[h++]!);
  return out;
}
