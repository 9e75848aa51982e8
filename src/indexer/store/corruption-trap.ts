import type Database from 'better-sqlite3-multiple-ciphers';
import { isCorruptionError } from './sqlite-errors.js';

type Fn = (...args: unknown[]) => unknown;

// The one classifier (sqlite-errors.ts) decides what counts as corruption.
export { isCorruptionError };

/**
 * Makes every statement on `db` report SQLITE_CORRUPT / SQLITE_NOTADB to `onCorrupt`, wherever it
 * surfaces (a search, a batch write, a reconcile, a maintenance task), then rethrow it unchanged:
 * callers keep handling errors as before, and recovery starts from one place. Installed by
 * openIndex before any statement is prepared. Cost: one extra call and try/catch per execution.
 */
export function trapCorruption(db: Database.Database, onCorrupt: (e: unknown) => void): void {
  const seen = (e: unknown) => {
    if (!isCorruptionError(e)) return;
    try {
      onCorrupt(e);
    } catch {
      // Reporting must never replace the original error.
    }
  };
  const guard = <T extends Fn>(fn: T): T =>
    function (this: unknown, ...args: unknown[]) {
      try {
        return fn.apply(this, args);
      } catch (e) {
        seen(e);
        throw e;
      }
    } as T;
  const target = db as unknown as Record<string, Fn>;
  const prepare = target.prepare!.bind(db);
  target.prepare = (...args: unknown[]) => {
    const stmt = prepare(...args) as Record<string, Fn>;
    for (const m of ['run', 'get', 'all']) stmt[m] = guard(stmt[m]!);
    const iterate = stmt.iterate!;
    stmt.iterate = function* (this: unknown, ...a: unknown[]) {
      try {
        yield* iterate.apply(this, a) as Iterable<unknown>;
      } catch (e) {
        seen(e);
        throw e;
      }
    };
    return stmt;
  };
  target.exec = guard(target.exec!.bind(db));
  target.pragma = guard(target.pragma!.bind(db));
  const transaction = target.transaction!.bind(db);
  target.transaction = (fn: unknown) => {
    const tx = transaction(fn) as Fn & Record<string, Fn>;
    const wrapped = guard(tx) as Fn & Record<string, Fn>;
    for (const v of ['deferred', 'immediate', 'exclusive']) wrapped[v] = guard(tx[v]!);
    wrapped.default = wrapped;
    return wrapped;
  };
}
