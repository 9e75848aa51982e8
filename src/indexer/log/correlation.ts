import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';

/**
 * Correlation ids: every log line written while handling one HTTP request or one indexing pass
 * carries the same `cid`, so a person can grep one request's or one batch's story out of the log.
 * AsyncLocalStorage carries the id across awaits without threading it through every call.
 */
const store = new AsyncLocalStorage<{ cid: string }>();

/** A short random id with a prefix saying what it correlates (req, scan, chg, batch). */
export function newCorrelationId(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

/** Runs `fn` (and everything it starts) with `cid` as the correlation id. */
export function withCorrelation<T>(cid: string, fn: () => T): T {
  return store.run({ cid }, fn);
}

/** The correlation id of the current request or indexing pass, if any. */
export function correlationId(): string | undefined {
  return store.getStore()?.cid;
}
