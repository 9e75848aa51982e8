import { OwletError, owletError } from '../../shared/errors.js';

/**
 * Gives up waiting on an operation that can hang (a stat or directory listing on a network share
 * that went away). The underlying call cannot be cancelled; we stop waiting and move on.
 */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  if (!Number.isFinite(ms) || ms <= 0) return p;
  let timer: NodeJS.Timeout;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(owletError('OWL_ERR_FS', { what, ms }, { detail: { errno: 'ETIMEDOUT' } })), ms);
    timer.unref();
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}
