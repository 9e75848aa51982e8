import CircuitBreaker from 'opossum';
import { formatOf } from '../extract/formats.js';
import { NOT_STARTED, type ExtractJob, type ExtractOutcome, type NotStarted } from '../extract/pool.js';
import { Emitter, type Event } from '../../shared/event.js';

/**
 * One circuit breaker per extractor kind (pdf, docx, html, …). When one kind keeps failing in a
 * way that costs resources (timeouts, crashed or memory-killed workers), its breaker opens and
 * files of that kind are deferred instead of burning CPU; after `resetTimeoutMs` one probe is let
 * through (half-open) and a success closes the breaker again. A file's own parse error is not the
 * extractor's failure and does not count. Other kinds keep flowing.
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

export type GuardedOutcome = ExtractOutcome | { ok: false; reason: 'deferred'; message: string };

export interface BreakerSettings {
  errorThresholdPercentage: number;
  volumeThreshold: number;
  resetTimeoutMs: number;
  rollingWindowMs: number;
}

export interface BreakerSnapshot {
  name: string;
  state: BreakerState;
  failures: number;
  successes: number;
  rejects: number;
  openedAt: number | null;
}

const COSTLY = new Set(['timeout', 'crash', 'memory']);

class CostlyFailure extends Error {
  constructor(readonly outcome: ExtractOutcome) {
    super(outcome.ok ? 'ok' : outcome.message);
  }
}

export interface BreakerChange {
  kind: string;
  state: BreakerState;
}

export class ExtractorBreakers {
  private readonly breakers = new Map<string, CircuitBreaker<[ExtractOutcome], ExtractOutcome>>();
  private readonly openedAt = new Map<string, number>();
  private readonly changeEmitter = new Emitter<BreakerChange>();
  /** Fired when a kind's breaker opens, goes half-open (time for a probe) or closes (drain the deferred). */
  readonly onDidChange: Event<BreakerChange> = this.changeEmitter.event;
  /** Kinds whose half-open probe is running: while it does, the kind's other files are deferred. */
  private readonly probing = new Set<string>();
  /** Files deferred because their kind's breaker was open (or probing), per kind. */
  private readonly rejected = new Map<string, number>();

  /**
   * `extract` runs one file; it asks `mayStart` again when a worker is about to take the file (the
   * pool's ExtractOptions), since a file may wait in the pool's queue while its breaker opens.
   */
  constructor(
    private readonly extract: (job: ExtractJob, mayStart: () => boolean) => Promise<ExtractOutcome | NotStarted>,
    private readonly settings: BreakerSettings,
    private readonly now: () => number = Date.now,
  ) {}

  kindOf(ext: string): string {
    return formatOf(ext) ?? 'other';
  }

  /**
   * The breaker is told each outcome when its file settles, not when the file is handed to the
   * pool: opossum rates failures over the calls it was told of, and the indexer keeps many files
   * queued in the pool so that the workers never wait for this process between two batches.
   * Counted when queued, files still waiting in line diluted a kind that always hangs, and its
   * breaker opened far too late. (A gate of two files per worker and kind in the pool once kept
   * that count honest; it left the workers idle 13% of a first index.)
   */
  private breaker(kind: string): CircuitBreaker<[ExtractOutcome], ExtractOutcome> {
    let b = this.breakers.get(kind);
    if (b) return b;
    b = new CircuitBreaker(
      async (out: ExtractOutcome) => {
        if (!out.ok && COSTLY.has(out.reason)) throw new CostlyFailure(out);
        return out;
      },
      {
        name: kind,
        timeout: false, // the pool enforces per-file deadlines itself
        errorThresholdPercentage: this.settings.errorThresholdPercentage,
        volumeThreshold: this.settings.volumeThreshold,
        resetTimeout: this.settings.resetTimeoutMs,
        rollingCountTimeout: this.settings.rollingWindowMs,
        allowWarmUp: false,
      },
    );
    b.on('open', () => {
      this.openedAt.set(kind, this.now());
      this.changeEmitter.fire({ kind, state: 'open' });
    });
    b.on('halfOpen', () => this.changeEmitter.fire({ kind, state: 'half-open' }));
    b.on('close', () => {
      this.openedAt.delete(kind);
      this.changeEmitter.fire({ kind, state: 'closed' });
    });
    this.breakers.set(kind, b);
    return b;
  }

  async guard(job: ExtractJob): Promise<GuardedOutcome> {
    const kind = this.kindOf(job.ext);
    const b = this.breaker(kind);
    let probe = false;
    const mayStart = (): boolean => {
      if (probe || b.closed) return true;
      // Half-open: one file tries the kind again, the others wait for its outcome (opossum's rule).
      if (b.halfOpen && !this.probing.has(kind)) {
        this.probing.add(kind);
        probe = true;
        return true;
      }
      return false;
    };
    if (!mayStart()) return this.deferred(kind);
    try {
      const out = await this.extract(job, mayStart);
      if (out === NOT_STARTED) return this.deferred(kind);
      return await this.record(b, out as ExtractOutcome, probe);
    } finally {
      if (probe) this.probing.delete(kind);
    }
  }

  /** Tells the breaker how a file that ran went; returns the file's outcome as it was. */
  private async record(b: CircuitBreaker<[ExtractOutcome], ExtractOutcome>, out: ExtractOutcome, probe: boolean): Promise<ExtractOutcome> {
    // Half-open, only the probe's outcome decides; open (it opened while this file ran), nothing more is needed.
    if (!b.closed && !probe) return out;
    try {
      return await b.fire(out);
    } catch {
      // A costly failure (counted by the breaker), or a breaker that opened meanwhile: the file's
      // own outcome stands either way.
      return out;
    }
  }

  private deferred(kind: string): GuardedOutcome {
    this.rejected.set(kind, (this.rejected.get(kind) ?? 0) + 1);
    return {
      ok: false,
      reason: 'deferred',
      message: `${kind.toUpperCase()} extraction is paused after repeated failures of that kind; this file is retried automatically when it recovers`,
    };
  }

  state(kind: string): BreakerState {
    const b = this.breakers.get(kind);
    if (!b) return 'closed';
    // Shut down, a breaker refuses every file: to a caller it is open, never closed.
    if (b.isShutdown) return 'open';
    return b.opened ? 'open' : b.halfOpen ? 'half-open' : 'closed';
  }

  snapshot(): BreakerSnapshot[] {
    return [...this.breakers.entries()].map(([name, b]) => {
      const s = b.stats;
      return { name, state: this.state(name), failures: s.failures, successes: s.successes, rejects: this.rejected.get(name) ?? 0, openedAt: this.openedAt.get(name) ?? null };
    });
  }

  shutdown(): void {
    for (const b of this.breakers.values()) b.shutdown();
  }
}
