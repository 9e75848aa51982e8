// A small stand-in for the service API on 127.0.0.1 (real HTTP): it checks the bearer token like
// the service does, records every request and answers with shapes from the API contract.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StatusReport } from '../../src/shared/api.js';

export interface SeenRequest {
  method: string;
  url: string;
  auth: string | undefined;
  body: unknown;
}

export const TOKEN = 'a'.repeat(43);

export function statusOf(over: Partial<StatusReport> = {}): StatusReport {
  return {
    version: '0.1.0',
    state: 'idle',
    ready: true,
    paused: false,
    pausedBecause: [],
    dataDir: '/data',
    progress: { phase: 'idle', scanned: 10, queued: 0, done: 10, startedAt: null, finishedAt: null },
    counts: { indexed: 10, skipped: 0, failed: 0, bytes: 100, textBytes: 50 },
    roots: [],
    watcher: { mode: 'events', message: null },
    degraded: [],
    database: { bytes: 1, walBytes: 0, schemaVersion: 5 },
    uptimeMs: 1,
    resilience: { breakers: [], retryQueue: 0, quarantined: 0, deferred: 0, pool: { workers: 1, busy: 0, queued: 0, restarts: 0, timeouts: 0, crashes: 0, memoryKills: 0, recycled: 0 } },
    ...over,
  };
}

export interface FakeService {
  url: string;
  seen: SeenRequest[];
  status: StatusReport;
  /** Paths the fake "index" holds (answered by GET /api/v1/preview). */
  documents: Set<string>;
  /** Routes ("POST /api/v1/backups") that answer with this error instead. */
  failures: Map<string, { status: number; code: string; message: string }>;
  close(): Promise<void>;
  waitFor(pred: (r: SeenRequest) => boolean, timeoutMs?: number): Promise<SeenRequest>;
}

export async function startFakeService(): Promise<FakeService> {
  const seen: SeenRequest[] = [];
  const waiters: { pred: (r: SeenRequest) => boolean; resolve: (r: SeenRequest) => void }[] = [];
  const svc = { seen, status: statusOf(), documents: new Set<string>(), failures: new Map() } as FakeService;
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const r: SeenRequest = { method: req.method!, url: req.url!, auth: req.headers.authorization, body: raw ? (JSON.parse(raw) as unknown) : undefined };
      seen.push(r);
      for (const w of [...waiters]) {
        if (w.pred(r)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(r);
        }
      }
      const send = (code: number, body: unknown) => {
        res.writeHead(code, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (r.auth !== `Bearer ${TOKEN}`) return send(401, { error: { code: 'OWL_ERR_AUTH_REQUIRED', message: 'sign in' } });
      const u = new URL(r.url, 'http://x');
      const key = `${r.method} ${u.pathname}`;
      const fail = svc.failures.get(key);
      if (fail) return send(fail.status, { error: { code: fail.code, message: fail.message } });
      switch (key) {
        case 'GET /api/v1/status':
          return send(200, svc.status);
        case 'POST /api/v1/index/pause': {
          const until = (r.body as { until?: string } | undefined)?.until ?? null;
          svc.status = { ...svc.status, paused: true, state: 'paused', pausedBecause: ['user'], ...(until ? { pausedUntil: until } : {}) };
          return send(200, { paused: true, until });
        }
        case 'POST /api/v1/index/resume':
          svc.status = { ...svc.status, paused: false, state: 'idle', pausedBecause: [] };
          delete svc.status.pausedUntil;
          return send(200, { paused: false });
        case 'POST /api/v1/backups':
          return send(201, { status: 'created', id: 'b1' });
        case 'POST /api/v1/backups/b1/restore':
          return send(200, { restored: 'b1' });
        case 'POST /api/v1/auth/login-link':
          return send(200, { url: `${svc.url}/login?code=abc`, expiresInSeconds: 60 });
        case 'GET /api/v1/preview': {
          const p = u.searchParams.get('path') ?? '';
          if (svc.documents.has(p)) return send(200, { path: p, title: null, text: '', truncated: false, size: 1, mtime: '' });
          return send(404, { error: { code: 'OWL_ERR_NOT_FOUND', message: 'path: no such indexed document' } });
        }
        default:
          return send(404, { error: { code: 'OWL_ERR_NOT_FOUND', message: `no route ${key}` } });
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  svc.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  svc.close = () => new Promise((r) => server.close(() => r()));
  svc.waitFor = (pred, timeoutMs = 5000) => {
    const hit = seen.find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: (x: SeenRequest) => (clearTimeout(t), resolve(x)) };
      const t = setTimeout(() => {
        waiters.splice(waiters.indexOf(w), 1);
        reject(new Error(`no matching request within ${timeoutMs} ms; seen: ${seen.map((s) => `${s.method} ${s.url}`).join(', ')}`));
      }, timeoutMs);
      waiters.push(w);
    });
  };
  return svc;
}
