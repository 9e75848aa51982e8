/**
 * The one typed message contract between a host (the headless supervisor of `owlet run`, or the
 * Electron main process) and the indexer service process. The same messages travel over Node's
 * child_process IPC channel and over Electron's utilityProcess parentPort.
 */
import type { ErrorInfo } from './errors.js';
import type { ServiceState } from './api.js';

export const PROTOCOL_VERSION = 1;

/** Host → service. */
export type HostMessage =
  /** Finish the current transaction, checkpoint, exit 0. */
  | { type: 'shutdown'; reason: string }
  /** Liveness probe; the service answers with a heartbeat carrying the same seq. */
  | { type: 'ping'; seq: number }
  /**
   * The keys, from the Electron host's safeStorage, sent once before the service opens the index
   * (`serve --key-from-host`). Base64 of 32 bytes each. Never on the command line or in the environment.
   */
  | { type: 'key'; key: string; pendingKey?: string; auditKey?: string }
  /**
   * The supervisor's listening socket travels WITH this message as the IPC handle (fork only;
   * `serve --listen-handle`, host/listen-socket.ts). `host`/`port` say what it is bound to;
   * `standby`: a read-only standby already accepts on it, so the service accepts only once ready.
   */
  | { type: 'listen-socket'; host: string; port: number; standby?: boolean };

/** Log levels as they cross the channel (the logger's levels). */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/**
 * One structured log record of the service, forwarded to the host (at or above the level the host
 * asked for with `serve --forward-logs`). The service's own log file keeps every line regardless:
 * this exists because a utility process's stdio goes nowhere, and a host must see start-up trouble.
 */
export interface LogRecord {
  time: string;
  level: LogLevel;
  component: string;
  msg: string;
  /** The record's structured fields (identifiers and counts, never document contents). */
  fields?: Record<string, unknown>;
}

/**
 * Why the service gave up. `startup`: it never became ready (bad configuration, unusable data
 * folder, no key, port taken…); `running`: it failed after `ready`.
 */
export type FatalPhase = 'startup' | 'running';

/**
 * An alert the service's engine routed to the `tray` channel (only sent when the host asked for
 * them with `serve --tray-alerts`: the Electron app, which shows them as OS notifications). The
 * engine has already decided routing and deduplication; the host only presents them.
 */
export interface AlertNotice {
  event: 'firing' | 'escalated' | 'resolved' | 'acknowledged';
  /** ms since the epoch. */
  at: number;
  /** The alert occurrence's id (the dashboard opens it: `#alert=<id>`). */
  id: string;
  rule: string;
  severity: 'info' | 'warning' | 'critical';
  summary: string;
  remedy: string | null;
}

const ALERT_EVENTS: readonly unknown[] = ['firing', 'escalated', 'resolved', 'acknowledged'];
const SEVERITIES: readonly unknown[] = ['info', 'warning', 'critical'];

/** Service → host. */
export type ServiceMessage =
  | { type: 'ready'; protocol: number; url: string; port: number; pid: number }
  | { type: 'heartbeat'; seq: number; at: number; state: ServiceState }
  /**
   * Sent once, before the service exits on an error. `kind` is the error catalog's kind
   * (`config`, `environment`, `database`, …): restarting cannot fix `config`; `error.message` says
   * what the user can do.
   */
  | { type: 'fatal'; kind: string; phase: FatalPhase; error: ErrorInfo }
  | { type: 'stopping'; reason: string }
  /**
   * The service closed its copy of the shared listening socket (it stops accepting while its index
   * is recovered, leaving new connections to the read-only standby) and asks for the socket again:
   * the host that forked it answers with another `listen-socket` message and handle (fork only).
   */
  | { type: 'listen-socket-request' }
  | { type: 'log'; record: LogRecord }
  | { type: 'alert'; notice: AlertNotice };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** Messages from another process are untrusted input: check the shape before acting on them. */
export function isServiceMessage(v: unknown): v is ServiceMessage {
  if (!isObject(v) || typeof v.type !== 'string') return false;
  switch (v.type) {
    case 'ready':
      return typeof v.url === 'string' && typeof v.port === 'number' && typeof v.pid === 'number';
    case 'heartbeat':
      return typeof v.seq === 'number' && typeof v.at === 'number';
    case 'fatal':
      return (
        isObject(v.error) && typeof v.error.message === 'string' && typeof v.error.code === 'string' &&
        typeof v.kind === 'string' && (v.phase === 'startup' || v.phase === 'running')
      );
    case 'stopping':
      return typeof v.reason === 'string';
    case 'listen-socket-request':
      return true;
    case 'log':
      return isLogRecord(v.record);
    case 'alert':
      return isAlertNotice(v.notice);
    default:
      return false;
  }
}

function isLogRecord(v: unknown): v is LogRecord {
  return (
    isObject(v) && typeof v.time === 'string' && typeof v.component === 'string' && typeof v.msg === 'string' &&
    (LOG_LEVELS as readonly unknown[]).includes(v.level) && (v.fields === undefined || isObject(v.fields))
  );
}

function isAlertNotice(v: unknown): v is AlertNotice {
  return (
    isObject(v) && ALERT_EVENTS.includes(v.event) && typeof v.at === 'number' && Number.isFinite(v.at) &&
    typeof v.id === 'string' && /^[a-z0-9-]{1,100}$/.test(v.id) && typeof v.rule === 'string' &&
    SEVERITIES.includes(v.severity) && typeof v.summary === 'string' && v.summary.length <= 1000 &&
    (v.remedy === null || (typeof v.remedy === 'string' && v.remedy.length <= 2000))
  );
}

/** Base64 of exactly 32 bytes. */
function isKey(v: unknown): v is string {
  return typeof v === 'string' && /^[A-Za-z0-9+/]{43}=$/.test(v);
}

export function isHostMessage(v: unknown): v is HostMessage {
  if (!isObject(v) || typeof v.type !== 'string') return false;
  if (v.type === 'shutdown') return typeof v.reason === 'string';
  if (v.type === 'ping') return typeof v.seq === 'number';
  if (v.type === 'listen-socket') return typeof v.host === 'string' && typeof v.port === 'number' && (v.standby === undefined || typeof v.standby === 'boolean');
  if (v.type === 'key') return isKey(v.key) && (v.pendingKey === undefined || isKey(v.pendingKey)) && (v.auditKey === undefined || isKey(v.auditKey));
  return false;
}

/** Exit codes with meaning for the supervisor. */
export const ExitCodes = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  /** Configuration or data directory unusable: restarting cannot help. */
  CONFIG: 78,
} as const;
