/**
 * One catalog of coded errors (fastify's lib/errors.js is the model). Errors cross process and
 * HTTP boundaries as plain `{ code, message }` objects, never as thrown exceptions.
 */
export const ErrorCodes = {
  OWL_ERR_ARG_INVALID: { kind: 'usage', http: 400 },
  OWL_ERR_CONFIG_INVALID: { kind: 'config', http: 500 },
  OWL_ERR_CONFIG_UNREADABLE: { kind: 'config', http: 500 },
  OWL_ERR_ROOT_MISSING: { kind: 'usage', http: 400 },
  OWL_ERR_DATADIR_UNUSABLE: { kind: 'environment', http: 500 },
  OWL_ERR_QUERY_INVALID: { kind: 'query', http: 400 },
  OWL_ERR_DB_OPEN: { kind: 'database', http: 503 },
  OWL_ERR_DB_CORRUPT: { kind: 'database', http: 503 },
  OWL_ERR_DB_FULL: { kind: 'database', http: 507 },
  OWL_ERR_DB_BUSY: { kind: 'database', http: 503 },
  OWL_ERR_DB_KEY: { kind: 'database', http: 503 },
  OWL_ERR_DB_NEWER: { kind: 'database', http: 503 },
  OWL_ERR_NOT_READY: { kind: 'service', http: 503 },
  OWL_ERR_SERVICE_NOT_RUNNING: { kind: 'service', http: 503 },
  OWL_ERR_EXTRACT_PARSE: { kind: 'extract', http: 500 },
  OWL_ERR_EXTRACT_UNSUPPORTED: { kind: 'extract', http: 415 },
  OWL_ERR_EXTRACT_TOO_LARGE: { kind: 'extract', http: 413 },
  OWL_ERR_EXTRACT_TIMEOUT: { kind: 'extract', http: 504 },
  OWL_ERR_EXTRACT_MEMORY: { kind: 'extract', http: 507 },
  OWL_ERR_EXTRACT_CRASH: { kind: 'extract', http: 500 },
  OWL_ERR_FS: { kind: 'filesystem', http: 500 },
  OWL_ERR_NOT_FOUND: { kind: 'http', http: 404 },
  OWL_ERR_AUTH_REQUIRED: { kind: 'http', http: 401 },
  OWL_ERR_AUTH_FORBIDDEN: { kind: 'http', http: 403 },
  OWL_ERR_HTTP_HOST: { kind: 'http', http: 421 },
  OWL_ERR_HTTP_ORIGIN: { kind: 'http', http: 403 },
  OWL_ERR_HTTP_CSRF: { kind: 'http', http: 403 },
  OWL_ERR_HTTP_RATE_LIMITED: { kind: 'http', http: 429 },
  OWL_ERR_HTTP_TOO_LARGE: { kind: 'http', http: 413 },
  OWL_ERR_PATH_FORBIDDEN: { kind: 'http', http: 403 },
  OWL_ERR_SECRET_STORE: { kind: 'environment', http: 500 },
  OWL_ERR_AUDIT_BROKEN: { kind: 'environment', http: 500 },
  OWL_ERR_ROOT_REFUSED: { kind: 'usage', http: 400 },
  OWL_ERR_BACKUP_NOT_FOUND: { kind: 'usage', http: 404 },
  OWL_ERR_BACKUP_INVALID: { kind: 'backup', http: 500 },
  OWL_ERR_BACKUP_NO_SPACE: { kind: 'backup', http: 507 },
  OWL_ERR_BACKUP_FAILED: { kind: 'backup', http: 500 },
  OWL_ERR_BACKUP_BUSY: { kind: 'backup', http: 409 },
  OWL_ERR_SERVICE_RUNNING: { kind: 'service', http: 409 },
  OWL_ERR_INTERNAL: { kind: 'internal', http: 500 },
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/** The serialisable form that crosses boundaries (IPC, HTTP bodies, CLI --json). */
export interface ErrorInfo {
  code: ErrorCode;
  message: string;
  /** Optional machine-readable detail, e.g. the config key or query column at fault. */
  detail?: Record<string, unknown>;
}

export class OwletError extends Error {
  readonly code: ErrorCode;
  readonly detail: Record<string, unknown> | undefined;
  constructor(code: ErrorCode, message: string, detail?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OwletError';
    this.code = code;
    this.detail = detail;
  }
  get kind(): string {
    return ErrorCodes[this.code].kind;
  }
  get httpStatus(): number {
    return ErrorCodes[this.code].http;
  }
  toInfo(): ErrorInfo {
    return this.detail ? { code: this.code, message: this.message, detail: this.detail } : { code: this.code, message: this.message };
  }
}

export function isOwletError(e: unknown): e is OwletError {
  return e instanceof OwletError;
}

/** Turns anything thrown into an ErrorInfo without leaking stack traces. */
export function toErrorInfo(e: unknown): ErrorInfo {
  if (isOwletError(e)) return e.toInfo();
  const message = e instanceof Error ? e.message : String(e);
  return { code: 'OWL_ERR_INTERNAL', message };
}

export function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof (e as { code: unknown }).code === 'string'
    ? (e as { code: string }).code
    : undefined;
}

/** What an HTTP client is told about an error: a catalog code, its status and a safe message. */
export interface ClientError {
  status: number;
  code: ErrorCode;
  message: string;
}

/** Status codes of library (fastify) client errors → the catalog code a client sees instead of the library's own. */
const CLIENT_STATUS_CODES: Partial<Record<number, ErrorCode>> = {
  401: 'OWL_ERR_AUTH_REQUIRED',
  403: 'OWL_ERR_AUTH_FORBIDDEN',
  404: 'OWL_ERR_NOT_FOUND',
  413: 'OWL_ERR_HTTP_TOO_LARGE',
  414: 'OWL_ERR_ARG_INVALID',
  429: 'OWL_ERR_HTTP_RATE_LIMITED',
};

/**
 * Maps anything thrown while answering a request to what the client may see. Owlet errors pass
 * as they are. A library's 4xx (bad JSON, body too large) keeps its status and message but never
 * its code (FST_…): clients only ever see catalog codes. Everything else is an internal error
 * whose message says nothing about paths or SQL.
 */
export function clientErrorOf(err: unknown): ClientError {
  if (isOwletError(err)) return { status: err.httpStatus, code: err.code, message: err.message };
  const e = err as { statusCode?: unknown; message?: unknown } | null;
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) {
    const code = CLIENT_STATUS_CODES[status] ?? 'OWL_ERR_ARG_INVALID';
    return { status, code, message: typeof e?.message === 'string' && e.message ? e.message : 'bad request' };
  }
  return { status: 500, code: 'OWL_ERR_INTERNAL', message: 'internal error; see the service log' };
}
