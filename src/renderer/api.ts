/**
 * Same-origin calls to the service's API. Signs in through the HttpOnly session cookie set by the
 * `owlet open` link; sends the per-session CSRF token on every POST. Most types mirror src/shared (the
 * renderer is compiled on its own, for the browser).
 */

export class SignedOut extends Error {}

/** An error answer of the API: its catalog code and the message a person can act on. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
  ) {
    super(message);
  }
}

let csrf: string | null = null;

export function setCsrf(token: string | null): void {
  csrf = token;
}

export async function api<T>(url: string, init: RequestInit & { json?: unknown } = {}): Promise<T> {
  const headers = new Headers(init.headers);
  headers.set('Accept', 'application/json');
  if (init.method === 'POST' && csrf) headers.set('X-Owlet-CSRF', csrf);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set('Content-Type', 'application/json');
    body = JSON.stringify(init.json);
  }
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(url, { ...init, body, headers, credentials: 'same-origin', cache: 'no-store' });
    if (res.status === 401) throw new SignedOut();
    const out = (await res.json().catch(() => ({}))) as T & { error?: { message: string; code: string } };
    // The request reached the read-only standby while the primary could not take it, and nothing
    // was done: a new connection (the standby closed this one) may reach the primary.
    if (res.status === 503 && out.error?.code === 'OWL_ERR_STANDBY' && attempt < STANDBY_RETRY_DELAYS_MS.length) {
      await new Promise((r) => setTimeout(r, STANDBY_RETRY_DELAYS_MS[attempt]));
      continue;
    }
    if (!res.ok) throw new ApiError(out.error?.message ?? `${res.status} ${res.statusText}`, out.error?.code ?? 'HTTP', res.status);
    return out;
  }
}

/** Waits between retries of an OWL_ERR_STANDBY answer: ~12 s in all, beyond the primary's 10 s hang deadline and a restart. */
export const STANDBY_RETRY_DELAYS_MS: readonly number[] = [100, 250, 500, 1000, 2000, 3000, 5000];

export const post = <T>(url: string, json: unknown = {}) => api<T>(url, { method: 'POST', json });

export type Status = 'ok' | 'degraded' | 'failed';
export interface Check { id: string; name: string; status: Status; message: string; remedy?: string }
export interface Health { status: Status; colour: string; checkedAt: string; checks: Check[] }
export interface Alert { id: string; rule: string; state: 'pending' | 'firing' | 'resolved'; severity: 'info' | 'warning' | 'critical'; summary: string; remedy: string | null; value: number | null; firedAt: number | null; startedAt: number; resolvedAt: number | null; acknowledgedAt: number | null; escalations: number }
export interface AlertsView { enabled: boolean; active: Alert[]; banner: Alert[]; history: Alert[] }
export interface StatusReport {
  version: string;
  state: string;
  paused: boolean;
  pausedBecause: string[];
  /** When a timed pause ends by itself (the tray and the dashboard can pause for a time). */
  pausedUntil?: string;
  progress: { phase: string; scanned: number; queued: number; done: number };
  counts: { indexed: number; skipped: number; failed: number; bytes: number };
  roots: { path: string; state: string; lastScanAt: string | null }[];
  degraded: { component: string; message: string }[];
  uptimeMs: number;
  resilience: { retryQueue: number; quarantined: number; deferred: number; pool: { busy: number; queued: number } };
}
export interface Hit { path: string; title: string; snippet: string; mtime: string; size: number }
export interface SearchResult { total: number; hits: Hit[]; suggestion?: { query: string } }
export interface Preview { path: string; title: string | null; text: string; truncated: boolean; size: number; mtime: string }
export interface Series { enabled: boolean; step: number; series: Record<string, [number, number | null][]>; units: Record<string, string> }
export interface RootsView { roots: string[]; exclude: string[]; suggestions: { name: string; path: string }[] }
export interface ProblemGroup { status: 'skipped' | 'failed'; reason: string; count: number; meaning: string; remedy: string }
export interface ProblemFile { path: string; status: string; reason: string; message: string; size: number; mtime: string }
export interface BackupSummary { id: string; createdAt: string; reason: string; documentCount: number; size: number; verified: boolean; present: boolean; kind: 'full' | 'incremental'; verification: { ok: boolean; at: string; message: string | null } | null }
export interface BackupListing { dir: string; backups: BackupSummary[]; storage: { usedBytes: number; budgetBytes: number }; lastVerifiedAt: string | null; nextScheduledAt: string | null; phase: string | null }
export interface Setting { key: string; label: string; group: string; live: boolean; unit?: string; choices?: string[]; value: unknown; locked: string | null }

// The Updates card's view and the app's update bridge are the shared contract itself (type-only:
// nothing of src/shared is loaded by the page).
export type { UpdateCardView, UpdateHistoryEntry } from '../shared/api.js';
export type { UpdatesBridge } from '../shared/bridge.js';
import type { UpdatesBridge } from '../shared/bridge.js';

/** What the Electron preload exposes (absent in a browser): only what a page cannot do itself. */
export interface OwletBridge {
  pickFolder(): Promise<string | null | undefined>;
  openPath(path: string): Promise<unknown>;
  showInFolder(path: string): Promise<unknown>;
  updates?: UpdatesBridge;
}

/** The app's updater when the preload offers it, else null (a browser: the HTTP API). */
export function updatesBridge(): UpdatesBridge | null {
  const u = (window as unknown as { owlet?: { updates?: Partial<UpdatesBridge> } }).owlet?.updates;
  const names = ['state', 'check', 'download', 'restart', 'rollback', 'onState'] as const;
  return u && names.every((n) => typeof u[n] === 'function') ? (u as UpdatesBridge) : null;
}

export function bridge(): OwletBridge | null {
  const b = (window as unknown as { owlet?: Partial<OwletBridge> }).owlet;
  return b && typeof b.pickFolder === 'function' && typeof b.openPath === 'function' && typeof b.showInFolder === 'function' ? (b as OwletBridge) : null;
}

/**
 * A bridge call's answer may be a refusal (`{ ok: false, code, message }`: the main process
 * refused the path): shown, not swallowed.
 */
export function bridgeError(r: unknown): string | null {
  if (r && typeof r === 'object' && 'ok' in r && (r as { ok: unknown }).ok === false) {
    const m = (r as { message?: unknown }).message;
    return typeof m === 'string' && m ? m : 'the app refused';
  }
  if (r && typeof r === 'object' && 'error' in r) {
    const e = (r as { error: unknown }).error;
    return typeof e === 'string' ? e : e && typeof e === 'object' && 'message' in e ? String((e as { message: unknown }).message) : 'the app refused';
  }
  return null;
}
