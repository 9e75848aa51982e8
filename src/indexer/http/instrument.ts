import { performance } from 'node:perf_hooks';
import { isOwletError } from '../../shared/errors.js';
import type { ServiceApi } from './contract.js';

export type SearchOutcome = 'ok' | 'invalid' | 'error';

/** Where search timings go (the metrics collector); `enabled: false` means nobody is listening. */
export interface SearchObserver {
  readonly enabled: boolean;
  observeSearch(ms: number, outcome: SearchOutcome): void;
}

/**
 * The HTTP layer's view of the service with searches timed and counted. Without an observer, or
 * with monitoring off, it is the service itself: no wrapper, no cost.
 */
export function instrument(api: ServiceApi, observer: SearchObserver | undefined): ServiceApi {
  if (!observer?.enabled) return api;
  return {
    isReady: () => api.isReady(),
    status: () => api.status(),
    problems: (l, o) => api.problems(l, o),
    pause: (until) => api.pause(until),
    resume: () => api.resume(),
    rescan: () => api.rescan(),
    search: (q, limit, offset) => {
      const t0 = performance.now();
      try {
        const r = api.search(q, limit, offset);
        observer.observeSearch(performance.now() - t0, 'ok');
        return r;
      } catch (e) {
        observer.observeSearch(performance.now() - t0, isOwletError(e) && e.code === 'OWL_ERR_QUERY_INVALID' ? 'invalid' : 'error');
        throw e;
      }
    },
  };
}
