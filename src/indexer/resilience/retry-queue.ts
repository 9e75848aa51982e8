import type { Db } from '../store/db.js';
import { RetryRows, type RetryEntry } from '../store/retry-queue.js';
import { backoffDelay, type RetryPolicy } from './retry-policy.js';

export type { RetryEntry };

export type ScheduleResult = { scheduled: true; attempts: number; nextAt: number } | { scheduled: false; attempts: number };

/**
 * The persistent retry queue: rows in the index database, so a restart resumes the retries
 * instead of forgetting them. Time and randomness are injected (tests drive them).
 */
export class RetryQueue {
  private readonly rows: RetryRows;
  constructor(
    db: Db,
    private readonly policy: RetryPolicy,
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {
    this.rows = new RetryRows(db);
  }

  /** Records one more failed attempt; gives up (and forgets the path) after `maxAttempts`. */
  schedule(path: string, error: string): ScheduleResult {
    const attempts = (this.rows.attemptsOf(path) ?? 0) + 1;
    if (attempts > this.policy.maxAttempts) {
      this.rows.remove(path);
      return { scheduled: false, attempts: attempts - 1 };
    }
    const nextAt = this.now() + backoffDelay(attempts, this.policy, this.random);
    this.rows.upsert(path, attempts, nextAt, error);
    return { scheduled: true, attempts, nextAt };
  }

  attemptsOf(path: string): number {
    return this.rows.attemptsOf(path) ?? 0;
  }

  remove(path: string): void {
    this.rows.remove(path);
  }

  due(limit = 100): RetryEntry[] {
    return this.rows.due(this.now(), limit);
  }

  /** When the next retry is due, or null when the queue is empty. */
  nextDueAt(): number | null {
    return this.rows.nextDueAt();
  }

  size(): number {
    return this.rows.size();
  }
}
