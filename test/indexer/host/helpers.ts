// Shared by the supervisor tests (not a test file itself).
import { errnoCode } from '../../../src/shared/errors.js';
import type { Clock } from '../../../src/indexer/host/supervisor.js';

/**
 * A manual clock: timers run only inside `advance(ms)`, in due order. Process events stay real,
 * so a test advances time, then waits (with a real, bounded `waitFor`) for what the child does.
 */
export class FakeClock implements Clock {
  private t = 0;
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; cb: () => void }>();

  now(): number {
    return this.t;
  }
  setTimeout(cb: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.t + Math.max(0, ms), cb });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  /** Moves time forward, running every timer that falls due (including ones armed meanwhile). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let due: [number, { at: number; cb: () => void }] | undefined;
      for (const entry of this.timers) {
        if (entry[1].at <= end && (!due || entry[1].at < due[1].at)) due = entry;
      }
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = due[1].at;
      due[1].cb();
    }
    this.t = end;
  }
  get pending(): number {
    return this.timers.size;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `predicate` with real time until it holds; throws after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** Rejects if `p` has not settled within `timeoutMs`. */
export async function within<T>(p: Promise<T>, timeoutMs: number, what = 'promise'): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    if (errnoCode(e) === 'ESRCH') return false;
    if (errnoCode(e) === 'EPERM') return true;
    throw e;
  }
}
