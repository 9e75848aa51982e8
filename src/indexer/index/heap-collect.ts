import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * A full V8 collection, when this process can run one (issue #14). The indexer's main process
 * turns every document's text into several large short-lived strings (the FTS body, the stems
 * column, compressed passages); V8 lets such garbage pile up to well over twice the live heap
 * before it collects, which was most of the indexer's peak resident memory. Collecting after
 * every few megabytes written keeps the heap near what is live, for a few milliseconds each.
 *
 * Hosts start the service with --expose-gc (host/run.ts SERVICE_EXEC_ARGV); `owlet index` and
 * other plain starts get the same function by turning the flag on at run time, which V8 allows
 * for this flag (it only installs `gc` in new contexts, hence the fresh context).
 */
export function fullCollector(): (() => void) | null {
  const own = (globalThis as { gc?: () => void }).gc;
  if (typeof own === 'function') return () => own();
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? () => (gc as () => void)() : null;
  } catch {
    return null;
  }
}

/**
 * Keeps V8's young generation at its initial size (2 MB) instead of letting it grow to 32 MB
 * under the indexer's allocation rate: `owlet index` cannot be started with
 * --max-semi-space-size (the hosts start the service with it), and the growth factor, unlike the
 * size limit, is read each time V8 considers growing. Measured on the small corpus: the indexer
 * process's peak fell from 164-213 MB to 127 MB.
 */
export function boundYoungGeneration(): void {
  try {
    v8.setFlagsFromString('--semi-space-growth-factor=1');
  } catch {
    // Not fatal: only memory is at stake.
  }
}

/**
 * Runs `collect` once at least `everyChars` characters of text have been written since the last
 * run; on the next turn of the event loop, so that no frame of the write (its batch) is still live.
 */
export class CollectEvery {
  private written = 0;
  private scheduled = false;
  /** Collections run so far (status and tests). */
  count = 0;

  constructor(
    private readonly everyChars: number,
    private readonly collect: () => void,
    private readonly later: (fn: () => void) => void = (fn) => void setImmediate(fn),
  ) {}

  wrote(chars: number): void {
    if (this.everyChars <= 0) return;
    this.written += chars;
    if (this.written < this.everyChars || this.scheduled) return;
    this.written = 0;
    this.scheduled = true;
    this.later(() => {
      this.scheduled = false;
      this.count++;
      this.collect();
    });
  }
}
