import type { ProblemFile, SearchResult, StatusReport } from '../../shared/api.js';
import { owletError } from '../../shared/errors.js';
import { candidateKeys } from '../store/data-key.js';
import { DisposableStore, Emitter, type Disposable } from '../../shared/event.js';
import type { Config } from '../config/schema.js';
import type { Processed } from '../index/indexer.js';
import type { WriteOp } from '../index/writer.js';
import type { Logger } from '../log/logger.js';
import type { BreakerChange } from '../resilience/breakers.js';
import type { DocumentPreview } from './preview.js';
import type { Current, IndexService, NotReadyError, StatusNote, StatusSource } from './index-service.js';
import type { OwletService } from './service.js';
import type { ProblemGroup } from '../store/documents.js';
import { notOpenStatus, withNotes } from './status.js';
import { PauseSchedule, realPauseTimers, type PauseTimers } from './pause-schedule.js';
import { PauseStore } from './pause-store.js';

export interface ServiceHostOptions {
  dataDir: string;
  log: Logger;
  /**
   * Builds a service on the index as it is on disk now. `onCorrupt` must reach openIndex
   * (ServiceOptions.onCorrupt): the host re-emits it as onDidDetectCorruption.
   */
  create: (hooks: { onCorrupt: (e: unknown) => void }) => OwletService;
  /** The clock of timed pauses (tests). */
  pauseTimers?: PauseTimers;
}

const NOT_READY_MESSAGE = 'the index is being recovered; try again in a moment';

function notReady(message = NOT_READY_MESSAGE): NotReadyError {
  return owletError('OWL_ERR_NOT_READY', { reason: message }) as NotReadyError;
}

/**
 * The service host: the one object that owns the running OwletService. It opens it, starts and
 * stops it, and swaps it for a new one when recovery or a restore replaced the database file.
 * It knows nothing about why a swap happens: recovery and backups (higher layers) drive it
 * through open / detach / install and add their notes to the status through addStatusSource.
 *
 *   (none) ──open()──▶ opened ──start()──▶ running ──detach()──▶ (none) ──install(svc)──▶ running
 *                                                   (stops the old one)   (starts it, fires onDidSwap)
 *
 * Callers hold the host as an IndexService. Events are re-emitted from whichever service is
 * current, so listeners registered once survive every swap.
 */
export class ServiceHost implements IndexService {
  private svc: OwletService | null = null;
  private lastStatus: StatusReport | null = null;
  private lastConfig: Config | null = null;
  private lastKey: Buffer | null = null;
  private started = false;
  private stopped = false;
  private notReadyMessage = NOT_READY_MESSAGE;
  /** Subscriptions on the current service's parts, dropped when it is detached. */
  private wiring = new DisposableStore();
  private readonly sources = new Set<StatusSource>();
  private readonly onError = (e: unknown) => this.o.log.warn('an event listener failed', { error: e });
  private readonly swapEmitter = new Emitter<OwletService>(this.onError);
  private readonly processEmitter = new Emitter<Processed>(this.onError);
  private readonly commitEmitter = new Emitter<readonly WriteOp[]>(this.onError);
  private readonly breakerEmitter = new Emitter<BreakerChange>(this.onError);
  private readonly corruptEmitter = new Emitter<unknown>(this.onError);
  private readonly detachEmitter = new Emitter<string>(this.onError);
  readonly onDidSwap = this.swapEmitter.event;
  readonly onDidProcess = this.processEmitter.event;
  readonly onDidCommit = this.commitEmitter.event;
  readonly onDidChangeBreaker = this.breakerEmitter.event;
  readonly onDidDetectCorruption = this.corruptEmitter.event;
  /** The current service was taken away for a recovery or a restore (with the not-ready message); onDidSwap follows if it is replaced. */
  readonly onDidDetach = this.detachEmitter.event;
  readonly dataDir: string;

  /** The automatic end of a timed user pause ("for 1 hour", "until tomorrow"). */
  private readonly pauseSchedule: PauseSchedule;
  /** The user's pause on disk: a restarted service stays paused (pause-store.ts). */
  private readonly pauseStore: PauseStore;

  constructor(private readonly o: ServiceHostOptions) {
    this.dataDir = o.dataDir;
    this.pauseStore = new PauseStore(o.dataDir);
    this.pauseSchedule = new PauseSchedule(() => {
      this.forgetPause();
      try {
        this.svc?.resume();
        this.o.log.info('timed pause ended; indexing resumed');
      } catch (e) {
        this.o.log.warn('resuming after a timed pause failed', { error: e });
      }
    }, o.pauseTimers);
  }

  /** A host around a service built elsewhere (one-shot commands, tests): no recovery, no swap. */
  static around(svc: OwletService, log: Logger): ServiceHost {
    const host = new ServiceHost({ dataDir: svc.dataDir, log, create: () => svc });
    host.adopt(svc);
    return host;
  }

  // ── what callers see ─────────────────────────────────────────────────────────────────────

  current(): Current {
    return this.svc ? { ok: true, service: this.svc } : { ok: false, error: notReady(this.notReadyMessage) };
  }

  get config(): Config {
    const c = this.svc?.config ?? this.lastConfig;
    if (!c) throw owletError('OWL_ERR_NOT_READY', { reason: 'the index has not been opened yet' });
    return c;
  }

  indexKey(): Buffer | null {
    return this.svc?.key ?? this.lastKey;
  }

  candidateKeys(): Buffer[] {
    const secrets = this.svc?.secrets;
    return secrets ? candidateKeys(secrets) : [];
  }

  isReady(): boolean {
    return this.svc?.isReady() ?? false;
  }

  status(): StatusReport {
    const svc = this.svc;
    let s: StatusReport;
    let extra: StatusNote[] = [];
    if (svc) {
      s = this.lastStatus = svc.status();
    } else {
      // Never throws (the host process's heartbeat asks for it): the last status, marked as recovering.
      s = { ...(this.lastStatus ?? notOpenStatus(this.dataDir)), ready: false };
      extra = [{ component: 'index-recovery', message: 'the index was damaged and is being recovered; search answers again in a moment' }];
    }
    const notes: StatusNote[] = [];
    for (const src of this.sources) {
      try {
        notes.push(...src(s));
      } catch (e) {
        this.o.log.warn('a status source failed', { error: e });
      }
    }
    const out = withNotes(s, [...notes, ...extra]);
    const until = this.pauseSchedule.until;
    if (until !== null && out.pausedBecause.includes('user')) out.pausedUntil = new Date(until).toISOString();
    return svc ? out : { ...out, state: 'degraded' };
  }

  addStatusSource(source: StatusSource): Disposable {
    const s: StatusSource = (x) => source(x);
    this.sources.add(s);
    return { dispose: () => void this.sources.delete(s) };
  }

  private require(): OwletService {
    const c = this.current();
    if (!c.ok) throw c.error;
    return c.service;
  }

  search(q: string, limit: number, offset: number): SearchResult {
    return this.require().search(q, limit, offset);
  }

  problems(limit: number, offset: number): ProblemFile[] {
    return this.require().problems(limit, offset);
  }

  preview(requested: string): DocumentPreview {
    return this.require().preview(requested);
  }

  problemGroups(): ProblemGroup[] {
    return this.require().problemGroups();
  }

  problemsWithReason(reason: string, limit: number, offset: number): ProblemFile[] {
    return this.require().problemsWithReason(reason, limit, offset);
  }

  /** Skipped or failed files tried again now; returns the paths that were not such files. */
  retry(paths: readonly string[]): string[] {
    return this.require().retry(paths);
  }

  /**
   * A configuration saved to config.json takes effect in the running service (roots, exclusions,
   * CPU share, battery pause). A service opened later (recovery, restore) reads it from the file.
   */
  async applyConfig(next: Config): Promise<void> {
    this.lastConfig = next;
    await this.svc?.applyConfig(next);
  }

  /** Pauses indexing for the user; with `until` (ms since the epoch) it resumes by itself then. */
  pause(until?: number): void {
    this.require().pause();
    this.pauseSchedule.set(until ?? null);
    try {
      this.pauseStore.save({ until: until ?? null }, this.clock.now());
    } catch (e) {
      // Paused now all the same; only a restart would forget it.
      this.o.log.warn('the pause could not be saved; a restart would resume indexing', { error: e });
    }
  }

  resume(): void {
    this.require().resume();
    this.pauseSchedule.clear();
    this.forgetPause();
  }

  private get clock(): PauseTimers {
    return this.o.pauseTimers ?? realPauseTimers;
  }

  private forgetPause(): void {
    try {
      this.pauseStore.clear();
    } catch (e) {
      this.o.log.warn('the saved pause could not be removed', { error: e });
    }
  }

  /**
   * A service becoming current in a running host (start, or a swap after recovery or a restore)
   * takes the user's saved pause: paused until its time (then resumed by the schedule), or until
   * resumed. An ended or unreadable pause is dropped and indexing runs.
   */
  private restorePause(svc: OwletService): void {
    const p = this.pauseStore.load(this.clock.now());
    if (p.kind === 'paused') {
      svc.pause();
      this.pauseSchedule.set(p.until);
      this.o.log.info('indexing stays paused as the user asked', { until: p.until === null ? null : new Date(p.until).toISOString() });
    } else if (p.kind === 'expired') {
      this.forgetPause();
      this.o.log.info('the saved pause ended while the service was stopped; indexing runs');
    } else if (p.kind === 'unreadable' && p.keep) {
      // A read error may pass and a newer Owlet's file is its own: neither is deleted.
      this.o.log.warn('the saved pause cannot be read now and is kept; indexing runs', { reason: p.message });
    } else if (p.kind === 'unreadable') {
      this.forgetPause();
      this.o.log.warn('the saved pause was unreadable and is dropped; indexing runs', { reason: p.message });
    }
  }

  rescan(): Promise<void> {
    try {
      return this.require().rescan();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  // ── lifecycle (the composition and recovery drive these) ───────────────────────────────────

  /** Builds a service on the index as it is now; not current until install()/adopt(). Throws what opening throws. */
  open(): OwletService {
    const svc = this.o.create({ onCorrupt: (e) => this.corruptEmitter.fire(e) });
    this.lastKey = svc.key;
    this.lastConfig = svc.config;
    return svc;
  }

  /** Makes `svc` current without starting it (before start(): the first service). */
  adopt(svc: OwletService): void {
    this.wire(svc);
    this.svc = svc;
    this.lastKey = svc.key;
    this.lastConfig = svc.config;
  }

  private wire(svc: OwletService): void {
    this.wiring.dispose();
    this.wiring = new DisposableStore();
    this.wiring.add(svc.indexer.onDidProcess((e) => this.processEmitter.fire(e)));
    this.wiring.add(svc.writer.onDidCommit((e) => this.commitEmitter.fire(e)));
    this.wiring.add(svc.breakers.onDidChange((e) => this.breakerEmitter.fire(e)));
  }

  /** Starts the current service (first reconcile, watcher). */
  async start(): Promise<void> {
    this.started = true;
    if (this.svc) this.restorePause(this.svc);
    await this.svc?.start();
  }

  get running(): boolean {
    return this.started && !this.stopped;
  }

  /**
   * Takes the current service away (callers get OWL_ERR_NOT_READY with `message`) and stops it.
   * A damaged file may refuse the final checkpoint: it is closed either way.
   */
  async detach(message = NOT_READY_MESSAGE): Promise<void> {
    const old = this.svc;
    this.svc = null;
    this.notReadyMessage = message;
    this.wiring.dispose();
    if (old) this.detachEmitter.fire(message);
    await this.stopQuietly(old);
  }

  /** Stops a service that is not (or no longer) current, closing its database whatever happens. */
  async stopQuietly(svc: OwletService | null): Promise<void> {
    if (!svc) return;
    try {
      await svc.stop();
    } catch (e) {
      this.o.log.warn('stopping the damaged index reported an error', { error: e });
      svc.forceClose();
    }
  }

  /** Makes `svc` current; if the host is running, starts it and tells onDidSwap listeners. */
  async install(svc: OwletService): Promise<void> {
    this.adopt(svc);
    if (!this.running) return;
    this.restorePause(svc);
    await svc.start();
    this.swapEmitter.fire(svc);
  }

  /** Stops the current service; the host answers "not ready" from then on. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.pauseSchedule.clear();
    const svc = this.svc;
    this.svc = null;
    this.notReadyMessage = 'the service has stopped';
    this.wiring.dispose();
    await svc?.stop();
  }
}
