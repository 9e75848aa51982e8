import fs from 'node:fs';
import path from 'node:path';
import { start, processTree, memOf, type LongProcess } from './proc.js';

/**
 * The system under test: a real `owlet run` (supervisor + service child + extraction workers),
 * started exactly as a user starts it. Everything the harness knows about it comes from the data
 * folder (service.json, api-token) and /proc, as a support engineer would see it.
 */

const BIN = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../bin/owlet.js');

export interface Target {
  readonly proc: LongProcess;
  readonly dataDir: string;
  /** The service's base URL (stable across restarts: the port is pinned), or null before the first start. */
  url(): string | null;
  token(): string | null;
  /** The serving child (from service.json), or null when none is up. */
  servicePid(): number | null;
  /** Extraction workers: the serving child's own children. */
  workerPids(): number[];
  /** Resident memory and open descriptors of the whole tree, summed. */
  sample(): { rss: number; fds: number; processes: number };
  stop(): Promise<void>;
}

export function startTarget(opts: { dataDir: string; env?: NodeJS.ProcessEnv }): Target {
  const env = { ...process.env, OWLET_ALLOW_ROOT: '1', ...opts.env };
  const proc = start(process.execPath, [BIN, 'run', '--data-dir', opts.dataDir], { env });
  const readJson = (f: string): Record<string, unknown> | null => {
    try {
      return JSON.parse(fs.readFileSync(path.join(opts.dataDir, f), 'utf8')) as Record<string, unknown>;
    } catch {
      return null;
    }
  };
  let lastUrl: string | null = null;
  let lastToken: string | null = null;
  const children = (pid: number): number[] => processTree(pid).slice(1);
  return {
    proc,
    dataDir: opts.dataDir,
    url() {
      const info = readJson('service.json');
      if (info && typeof info.url === 'string') lastUrl = info.url;
      return lastUrl;
    },
    token() {
      try {
        lastToken = fs.readFileSync(path.join(opts.dataDir, 'api-token'), 'utf8').trim() || lastToken;
      } catch {
        /* keep the last one: the file may be mid-rewrite */
      }
      return lastToken;
    },
    servicePid() {
      const info = readJson('service.json');
      const pid = info && typeof info.pid === 'number' ? info.pid : null;
      if (pid === null || pid === proc.pid) return pid;
      try {
        process.kill(pid, 0);
        return pid;
      } catch {
        return null;
      }
    },
    workerPids() {
      const s = this.servicePid();
      return s === null ? [] : children(s);
    },
    sample() {
      let rss = 0;
      let fds = 0;
      const tree = processTree(proc.pid);
      for (const pid of tree) {
        rss += memOf(pid)?.rss ?? 0;
        try {
          fds += fs.readdirSync(`/proc/${pid}/fd`).length;
        } catch {
          /* ended */
        }
      }
      return { rss, fds, processes: tree.length };
    },
    async stop() {
      await proc.stop('SIGTERM', 20_000);
    },
  };
}

/** One authenticated request with a deadline; never throws (a failure is a value). */
export async function request(t: Target, pathAndQuery: string, init: RequestInit = {}, timeoutMs = 3000): Promise<{ ok: boolean; status: number; body: unknown; error?: string }> {
  const base = t.url();
  const token = t.token();
  if (!base || !token) return { ok: false, status: 0, body: null, error: 'no service yet' };
  try {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${token}`);
    const r = await fetch(base + pathAndQuery, { ...init, headers, signal: AbortSignal.timeout(timeoutMs) });
    const text = await r.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { ok: r.ok, status: r.status, body };
  } catch (e) {
    return { ok: false, status: 0, body: null, error: (e as Error).name === 'TimeoutError' ? 'timeout' : (e as Error).message };
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits until the service is idle with a steady document count for 5 s (bounded); returns how long it took. */
export async function settle(t: Target, timeoutMs: number): Promise<number> {
  const start = Date.now();
  let quietSince = 0;
  let lastIndexed = -1;
  while (Date.now() - start < timeoutMs) {
    const s = await request(t, '/api/v1/status');
    const st = s.body as { state?: string; ready?: boolean; degraded?: { component: string }[]; counts?: { indexed: number }; progress?: { phase: string; queued?: number } } | null;
    // A recovery in progress (the index being restored, then caught up) says "degraded", not
    // "indexing": it is work in hand all the same (a run that ended during one counted its
    // not-yet-caught-up files as lost).
    const recovering = st?.ready === false || (st?.degraded ?? []).some((d) => d.component === 'index-recovery');
    const busy = !s.ok || !st || recovering || st.state === 'indexing' || st.state === 'starting' || (st.progress?.phase ?? 'idle') !== 'idle';
    const indexed = st?.counts?.indexed ?? -1;
    if (!busy && indexed === lastIndexed) {
      if (!quietSince) quietSince = Date.now();
      if (Date.now() - quietSince >= 5000) return Date.now() - start;
    } else quietSince = 0;
    lastIndexed = indexed;
    await sleep(500);
  }
  return Date.now() - start;
}

