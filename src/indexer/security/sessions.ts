import { createHash } from 'node:crypto';
import { newSecret, secretsEqual } from './token.js';

export const SESSION_COOKIE = 'owlet_session';
export const CSRF_HEADER = 'x-owlet-csrf';
export const LOGIN_CODE_TTL_MS = 60_000;

export interface Session {
  csrf: string;
  createdAt: number;
  lastSeen: number;
}

const digest = (s: string) => createHash('sha256').update(s).digest('base64url');

/**
 * One-time login codes (`owlet open`) and the browser sessions they are exchanged for. In memory:
 * a restart signs the dashboard out, which is the safe direction. Only digests of codes and
 * session ids are kept, so a heap dump does not hand out live credentials.
 */
export class SessionStore {
  private readonly codes = new Map<string, number>();
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly opts: { now?: () => number; codeTtlMs?: number; idleMs?: number; maxSessions?: number } = {},
  ) {}

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** A fresh single-use login code, valid for 60 s. */
  issueCode(): string {
    this.prune();
    const code = newSecret();
    this.codes.set(digest(code), this.now() + (this.opts.codeTtlMs ?? LOGIN_CODE_TTL_MS));
    return code;
  }

  /** True while `code` is issued, unused and unexpired; does not consume it. */
  isLiveCode(code: string | undefined): boolean {
    if (!code || code.length > 200) return false;
    const expires = this.codes.get(digest(code));
    return expires !== undefined && this.now() <= expires;
  }

  /** Consumes a code: true once, if it was issued and has not expired. */
  consumeCode(code: string): boolean {
    const key = digest(code);
    const expires = this.codes.get(key);
    if (expires === undefined) return false;
    this.codes.delete(key);
    return this.now() <= expires;
  }

  /** Starts a session; returns the cookie value (the only copy of the id). */
  create(): { id: string; session: Session } {
    this.prune();
    const max = this.opts.maxSessions ?? 64;
    while (this.sessions.size >= max) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      this.sessions.delete(oldest);
    }
    const id = newSecret();
    const t = this.now();
    const session = { csrf: newSecret(), createdAt: t, lastSeen: t };
    this.sessions.set(digest(id), session);
    return { id, session };
  }

  /** The live session for a cookie value, refreshing its idle timer; undefined if none. */
  get(id: string): Session | undefined {
    const key = digest(id);
    const s = this.sessions.get(key);
    if (!s) return undefined;
    const t = this.now();
    if (t - s.lastSeen > (this.opts.idleMs ?? 12 * 3_600_000)) {
      this.sessions.delete(key);
      return undefined;
    }
    s.lastSeen = t;
    return s;
  }

  end(id: string): void {
    this.sessions.delete(digest(id));
  }

  /** Every session ends, e.g. after the API token is rotated. */
  clear(): void {
    this.sessions.clear();
    this.codes.clear();
  }

  csrfMatches(s: Session, given: string | undefined): boolean {
    return typeof given === 'string' && given.length > 0 && secretsEqual(given, s.csrf);
  }

  private prune(): void {
    const t = this.now();
    for (const [k, exp] of this.codes) if (t > exp) this.codes.delete(k);
    const idle = this.opts.idleMs ?? 12 * 3_600_000;
    for (const [k, s] of this.sessions) if (t - s.lastSeen > idle) this.sessions.delete(k);
  }
}

/** Reads one cookie from a Cookie header without a cookie library. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    if (part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

export function sessionCookie(id: string): string {
  return `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/`;
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
}
