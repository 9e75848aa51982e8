/**
 * Which file-system errors are worth another try, and when. Transient errors (a locked file, a
 * busy network share, too many open files) are retried with exponential backoff and full jitter
 * (a random delay between 0 and the exponential cap, so many failing files do not retry in step);
 * permanent ones (the file is gone, we may not read it) are recorded once and not retried.
 */
export const TRANSIENT_ERRNOS = new Set(['EBUSY', 'EAGAIN', 'EWOULDBLOCK', 'EMFILE', 'ENFILE', 'ETIMEDOUT', 'EINTR', 'ESTALE', 'EIO', 'EDEADLK', 'ENOLCK']);
export const PERMANENT_ERRNOS = new Set(['ENOENT', 'EACCES', 'EPERM', 'EISDIR', 'ENOTDIR', 'ELOOP', 'ENAMETOOLONG']);

export function isTransientFsError(errno: string | undefined): boolean {
  return errno !== undefined && TRANSIENT_ERRNOS.has(errno);
}

export interface RetryPolicy {
  maxAttempts: number;
  baseMs: number;
  maxMs: number;
}

/** Full jitter: uniform in [0, min(maxMs, baseMs * 2^(attempt-1))]. `attempt` counts from 1. */
export function backoffDelay(attempt: number, p: Pick<RetryPolicy, 'baseMs' | 'maxMs'>, random: () => number = Math.random): number {
  const cap = Math.min(p.maxMs, p.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * cap);
}
