import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fromErrorInfo, owletError, toErrorInfo } from '../../shared/errors.js';
import type { ApplyResult, HeadlessUpdater, UpdateStatus } from './headless.js';
import { processAlive } from '../service/service-file.js';

/**
 * The supervisor's update API: `owlet update apply|rollback` ask the running `owlet run` (which owns
 * the service process and so is the one that can swap it) over a local socket in the data folder
 * (mode 0600, inside the 0700 data folder) or, on Windows, a named pipe derived from it. Only the
 * user who owns the data folder can connect; nothing listens on the network.
 */
export function controlSocketPath(dataDir: string, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') return `\\\\.\\pipe\\owlet-update-${crypto.createHash('sha256').update(path.resolve(dataDir).toLowerCase()).digest('hex').slice(0, 16)}`;
  return path.join(dataDir, 'update.sock');
}

export interface ControlServer {
  close(): Promise<void>;
}

/** `afterChange` runs once an apply or rollback answer has been sent (the supervisor may then re-exec). */
export async function serveUpdateControl(dataDir: string, updater: HeadlessUpdater, afterChange?: () => void): Promise<ControlServer> {
  const sock = controlSocketPath(dataDir);
  if (process.platform !== 'win32') fs.rmSync(sock, { force: true });
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      body += c;
      if (body.length > 4096) req.destroy();
    });
    req.on('end', () => {
      void (async () => {
        let input: { feed?: unknown } = {};
        try {
          input = body ? (JSON.parse(body) as { feed?: unknown }) : {};
        } catch {
          input = {};
        }
        const feed = typeof input.feed === 'string' ? input.feed : undefined;
        try {
          let out: unknown;
          if (req.method === 'GET' && req.url === '/status') out = updater.status();
          else if (req.method === 'POST' && req.url === '/check') out = await updater.check(feed).then((c) => ({ status: c.status, version: c.version }));
          else if (req.method === 'POST' && req.url === '/apply') out = await updater.apply(feed);
          else if (req.method === 'POST' && req.url === '/rollback') out = await updater.rollback();
          else {
            res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'OWL_ERR_NOT_FOUND', message: 'no such update action' } }));
            return;
          }
          if (afterChange && req.method === 'POST' && (req.url === '/apply' || req.url === '/rollback')) {
            // Also when the caller went away first: a handed-over update must still leave.
            let ran = false;
            const once = () => {
              if (ran) return;
              ran = true;
              afterChange();
            };
            res.once('finish', once);
            res.once('close', once);
          }
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out));
        } catch (e) {
          res.writeHead(409, { 'content-type': 'application/json' }).end(JSON.stringify({ error: toErrorInfo(e) }));
        }
      })();
    });
  });
  // The gate can take minutes: no request timeout on this private channel.
  server.requestTimeout = 0;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(sock, () => resolve());
  });
  if (process.platform !== 'win32') fs.chmodSync(sock, 0o600);
  return {
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** Asks the running supervisor; a missing socket means no `owlet run` for this data folder. */
export function callUpdateControl<T>(dataDir: string, method: 'GET' | 'POST', route: string, body?: unknown): Promise<T> {
  const sock = controlSocketPath(dataDir);
  return new Promise<T>((resolve, reject) => {
    const req = http.request({ socketPath: sock, method, path: route, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        try {
          const parsed = JSON.parse(text) as T & { error?: { code: string; message: string } };
          if (res.statusCode !== 200 && parsed.error) reject(fromErrorInfo({ code: 'OWL_ERR_UPDATE_FAILED', message: parsed.error.message, detail: { code: parsed.error.code } }));
          else resolve(parsed);
        } catch (e) {
          reject(owletError('OWL_ERR_UPDATE_FAILED', { reason: `the supervisor answered something unreadable: ${(e as Error).message}` }));
        }
      });
    });
    req.on('error', (e) => {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ECONNREFUSED') reject(owletError('OWL_ERR_SUPERVISOR_NOT_RUNNING', { reason: `none is running for ${dataDir}, and updates are applied by it` }));
      else reject(e);
    });
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/**
 * A hand-over between supervisors leaves the control socket unanswered for about a second once the
 * old supervisor is gone (it may take longer to stop its service first; it is alive meanwhile). No
 * answer for this long after the last supervisor seen is gone means Owlet was stopped or killed.
 */
export const UNANSWERED_LIMIT_MS = 20_000;

export interface FollowOptions {
  /** How long to follow the new version's health gate at most. */
  followMs: number;
  /** No supervisor answering for this long, the last one seen gone, ends the wait (default UNANSWERED_LIMIT_MS). */
  unansweredMs?: number;
  /** The supervisor that took the request (service.json names it); later ones come from /status. */
  supervisorPid?: number;
  sleep?: (ms: number) => Promise<unknown>;
  now?: () => number;
  isAlive?: (pid: number) => boolean;
}

/**
 * `owlet update apply` through the supervisor. A good update hands the service to the new
 * version's supervisor, which runs the health gate and records the outcome in the state file; this
 * follows it there (the control socket is answered by whichever supervisor runs) and returns the
 * final result: `installed`, or `rolled-back` once the previous version's supervisor is back. If
 * Owlet stops answering altogether (stopped or killed during the gate), it says so at once instead
 * of waiting out the gate: the next start finishes the update or rolls it back.
 */
export async function applyThroughSupervisor(dataDir: string, body: unknown, o: FollowOptions): Promise<ApplyResult> {
  const sleep = o.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const now = o.now ?? Date.now;
  const unansweredMs = o.unansweredMs ?? UNANSWERED_LIMIT_MS;
  const isAlive = o.isAlive ?? processAlive;
  let lastPid = o.supervisorPid;
  const first = await callUpdateControl<ApplyResult>(dataDir, 'POST', '/apply', body);
  if (first.outcome !== 'handed-over') return first;
  const deadline = now() + o.followMs;
  let answeredAt = now();
  while (now() < deadline) {
    await sleep(250);
    let s: UpdateStatus;
    try {
      s = await callUpdateControl<UpdateStatus>(dataDir, 'GET', '/status');
      answeredAt = now();
      if (s.supervisor?.pid !== undefined) lastPid = s.supervisor.pid;
    } catch {
      // Between supervisors nobody answers for a moment; the old one may still be stopping its service.
      if (lastPid !== undefined && isAlive(lastPid)) answeredAt = now();
      if (now() - answeredAt < unansweredMs) continue;
      // The update's outcome is not known here (the next start decides it): handed over, not finished.
      return {
        ...first,
        message: `Owlet stopped answering during the update (no supervisor for ${Math.round(unansweredMs / 1000)} s after the hand-over): when it starts again it finishes the update or rolls it back; see owlet update status`,
      };
    }
    const r = s.lastResult as (Partial<ApplyResult> & { version?: string }) | null;
    if (s.pending !== null || !r || (r.to ?? r.version) !== first.to) continue;
    if (r.outcome === 'installed' && s.supervisor?.version === first.to) return { outcome: 'installed', from: first.from, to: first.to, ...(typeof r.downtimeMs === 'number' ? { downtimeMs: r.downtimeMs } : {}), ...(r.backupId ? { backupId: r.backupId } : {}) };
    if (r.outcome === 'rolled-back' && s.supervisor?.version === first.from) return { outcome: 'rolled-back', from: first.from, to: first.to, ...(r.reason ? { reason: r.reason } : {}), ...(r.message ? { message: r.message } : {}), ...(typeof r.downtimeMs === 'number' ? { downtimeMs: r.downtimeMs } : {}), ...(first.backupId ? { backupId: first.backupId } : {}) };
    if ((r.outcome as string) === 'interrupted') return { ...first, outcome: 'refused', message: `the update to ${first.to} was interrupted (${String((r as { phase?: unknown }).phase ?? '')}); see owlet update status` };
  }
  return { ...first, message: `${first.to}'s supervisor took over and is still running the health gate; see owlet update status` };
}
