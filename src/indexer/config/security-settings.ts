import { z } from 'zod';
import { DEFAULT_LIMITS, type HttpLimits } from '../security/limits.js';

/** The `security` section of config.json. */
export const SecuritySettings = z
  .object({
    /**
     * Where the encryption and audit keys live. `auto`: the OS keychain when one answers, else a
     * key file readable only by you. The choice made at first run is remembered in keys/store.json.
     */
    secretStore: z.enum(['auto', 'keychain', 'key-file']).default('auto'),
    http: z
      .object({
        bodyLimitKb: z.number().int().min(1).max(10_240).default(DEFAULT_LIMITS.bodyLimitBytes / 1024),
        maxUrlChars: z.number().int().min(256).max(65_536).default(DEFAULT_LIMITS.maxUrlChars),
        headersTimeoutMs: z.number().int().min(500).max(600_000).default(DEFAULT_LIMITS.headersTimeoutMs),
        requestTimeoutMs: z.number().int().min(1_000).max(3_600_000).default(DEFAULT_LIMITS.requestTimeoutMs),
        /** Per client, on search, preview and sign-in. */
        rateLimitPerMinute: z.number().int().min(1).max(1_000_000).default(DEFAULT_LIMITS.rateLimitMax),
        /** A dashboard session ends after this long without a request. */
        sessionIdleMinutes: z.number().int().min(1).max(10_080).default(720),
        /** Open connections at most; idle sockets beyond it cannot starve the owner. */
        maxConnections: z.number().int().min(4).max(10_000).default(DEFAULT_LIMITS.maxConnections),
        /** A connection that sends no complete request within this is closed. */
        idleConnectionMs: z.number().int().min(100).max(600_000).default(DEFAULT_LIMITS.idleConnectionMs),
      })
      .strict()
      .default({
        bodyLimitKb: DEFAULT_LIMITS.bodyLimitBytes / 1024,
        maxUrlChars: DEFAULT_LIMITS.maxUrlChars,
        headersTimeoutMs: DEFAULT_LIMITS.headersTimeoutMs,
        requestTimeoutMs: DEFAULT_LIMITS.requestTimeoutMs,
        rateLimitPerMinute: DEFAULT_LIMITS.rateLimitMax,
        sessionIdleMinutes: 720,
        maxConnections: DEFAULT_LIMITS.maxConnections,
        idleConnectionMs: DEFAULT_LIMITS.idleConnectionMs,
      }),
    audit: z
      .object({
        /** The audit log starts a new file past this size; the chain continues across files. */
        maxFileKb: z.number().int().min(1).max(1_048_576).default(1024),
        /** Files kept; older ones are removed behind a MAC-ed checkpoint that keeps the chain verifiable. */
        keepFiles: z.number().int().min(2).max(100_000).default(32),
      })
      .strict()
      .default({ maxFileKb: 1024, keepFiles: 32 }),
  })
  .strict();

export type SecurityConfig = z.infer<typeof SecuritySettings>;

export function httpLimitsFrom(s: SecurityConfig['http']): HttpLimits {
  return {
    ...DEFAULT_LIMITS,
    bodyLimitBytes: s.bodyLimitKb * 1024,
    maxUrlChars: s.maxUrlChars,
    headersTimeoutMs: s.headersTimeoutMs,
    requestTimeoutMs: s.requestTimeoutMs,
    rateLimitMax: s.rateLimitPerMinute,
    rateLimitWindowMs: 60_000,
    maxConnections: s.maxConnections,
    idleConnectionMs: s.idleConnectionMs,
  };
}
