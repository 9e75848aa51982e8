/** Limits on what one HTTP client may send or hold (defaults; config.json security.http overrides). */
export interface HttpLimits {
  /** Largest request body accepted. */
  bodyLimitBytes: number;
  /** Longest request target (path + query) accepted. */
  maxUrlChars: number;
  /** A client must finish sending headers within this (slowloris). */
  headersTimeoutMs: number;
  /** …and the whole request within this. */
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** Requests per client per window on expensive endpoints (search, preview, sign-in). */
  rateLimitMax: number;
  rateLimitWindowMs: number;
  /** Open connections at most (loopback: one user's dashboard and CLI); more are closed at once. */
  maxConnections: number;
  /** A connection that has not sent a complete request within this is closed (idle sockets). */
  idleConnectionMs: number;
}

export const DEFAULT_LIMITS: HttpLimits = {
  bodyLimitBytes: 64 * 1024,
  maxUrlChars: 4096,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  rateLimitMax: 600,
  rateLimitWindowMs: 60_000,
  maxConnections: 128,
  idleConnectionMs: 5_000,
};


/** The defaults with config.json's overrides on top. */
export function effectiveLimits(l: Partial<HttpLimits> | undefined): HttpLimits {
  return { ...DEFAULT_LIMITS, ...l };
}
