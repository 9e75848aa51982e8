import os from 'node:os';
import type { WorkerLauncher } from '../extract/pool.js';
import type { Logger } from '../log/logger.js';

/**
 * Indexing yields to the user: extraction workers run at a low scheduling priority (the OS gives
 * the CPU to anything interactive first, including this service's searches), and an optional
 * CPU share caps how much of the wall time each extraction slot may be busy.
 */
export const WORKER_NICE = 10;

export function lowPriority(launch: WorkerLauncher, log?: Logger): WorkerLauncher {
  return () => {
    const h = launch();
    if (h.pid !== undefined) {
      try {
        os.setPriority(h.pid, WORKER_NICE);
      } catch (e) {
        log?.debug('could not lower worker priority', { error: e });
      }
    }
    return h;
  };
}

/** Runs `job`, then idles so the slot is busy at most `share` of the time (share 1: no wait). */
export async function throttled<T>(job: () => Promise<T>, share: number, now: () => number = () => performance.now()): Promise<T> {
  if (share >= 1) return job();
  const t0 = now();
  const out = await job();
  const busy = now() - t0;
  const idle = (busy * (1 - share)) / share;
  if (idle > 1) await new Promise((r) => setTimeout(r, Math.min(idle, 60_000)));
  return out;
}
