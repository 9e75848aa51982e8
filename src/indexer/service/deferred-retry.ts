import type { BreakerState } from '../resilience/breakers.js';

export interface DeferredRetryDeps {
  /** Paths deferred by an open breaker and not yet retried (the indexer's set). */
  waiting: () => Iterable<string>;
  /** The extractor kind of a path (its breaker's name). */
  kindOf: (path: string) => string;
  /** The state of a kind's breaker now. */
  stateOf: (kind: string) => BreakerState;
  /** Runs these paths through the indexer again. */
  retry: (paths: string[]) => void;
  /** Runs `fn` once the current turn is over (tests run it by hand). */
  later?: (fn: () => void) => void;
}

/**
 * Retries the files an open extractor breaker deferred: one file of the kind, as its probe, when
 * the breaker goes half-open; all of them when it closes.
 *
 * A file can be recorded as deferred just after its kind's breaker closed: a worker refused it
 * while the probe still held the kind, and the probe's success closed the breaker and drained the
 * waiting files before that refusal was recorded. Such a file is retried as soon as it is recorded,
 * instead of at the next full pass (hourly by default). The pool refuses every queued file of the
 * kind in one go, so these come in bursts: the ones recorded in one turn are retried together.
 */
export class DeferredRetry {
  private late: string[] = [];
  private readonly later: (fn: () => void) => void;

  constructor(private readonly deps: DeferredRetryDeps) {
    this.later = deps.later ?? ((fn) => void setImmediate(fn));
  }

  breakerChanged(kind: string, state: BreakerState): void {
    if (state === 'open') return;
    const waiting = [...this.deps.waiting()].filter((p) => this.deps.kindOf(p) === kind);
    const batch = state === 'half-open' ? waiting.slice(0, 1) : waiting;
    if (batch.length > 0) this.deps.retry(batch);
  }

  /** Called as the indexer records a path newly deferred. */
  deferred(path: string): void {
    if (this.deps.stateOf(this.deps.kindOf(path)) !== 'closed') return;
    this.late.push(path);
    if (this.late.length > 1) return;
    this.later(() => {
      const batch = this.late;
      this.late = [];
      this.deps.retry(batch);
    });
  }
}
