import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { SEARCH_MAX_LIMIT, SEARCH_MAX_OFFSET, type ProblemFile, type SearchResult, type StatusReport } from '../../shared/api.js';
import { OwletError, owletError } from '../../shared/errors.js';
import { describeIssues } from '../config/load.js';
import { BACKUP_ID_PATTERN } from '../backup/ids.js';

/**
 * The HTTP contract in one place: what the HTTP layer needs from the service, the shape of a
 * route, and every request schema the routes validate with. Route modules import from here and
 * never from server.ts, so the server → routes → server circle cannot come back.
 */

/** What the HTTP layer needs from the service; tests pass small fakes. */
export interface ServiceApi {
  isReady(): boolean;
  status(): StatusReport;
  search(q: string, limit: number, offset: number): SearchResult;
  problems(limit: number, offset: number): ProblemFile[];
  /** `until`: ms since the epoch when indexing resumes by itself (absent: until resumed). */
  pause(until?: number): void;
  resume(): void;
  rescan(): Promise<void>;
}

export type HttpMethod = 'GET' | 'POST';

/**
 * One row of the route table. `access: 'public'` routes are answered without credentials (the
 * auth guard reads this table, not a list of its own); `rateLimited` routes cost in proportion to
 * their input or guard a secret, so each client gets a budget for them.
 */
export interface Route {
  method: HttpMethod;
  url: string;
  access: 'public' | 'authenticated';
  rateLimited?: boolean;
  handler: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
}

/** Validates `value` (query, params or body) or throws OWL_ERR_ARG_INVALID naming the fields at fault. */
export function parseOr400<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value ?? {});
  if (!r.success) throw owletError('OWL_ERR_ARG_INVALID', { reason: describeIssues(r.error) });
  return r.data;
}

export const SearchParams = z
  .object({
    q: z.string().min(1, 'q is required').max(1000, 'q is longer than 1000 characters'),
    limit: z.coerce.number().int().min(1).max(SEARCH_MAX_LIMIT).default(20),
    offset: z.coerce.number().int().min(0).max(SEARCH_MAX_OFFSET).default(0),
  })
  .strict();

/** The longest timed pause (a week): longer is "until resumed", which says what it means. */
export const PAUSE_MAX_MS = 7 * 86_400_000;

/** `POST /api/v1/index/pause` body: no `until` pauses until resumed; `until` must lie 1 s to 7 days ahead. */
export function pauseBody(now: () => number = Date.now) {
  return z
    .object({
      until: z
        .iso.datetime({ offset: true, error: 'until: must be an ISO 8601 date and time, e.g. 2026-12-03T09:00:00Z' })
        .transform((s) => Date.parse(s))
        .refine((t) => t > now() + 999, 'until: must be in the future')
        .refine((t) => t <= now() + PAUSE_MAX_MS, 'until: at most 7 days ahead; pause without "until" to pause until resumed')
        .optional(),
    })
    .strict();
}

export const PageParams = z
  .object({
    limit: z.coerce.number().int().min(1).max(10_000).default(1000),
    offset: z.coerce.number().int().min(0).default(0),
  })
  .strict();

export const AlertListParams = z.object({ history: z.coerce.number().int().min(0).max(1000).default(50) }).strict();
export const AlertAckParams = z.object({ id: z.string().regex(/^[a-z0-9-]{1,100}$/, 'not an alert id') }).strict();

export const BackupIdParams = z.object({ id: z.string().regex(BACKUP_ID_PATTERN, 'not a backup id') }).strict();
export const BackupCreateBody = z.object({ reason: z.enum(['manual', 'pre-update']).default('manual') }).strict();

export const PreviewQuery = z.object({ path: z.string().min(1, 'path is required').max(4096, 'path is longer than 4096 characters') }).strict();

/** Folders and exclusions (the dashboard's first run and settings). */
export const RootBody = z.object({ path: z.string().min(1, 'path is required').max(4096, 'path is longer than 4096 characters') }).strict();
export const ExclusionBody = z.object({ pattern: z.string().min(1, 'pattern is required').max(500, 'pattern is longer than 500 characters') }).strict();
export const SettingsBody = z
  .object({ changes: z.record(z.string().max(100), z.unknown()).refine((c) => Object.keys(c).length > 0 && Object.keys(c).length <= 50, 'name between 1 and 50 settings to change') })
  .strict();

/** The problem list by reason, and files to try again. */
export const ProblemsQuery = z
  .object({
    reason: z.string().regex(/^[a-z-]{1,40}$/, 'not a reason').optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(50),
    offset: z.coerce.number().int().min(0).default(0),
  })
  .strict();
export const RetryBody = z.object({ paths: z.array(z.string().min(1).max(4096)).min(1, 'name at least one file').max(200, 'at most 200 files at a time') }).strict();

/** What the problems routes need from the service (the ServiceHost). */
export interface ProblemsApi {
  problemGroups(): { status: 'skipped' | 'failed'; reason: string; count: number }[];
  problemsWithReason(reason: string, limit: number, offset: number): ProblemFile[];
  problems(limit: number, offset: number): ProblemFile[];
  retry(paths: readonly string[]): string[];
}

export const LoginQuery = z.object({ code: z.string().max(200).optional() }).strict();

/** Chart ranges the time-series endpoint accepts, in seconds. */
export const TIMESERIES_RANGES = { '15m': 900, '1h': 3600, '6h': 6 * 3600, '24h': 86_400, '7d': 7 * 86_400, '30d': 30 * 86_400, '90d': 90 * 86_400 } as const;
export type TimeseriesRange = keyof typeof TIMESERIES_RANGES;

/** `signalNames` is the list of series the metrics layer records (passed in: the contract does not own it). */
export function timeseriesParams<N extends string>(signalNames: readonly [N, ...N[]]) {
  return z
    .object({
      // Without a series, or with a wrong one, the error lists every valid name.
      series: z
        .string({ error: `series is required: name one or more of ${signalNames.join(', ')} (comma-separated)` })
        .max(2000)
        .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
        .pipe(
          z
            .array(z.enum(signalNames, { error: (iss) => `unknown series "${String(iss.input)}"; the series are ${signalNames.join(', ')}` }))
            .min(1, `name at least one series: ${signalNames.join(', ')}`)
            .max(30),
        ),
      range: z.enum(Object.keys(TIMESERIES_RANGES) as [TimeseriesRange, ...TimeseriesRange[]]).default('1h'),
      points: z.coerce.number().int().min(2).max(2000).default(300),
    })
    .strict();
}
