import type { Db } from '../store/db.js';
import { backoffDelay, type RetryPolicy } from './retry-policy.js';

export interface RetryEntry {
  path: string;
  attempts: number;
  nextAt: number;
  lastError: string;
}

export type ScheduleResult = { scheduled: true; attempts: number; nextAt: number } | { scheduled: false; attempts: number };

/**
 * The persistent retry queue: rows in the index database, so a restart resumes the retries
 * instead of forgetting them. Time and randomness are injected (tests drive them).
 */
export class RetryQueue {
  private readonly q;
  constructor(
    db: Db,
    private readonly policy: RetryPolicy,
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {
    this.q = {
      get: db.prepare<[string], { attempts: number }>('SELECT attempts FROM retry_queue WHERE path = ?'),
      upsert: db.prepare(
        `INSERT INTO retry_queue (path, attempts, next_at, last_error) VALUES (?, ?, ?, ?)
         ON CONFLICT(path) DO UPDATE SET attempts = excluded.attempts, next_at = excluded.next_at, last_error = excluded.last_error`,
      ),
      remove: db.prepare('DELETE FROM retry_queue WHERE path = ?'),
      due: db.prepare<[number, number], RetryEntry>(
        'SELECT path, attempts, next_at AS nextAt, last_error AS lastError FROM retry_queue WHERE next_at <= ? ORDER BY next_at LIMIT ?',
      ),
      next: db.prepare<[], { nextAt: number | null }>('SELECT min(next_at) AS nextAt FROM retry_queue'),
      size: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM retry_queue'),
    };
  }

  /** Records one more failed attempt; gives up (and forgets the path) after `maxAttempts`. */
  schedule(path: string, error: string): ScheduleResult {
    const attempts = (this.q.get.get(path)?.attempts ?? 0) + 1;
    if (attempts > this.policy.maxAttempts) {
      this.q.remove.run(path);
      return { scheduled: false, attempts: attempts - 1 };
    }
    const nextAt = this.now() + backoffDelay(attempts, this.policy, this.random);
    this.q.upsert.run(path, attempts, nextAt, error);
    return { scheduled: true, attempts, nextAt };
  }

  attemptsOf(path: string): number {
    return this.q.get.get(path)?.attempts ?? 0;
  }

  remove(path: string): void {
    this.q.remove.run(path);
  }

  due(limit = 100): RetryEntry[] {
    return this.q.due.all(this.now(), limit);
  }

  /** When the next retry is due, or null when the queue is empty. */
  nextDueAt(): number | null {
    return this.q.next.get()?.nextAt ?? null;
  }

  size(): number {
    return this.q.size.get()!.n;
  }
}
