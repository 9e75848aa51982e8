import CircuitBreaker from 'opossum';
import { formatOf } from '../extract/formats.js';
import type { ExtractJob, ExtractOutcome } from '../extract/pool.js';
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
  private readonly breakers = new Map<string, CircuitBreaker<[ExtractJob], ExtractOutcome>>();
  private readonly openedAt = new Map<string, number>();
  private readonly changeEmitter = new Emitter<BreakerChange>();
  /** Fired when a kind's breaker opens, goes half-open (time for a probe) or closes (drain the deferred). */
  readonly onDidChange: Event<BreakerChange> = this.changeEmitter.event;

  private readonly gates = new Map<string, Gate>();

  /**
   * `inFlightPerKind`: calls of one kind fired into its breaker at once. Opossum rates errors as
   * failures over calls fired, so jobs queued behind the pool (the indexer keeps a wide window so
   * PDFs waiting for their one worker leave work for the others) would dilute a kind that always
   * hangs, and its breaker would open only after many more timeouts. Gated, the rate is over calls
   * that reached a worker or were about to.
   */
  constructor(
    private readonly extract: (job: ExtractJob) => Promise<ExtractOutcome>,
    private readonly settings: BreakerSettings,
    private readonly now: () => number = Date.now,
    private readonly inFlightPerKind = Number.POSITIVE_INFINITY,
  ) {}

  kindOf(ext: string): string {
    return formatOf(ext) ?? 'other';
  }

  private breaker(kind: string): CircuitBreaker<[ExtractJob], ExtractOutcome> {
    let b = this.breakers.get(kind);
    if (b) return b;
    b = new CircuitBreaker(
      async (job: ExtractJob) => {
        const out = await this.extract(job);
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
    let gate = this.gates.get(kind);
    if (!gate) this.gates.set(kind, (gate = new Gate(this.inFlightPerKind)));
    return gate.run(() => this.fire(kind, job));
  }

  private async fire(kind: string, job: ExtractJob): Promise<GuardedOutcome> {
    try {
      return await this.breaker(kind).fire(job);
    } catch (e) {
      if (e instanceof CostlyFailure) return e.outcome;
      // Rejected without running: the breaker is open (or its half-open probe is in flight).
      return {
        ok: false,
        reason: 'deferred',
        message: `${kind.toUpperCase()} extraction is paused after repeated failures of that kind; this file is retried automatically when it recovers`,
      };
    }
  }

  state(kind: string): BreakerState {
    const b = this.breakers.get(kind);
    if (!b) return 'closed';
    return b.opened ? 'open' : b.halfOpen ? 'half-open' : 'closed';
  }

  snapshot(): BreakerSnapshot[] {
    return [...this.breakers.entries()].map(([name, b]) => {
      const s = b.stats;
      return { name, state: this.state(name), failures: s.failures, successes: s.successes, rejects: s.rejects, openedAt: this.openedAt.get(name) ?? null };
    });
  }

  shutdown(): void {
    for (const b of this.breakers.values()) b.shutdown();
  }
}

/** At most `limit` calls at once; the others wait in arrival order. */
class Gate {
  private active = 0;
  private readonly waiters: (() => void)[] = [];
  constructor(private readonly limit: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    while (this.active >= this.limit) await new Promise<void>((r) => this.waiters.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiters.shift()?.();
    }
  }
}
