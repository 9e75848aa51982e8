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
  OWL_ERR_PATH_FORBIDDEN: { kind: 'http', http: 403 },
  OWL_ERR_SECRET_STORE: { kind: 'environment', http: 500 },
  OWL_ERR_AUDIT_BROKEN: { kind: 'environment', http: 500 },
  OWL_ERR_ROOT_REFUSED: { kind: 'usage', http: 500 },
  OWL_ERR_BACKUP_NOT_FOUND: { kind: 'usage', http: 404 },
  OWL_ERR_BACKUP_INVALID: { kind: 'backup', http: 500 },
  OWL_ERR_BACKUP_NO_SPACE: { kind: 'backup', http: 507 },
  OWL_ERR_BACKUP_FAILED: { kind: 'backup', http: 500 },
  OWL_ERR_BACKUP_BUSY: { kind: 'backup', http: 409 },
  OWL_ERR_SERVICE_RUNNING: { kind: 'service', http: 409 },
  OWL_ERR_UPDATE_REFUSED: { kind: 'update', http: 409 },
  OWL_ERR_UPDATE_FAILED: { kind: 'update', http: 500 },
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
