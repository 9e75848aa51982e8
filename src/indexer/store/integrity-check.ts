import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { Db } from './db.js';

export interface IntegrityResult {
  ok: boolean;
  /** "ok" or the first problems SQLite reported, joined. */
  message: string;
  durationMs: number;
  /** The check could not run (no verdict on the data): not recorded, retried next time. */
  inconclusive?: boolean;
}

/** At most this many problem lines are kept: a badly damaged file reports thousands. */
const MAX_PROBLEMS = 20;

function summarise(lines: string[]): { ok: boolean; message: string } {
  const ok = lines.length === 1 && lines[0] === 'ok';
  return { ok, message: ok ? 'ok' : lines.slice(0, 5).join('; ') + (lines.length > 5 ? ` (and ${lines.length - 5} more)` : '') };
}

/** `PRAGMA integrity_check` on an open connection (doctor: a CLI may block). */
export function integrityCheck(db: Db): IntegrityResult {
  const t0 = performance.now();
  let lines: string[];
  try {
    lines = (db.pragma(`integrity_check(${MAX_PROBLEMS})`) as { integrity_check: string }[]).map((r) => r.integrity_check);
  } catch (e) {
    lines = [(e as Error).message];
  }
  return { ...summarise(lines), durationMs: Math.round(performance.now() - t0) };
}

// Plain CommonJS so it runs the same under tsx (tests) and from dist/ (service).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
// The same keyings as security/cipher.ts applyKey, before any other statement: the raw key
// (no key derivation) first, then the legacy hexkey for a file not yet converted.
function keyed(keying) {
  const db = new Database(workerData.file, { readonly: true, fileMustExist: true });
  try {
    if (keying === 'raw') {
      const literal = Buffer.from("x'" + workerData.keyHex + "'", 'latin1');
      try { db.key(literal); } finally { literal.fill(0); }
    } else if (keying === 'legacy') {
      db.pragma("hexkey='" + workerData.keyHex + "'");
    }
    db.pragma('busy_timeout = 30000');
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}
let Database;
let result;
try {
  Database = require(workerData.module);
  let db;
  if (!workerData.keyHex) db = keyed(null);
  else {
    try {
      db = keyed('raw');
    } catch (e) {
      if (!e || e.code !== 'SQLITE_NOTADB') throw e;
      db = keyed('legacy');
    }
  }
  try {
    result = db.pragma('integrity_check(' + workerData.max + ')').map((r) => r.integrity_check);
  } finally {
    db.close();
  }
} catch (e) {
  const code = String((e && e.code) || '');
  // A file SQLite cannot read as a database is damage; anything else means the check did not run.
  result = /^SQLITE_(CORRUPT|NOTADB)/.test(code) ? [String(e.message)] : { error: String((e && e.message) || e) };
}
parentPort.postMessage(result);
`;

/**
 * The same check on a separate read-only connection in a worker thread: on a large index it
 * takes seconds, which must not block searches on the service's event loop. WAL lets it read a
 * consistent snapshot while the service keeps writing.
 */
export function integrityCheckInWorker(file: string, opts: { key?: Buffer | null; timeoutMs?: number } = {}): Promise<IntegrityResult> {
  const t0 = performance.now();
  const require = createRequire(import.meta.url);
  return new Promise((resolve) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { module: require.resolve('better-sqlite3-multiple-ciphers'), file, keyHex: opts.key ? opts.key.toString('hex') : null, max: MAX_PROBLEMS },
    });
    const done = (lines: string[]) => {
      clearTimeout(timer);
      resolve({ ...summarise(lines), durationMs: Math.round(performance.now() - t0) });
    };
    const timer = setTimeout(() => {
      void worker.terminate();
      // Not a verdict on the data: report it as inconclusive rather than damaged.
      resolve({ ok: true, inconclusive: true, message: 'check did not finish in time', durationMs: Math.round(performance.now() - t0) });
    }, opts.timeoutMs ?? 30 * 60_000);
    timer.unref();
    const inconclusive = (why: string) => {
      clearTimeout(timer);
      resolve({ ok: true, inconclusive: true, message: `check could not run: ${why}`, durationMs: Math.round(performance.now() - t0) });
    };
    worker.once('message', (m: string[] | { error: string }) => {
      if (Array.isArray(m)) done(m);
      else inconclusive(m.error);
      void worker.terminate();
    });
    worker.once('error', (e) => inconclusive(e.message));
  });
}
