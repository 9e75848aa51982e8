import type { UpdateCardView } from '../../../shared/api.js';
import { owletError } from '../../../shared/errors.js';
import type { Route } from '../contract.js';

/** What the Updates card asks of a headless service (host/update-card.ts and `owlet run`'s control socket). */
export interface UpdateCardApi {
  view(): UpdateCardView;
  /** Asks the supervisor for a signed check; resolves when it answered. */
  check(): Promise<void>;
  /** Starts an apply or a rollback in the supervisor; it outlives this service (which it restarts). */
  start(action: 'apply' | 'rollback'): Promise<void>;
}

/**
 * The dashboard's Updates card in a browser (the app uses its preload instead):
 *   GET  /api/v1/update             the card's view
 *   POST /api/v1/update/check       check now; answers the new view
 *   POST /api/v1/update/apply       download, verify, install and restart (202: the service itself restarts)
 *   POST /api/v1/update/rollback    back to the kept previous version (202, same)
 * Refused (409) with the card's reason when updates are off here, nothing is available, or no
 * previous version is kept.
 */
export function updateRoutes(u: UpdateCardApi): Route[] {
  const refuseIfOff = (v: UpdateCardView) => {
    if (v.off) throw owletError('OWL_ERR_UPDATE_REFUSED', { reason: v.off.message });
    if (v.progress) throw owletError('OWL_ERR_UPDATE_REFUSED', { reason: `an update to ${v.progress.version} is already under way (${v.progress.phase})` });
  };
  return [
    { method: 'GET', url: '/api/v1/update', access: 'authenticated', handler: async () => u.view() },
    {
      method: 'POST',
      url: '/api/v1/update/check',
      access: 'authenticated',
      rateLimited: true,
      handler: async () => {
        refuseIfOff(u.view());
        await u.check();
        return u.view();
      },
    },
    {
      method: 'POST',
      url: '/api/v1/update/apply',
      access: 'authenticated',
      handler: async (_req, reply) => {
        const v = u.view();
        refuseIfOff(v);
        if (!v.available) throw owletError('OWL_ERR_UPDATE_REFUSED', { reason: 'no update is available: check for updates first' });
        await u.start('apply');
        return reply.code(202).send({ started: 'apply', version: v.available });
      },
    },
    {
      method: 'POST',
      url: '/api/v1/update/rollback',
      access: 'authenticated',
      handler: async (_req, reply) => {
        const v = u.view();
        refuseIfOff(v);
        if (!v.previous) throw owletError('OWL_ERR_UPDATE_REFUSED', { reason: 'no previous version is kept to roll back to' });
        await u.start('rollback');
        return reply.code(202).send({ started: 'rollback', version: v.previous });
      },
    },
  ];
}
