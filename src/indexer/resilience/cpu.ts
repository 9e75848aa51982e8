import os from 'node:os';
import type { WorkerLauncher } from '../extract/pool.js';
import type { Logger } from '../log/logger.js';

/**
 * Indexing yields to the user: extraction workers run at a low scheduling priority (the OS gives
 * the CPU to anything interactive first, including this service's searches). An optional CPU share
 * (resilience.cpuShare) also caps how much of the wall time each worker may be busy: the pool rests
 * a worker after each job (extract/pool.ts), where the time a job really ran is known.
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
