import type { Db } from './db.js';

/** One quarantine record: the file version a worker died on, and how many times it did. */
export interface AttemptRow {
  size: number;
  mtimeMs: number;
  attempts: number;
}

/**
 * The `extraction_attempts` table in index.db: worker deaths per file version. The policy (how many
 * deaths quarantine a file, what a new version means) is resilience/quarantine.ts; this is its SQL.
 */
export class QuarantineRows {
  private readonly q;
  constructor(db: Db) {
    this.q = {
      get: db.prepare<[string], AttemptRow>(
        'SELECT size, mtime_ms AS mtimeMs, attempts FROM extraction_attempts WHERE path = ?',
      ),
      upsert: db.prepare(
        `INSERT INTO extraction_attempts (path, size, mtime_ms, attempts, started_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime_ms = excluded.mtime_ms, attempts = excluded.attempts, started_at = excluded.started_at`,
      ),
      clear: db.prepare('DELETE FROM extraction_attempts WHERE path = ?'),
      count: db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM extraction_attempts WHERE attempts >= ?'),
    };
  }

  get(path: string): AttemptRow | undefined {
    return this.q.get.get(path);
  }

  upsert(path: string, size: number, mtimeMs: number, attempts: number, startedAt: number): void {
    this.q.upsert.run(path, size, mtimeMs, attempts, startedAt);
  }

  clear(path: string): void {
    this.q.clear.run(path);
  }

  /** Files with at least `attempts` recorded deaths. */
  countAtLeast(attempts: number): number {
    return this.q.count.get(attempts)!.n;
  }
}
