import type { StatusReport } from '../../src/shared/api.js';
import type { ServiceApi } from '../../src/indexer/http/contract.js';

/** A service that answers every call with nothing (ready, idle, no hits); tests override what they watch. */
export function quietApi(over: Partial<ServiceApi> = {}): ServiceApi {
  return {
    isReady: () => true,
    status: () => ({ state: 'idle' }) as StatusReport,
    search: () => ({ total: 0, hits: [] }),
    problems: () => [],
    pause: () => {},
    resume: () => {},
    rescan: async () => {},
    ...over,
  };
}
