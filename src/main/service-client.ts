import type { StatusReport } from '../shared/api.js';

/**
 * The main process's client of the service API: every tray action goes through the same HTTP API
 * on loopback the dashboard and the CLI use, with the install's API token. No Electron here, so it
 * is tested against a real HTTP server on 127.0.0.1.
 */
export interface ServiceClientOptions {
  /** The service URL while it runs (the indexer host's `url`). */
  baseUrl: () => string | undefined;
  /** The API token (read from the data folder each call: it may be rotated). */
  token: () => string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

/** A failed call, with the service's error code when it answered with one. */
export class ServiceCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number | null,
  ) {
    super(message);
    this.name = 'ServiceCallError';
  }
}

export interface PauseAnswer {
  paused: boolean;
  until: string | null;
}

export interface ServiceClient {
  status(): Promise<StatusReport>;
  /** Pauses indexing; with `until` the service resumes by itself then. */
  pause(until?: Date): Promise<PauseAnswer>;
  resume(): Promise<PauseAnswer>;
  /** Takes a verified backup now (answers when it is verified). */
  backupNow(): Promise<{ id?: string; status?: string }>;
  /** Restores a verified backup under the running service (the updater's rollback). */
  restoreBackup(id: string): Promise<unknown>;
  /** A one-time sign-in link for the dashboard window (the page never sees the API token). */
  loginLink(): Promise<string>;
  /**
   * Whether `path` is a document of the index under the configured roots: the service's own check
   * (`GET /api/v1/preview`, symlinks resolved, `..` refused). Resolves with the path the service
   * stands behind; rejects with the service's refusal.
   */
  verifyDocument(path: string): Promise<string>;
}

export function createServiceClient(o: ServiceClientOptions): ServiceClient {
  const doFetch = o.fetch ?? globalThis.fetch;
  const timeoutMs = o.timeoutMs ?? 10_000;

  async function call<T>(method: 'GET' | 'POST', route: string, body?: unknown): Promise<T> {
    const base = o.baseUrl();
    if (!base) throw new ServiceCallError('OWL_ERR_SERVICE_NOT_RUNNING', 'the indexer is not running yet; try again in a moment', null);
    let res: Response;
    try {
      res = await doFetch(`${base}${route}`, {
        method,
        headers: { authorization: `Bearer ${o.token()}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'error',
      });
    } catch (e) {
      if (e instanceof ServiceCallError) throw e;
      throw new ServiceCallError('OWL_ERR_SERVICE_UNREACHABLE', `the indexer did not answer ${method} ${route}: ${(e as Error).message}`, null);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      throw new ServiceCallError('OWL_ERR_SERVICE_PROTOCOL', `${method} ${route} answered ${res.status} with something that is not JSON`, res.status);
    }
    if (!res.ok) {
      const err = (json as { error?: { code?: unknown; message?: unknown } }).error;
      throw new ServiceCallError(typeof err?.code === 'string' ? err.code : 'OWL_ERR_SERVICE_HTTP', typeof err?.message === 'string' ? err.message : `${method} ${route} answered ${res.status}`, res.status);
    }
    return json as T;
  }

  return {
    status: () => call<StatusReport>('GET', '/api/v1/status'),
    pause: (until) => call<PauseAnswer>('POST', '/api/v1/index/pause', until ? { until: until.toISOString() } : {}),
    resume: () => call<PauseAnswer>('POST', '/api/v1/index/resume', {}),
    backupNow: () => call('POST', '/api/v1/backups', { reason: 'manual' }),
    restoreBackup: (id) => call('POST', `/api/v1/backups/${encodeURIComponent(id)}/restore`, {}),
    async loginLink() {
      const r = await call<{ url?: unknown }>('POST', '/api/v1/auth/login-link', {});
      if (typeof r.url !== 'string') throw new ServiceCallError('OWL_ERR_SERVICE_PROTOCOL', 'the sign-in link answer has no url', 200);
      return r.url;
    },
    async verifyDocument(p) {
      const r = await call<{ path?: unknown }>('GET', `/api/v1/preview?path=${encodeURIComponent(p)}`);
      if (typeof r.path !== 'string') throw new ServiceCallError('OWL_ERR_SERVICE_PROTOCOL', 'the preview answer has no path', 200);
      return r.path;
    },
  };
}
