/**
 * One catalog of coded errors, in the style of fastify's lib/errors.js: every code has a kind, an
 * HTTP status, a message template and a remedy, so a throw site names a code and the facts
 * (`owletError('OWL_ERR_BACKUP_NOT_FOUND', { id, dir })`) and never words its own message. The
 * `{name}` placeholders are type-checked against the template. Errors cross process and HTTP
 * boundaries as plain `{ code, message, remedy }` objects, never as thrown exceptions.
 *
 * Codes are public (clients and scripts switch on them): add, never rename.
 */
export const ErrorCodes = {
  OWL_ERR_ARG_INVALID: { kind: 'usage', http: 400, message: '{reason}', remedy: 'correct the argument; "owlet help <command>" lists the options' },
  OWL_ERR_CONFIG_INVALID: { kind: 'config', http: 500, message: 'invalid configuration in {source}: {reason}', remedy: 'fix config.json (the README lists every key and its default), then restart Owlet' },
  OWL_ERR_CONFIG_UNREADABLE: { kind: 'config', http: 500, message: 'cannot read configuration {file}: {reason}', remedy: 'check that the file exists and that this user may read it' },
  OWL_ERR_ROOT_MISSING: { kind: 'usage', http: 400, message: '{reason}', remedy: 'pass --root DIR with an existing folder, or fix "roots" in config.json' },
  OWL_ERR_DATADIR_UNUSABLE: { kind: 'environment', http: 500, message: 'no usable Owlet data directory at {dir}: {reason}', remedy: 'run "owlet index --root DIR" to create it, or pass --data-dir with the right folder' },
  OWL_ERR_QUERY_INVALID: { kind: 'query', http: 400, message: '{reason}', remedy: 'check the query syntax: quotes and parentheses must be closed, filters are name:value' },
  OWL_ERR_DB_OPEN: { kind: 'database', http: 503, message: 'database {file}: {reason}', remedy: 'run "owlet doctor" to see what is wrong' },
  OWL_ERR_DB_MISSING: { kind: 'database', http: 503, message: 'no index at {file}', remedy: 'run "owlet index --root DIR" first' },
  OWL_ERR_DB_CORRUPT: { kind: 'database', http: 503, message: '{reason}', remedy: 'run "owlet doctor --fix"; a running service recovers by itself from the newest verified backup' },
  OWL_ERR_DB_FULL: { kind: 'database', http: 507, message: 'the disk holding {file} is full', remedy: 'free some space; indexing resumes by itself' },
  OWL_ERR_DB_BUSY: { kind: 'database', http: 503, message: '{reason}', remedy: 'try again in a moment; if it persists, stop the other Owlet process' },
  OWL_ERR_DB_KEY: { kind: 'database', http: 503, message: '{reason}', remedy: 'restore the key to the keychain or key file it came from ("owlet key status" shows where Owlet looks)' },
  OWL_ERR_DB_NEWER: { kind: 'database', http: 503, message: 'the index was written by a newer Owlet (schema {found}, this build knows {supported})', remedy: 'update Owlet, or restore a backup taken by this version' },
  OWL_ERR_NOT_READY: { kind: 'service', http: 503, message: '{reason}', remedy: 'try again in a moment' },
  OWL_ERR_STANDBY: { kind: 'service', http: 503, message: '{reason}', remedy: 'retry the request: a new connection reaches the primary service (the read-only standby answers only readiness and searches with the API token)' },
  OWL_ERR_SERVICE_NOT_RUNNING: { kind: 'service', http: 503, message: 'no Owlet service is running for {dataDir}', remedy: 'start it with "owlet serve" or "owlet run"' },
  OWL_ERR_SERVICE_UNREACHABLE: { kind: 'service', http: 503, message: 'the service at {url} did not answer {request}: {reason}', remedy: 'check "owlet status"; restart the service if it hangs' },
  OWL_ERR_SERVICE_START_FAILED: { kind: 'service', http: 503, message: 'the indexer did not start: {reason}', remedy: 'see the service log; fix what the message names, then start Owlet again' },
  OWL_ERR_SUPERVISOR_NOT_RUNNING: { kind: 'service', http: 503, message: 'this needs the running `owlet run` supervisor: {reason}', remedy: 'start the installed Owlet with "PREFIX/current/bin/owlet.js run", then try again' },
  OWL_ERR_SERVICE_RUNNING: { kind: 'service', http: 409, message: '{holder} is already using the data folder {dataDir}{then}', remedy: 'stop it first, or do this through the running service' },
  OWL_ERR_EXTRACT_PARSE: { kind: 'extract', http: 500, message: '{reason}', remedy: 'the file is damaged or in a variant Owlet cannot read; it stays listed in "owlet errors"' },
  OWL_ERR_EXTRACT_UNSUPPORTED: { kind: 'extract', http: 415, message: '{reason}', remedy: 'nothing to do: the file is skipped and listed in "owlet errors"' },
  OWL_ERR_EXTRACT_BINARY: { kind: 'extract', http: 415, message: '{reason}', remedy: 'nothing to do: binary files without a known format are skipped and listed in "owlet errors"' },
  OWL_ERR_EXTRACT_TOO_LARGE: { kind: 'extract', http: 413, message: '{reason}', remedy: 'raise extract.maxFileBytes in config.json if such files should be indexed' },
  OWL_ERR_EXTRACT_TIMEOUT: { kind: 'extract', http: 504, message: '{reason}', remedy: 'raise extract.timeoutMs in config.json if such files should be indexed' },
  OWL_ERR_EXTRACT_MEMORY: { kind: 'extract', http: 507, message: '{reason}', remedy: 'raise extract.maxWorkerMemoryMb in config.json if such files should be indexed' },
  OWL_ERR_EXTRACT_CRASH: { kind: 'extract', http: 500, message: '{reason}', remedy: 'the file is quarantined after repeated crashes; "owlet errors" lists it' },
  OWL_ERR_FS: { kind: 'filesystem', http: 500, message: '{what} did not answer within {ms} ms', remedy: 'check that the drive is attached and responsive' },
  OWL_ERR_NOT_FOUND: { kind: 'http', http: 404, message: '{reason}', remedy: 'check the name or id; list what exists first' },
  OWL_ERR_MONITORING_OFF: { kind: 'http', http: 404, message: '{feature} are off', remedy: 'set monitoring.enabled to true in config.json and restart' },
  OWL_ERR_AUTH_REQUIRED: { kind: 'http', http: 401, message: '{reason}', remedy: 'send "Authorization: Bearer <api-token>" (the api-token file in the data directory) or sign in with "owlet open"' },
  OWL_ERR_AUTH_FORBIDDEN: { kind: 'http', http: 403, message: '{reason}', remedy: 'use a client holding the API token' },
  OWL_ERR_HTTP_HOST: { kind: 'http', http: 421, message: 'this service only answers requests addressed to 127.0.0.1, localhost or [::1] with its own port', remedy: 'use the URL "owlet status" prints' },
  OWL_ERR_HTTP_ORIGIN: { kind: 'http', http: 403, message: 'cross-origin requests are refused', remedy: 'call the API from the dashboard or a client that sends no Origin header' },
  OWL_ERR_HTTP_CSRF: { kind: 'http', http: 403, message: 'missing or wrong {header} header', remedy: 'get the token from GET /api/v1/session' },
  OWL_ERR_HTTP_RATE_LIMITED: { kind: 'http', http: 429, message: 'too many requests; try again in {seconds} s', remedy: 'slow down: wait for the Retry-After time' },
  OWL_ERR_HTTP_TOO_LARGE: { kind: 'http', http: 413, message: '{reason}', remedy: 'send a smaller request body' },
  OWL_ERR_PATH_FORBIDDEN: { kind: 'http', http: 403, message: 'path: {reason}', remedy: 'only indexed documents under the configured roots can be read' },
  OWL_ERR_SECRET_STORE: { kind: 'environment', http: 500, message: '{reason}', remedy: 'unlock the OS keychain (or start its service) and try again; "owlet key status" shows where the keys are' },
  OWL_ERR_AUDIT_BROKEN: { kind: 'environment', http: 500, message: '{reason}', remedy: 'run "owlet audit verify"; see the security guide on what a broken audit chain means' },
  OWL_ERR_PRIVILEGED_USER: { kind: 'usage', http: 403, message: '{reason}', remedy: 'run Owlet as the user whose documents it indexes; in a container, pass --allow-root (or set OWLET_ALLOW_ROOT=1)' },
  OWL_ERR_ROOT_REFUSED: { kind: 'usage', http: 400, message: '{reason}', remedy: 'choose a folder that is not a system folder or the data directory' },
  OWL_ERR_SETTING_LOCKED: { kind: 'usage', http: 403, message: '{key} is fixed by {reason}', remedy: 'ask the administrator who manages this computer\'s Owlet policy to change it' },
  OWL_ERR_BACKUP_NOT_FOUND: { kind: 'usage', http: 404, message: 'no backup "{id}" in {dir}', remedy: '"owlet backup list" shows the ids' },
  // Same status as a missing backup: a name that is not an id names no backup (and never reaches the disk).
  OWL_ERR_BACKUP_BAD_ID: { kind: 'usage', http: 404, message: '{shown} is not a backup id (they look like 20261202T030000Z-1a2b){where}', remedy: '"owlet backup list" shows the ids' },
  OWL_ERR_BACKUP_INVALID: { kind: 'backup', http: 500, message: '{reason}', remedy: 'this backup cannot be used; "owlet backup verify" checks the others and "owlet backup create" takes a new one' },
  OWL_ERR_BACKUP_NO_SPACE: { kind: 'backup', http: 507, message: '{reason}', remedy: 'free some space or set backup.dir to a larger disk' },
  OWL_ERR_BACKUP_FAILED: { kind: 'backup', http: 500, message: '{reason}', remedy: 'see the service log for the cause; the previous backups are untouched' },
  OWL_ERR_BACKUP_BUSY: { kind: 'backup', http: 409, message: '{reason}', remedy: 'try again when the running backup or recovery has finished' },
  OWL_ERR_PORT_IN_USE: { kind: 'environment', http: 500, message: 'port {port} on {host} {reason}', remedy: 'close the program using the port, or set another one (server.port in config.json, or --port)' },
  OWL_ERR_UPDATE_REFUSED: { kind: 'update', http: 409, message: '{reason}', remedy: 'nothing was installed; the running version stays (see "owlet update status")' },
  OWL_ERR_UPDATE_FAILED: { kind: 'update', http: 500, message: '{reason}', remedy: 'the previous version stays or is restored; see the service log and "owlet update status"' },
  OWL_ERR_INTERNAL: { kind: 'internal', http: 500, message: '{reason}', remedy: 'see the service log; report it if it repeats' },
} as const satisfies Record<string, { kind: string; http: number; message: string; remedy: string }>;

export type ErrorCode = keyof typeof ErrorCodes;

type Placeholders<S extends string> = S extends `${string}{${infer K}}${infer Rest}` ? K | Placeholders<Rest> : never;
/** The facts a code's message template needs, e.g. `{ id, dir }` for OWL_ERR_BACKUP_NOT_FOUND. */
export type ErrorParams<C extends ErrorCode> = { [K in Placeholders<(typeof ErrorCodes)[C]['message']>]: string | number };

/** Fills a code's template; a missing fact shows as `?` rather than failing the throw. */
export function formatError<C extends ErrorCode>(code: C, params: ErrorParams<C>): string {
  const p = params as Record<string, string | number | undefined>;
  return ErrorCodes[code].message.replace(/\{(\w+)\}/g, (_m, k: string) => String(p[k] ?? '?'));
}

/** The serialisable form that crosses boundaries (IPC, HTTP bodies, CLI --json). */
export interface ErrorInfo {
  code: ErrorCode;
  message: string;
  /** What the person can do about it (from the catalog). */
  remedy?: string;
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
  get remedy(): string {
    return ErrorCodes[this.code].remedy;
  }
  toInfo(): ErrorInfo {
    const info: ErrorInfo = { code: this.code, message: this.message, remedy: this.remedy };
    if (this.detail) info.detail = this.detail;
    return info;
  }
}

/**
 * The way to raise a cataloged error: the code and the facts its template names. (`new OwletError`
 * with a ready message is for re-creating an error that crossed a boundary as ErrorInfo.)
 */
export function owletError<C extends ErrorCode>(code: C, params: ErrorParams<C>, opts: { detail?: Record<string, unknown>; cause?: unknown } = {}): OwletError {
  return new OwletError(code, formatError(code, params), opts.detail, 'cause' in opts ? { cause: opts.cause } : undefined);
}

/**
 * Re-creates an error that crossed a boundary (IPC, HTTP) as ErrorInfo: its message was made by
 * the catalog on the other side, so it is kept as it came. The one place besides owletError that
 * builds an OwletError from a ready message (test/indexer/shared/errors.test.ts scans for others).
 */
export function fromErrorInfo(info: { code: ErrorCode; message: string; detail?: Record<string, unknown> }): OwletError {
  return new OwletError(info.code, info.message, info.detail);
}

/** True when `code` is one of the catalog's (anything else crossing a boundary is mapped to OWL_ERR_INTERNAL). */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(ErrorCodes, code);
}

export function isOwletError(e: unknown): e is OwletError {
  return e instanceof OwletError;
}

/** Turns anything thrown into an ErrorInfo without leaking stack traces. */
export function toErrorInfo(e: unknown): ErrorInfo {
  if (isOwletError(e)) return e.toInfo();
  const message = e instanceof Error ? e.message : String(e);
  return { code: 'OWL_ERR_INTERNAL', message, remedy: ErrorCodes.OWL_ERR_INTERNAL.remedy };
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
  remedy: string;
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
  if (isOwletError(err)) return { status: err.httpStatus, code: err.code, message: err.message, remedy: err.remedy };
  const e = err as { statusCode?: unknown; message?: unknown } | null;
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) {
    const code = CLIENT_STATUS_CODES[status] ?? 'OWL_ERR_ARG_INVALID';
    return { status, code, message: typeof e?.message === 'string' && e.message ? e.message : 'bad request', remedy: ErrorCodes[code].remedy };
  }
  return { status: 500, code: 'OWL_ERR_INTERNAL', message: 'internal error; see the service log', remedy: ErrorCodes.OWL_ERR_INTERNAL.remedy };
}
