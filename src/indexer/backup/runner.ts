import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import { fromErrorInfo, isErrorCode, owletError } from '../../shared/errors.js';
import type { Task, TaskResult } from './worker.js';

/**
 * Runs backup tasks (copy, compress, hash, verify, unpack) in a worker thread with its own SQLite
 * connection: better-sqlite3 is synchronous, and a backup of a large index takes tens of seconds
 * that must not stall searches on the service's event loop.
 *
 * The worker starts from a small CommonJS bootstrap that imports worker.js (compiled) or, under
 * tsx in tests, registers tsx first and imports worker.ts. `runTaskSync` blocks the calling thread
 * (Atomics.wait) for the one caller that cannot await: the backup taken inside openIndex before a
 * schema migration, when nothing is being served yet.
 */

const BOOTSTRAP = `
const { workerData, parentPort } = require('node:worker_threads');
(async () => {
  let msg;
  try {
    if (workerData.tsx) (await import(workerData.tsx)).register();
    const m = await import(workerData.entry);
    msg = { ok: true, value: await m.runTask(workerData.task) };
  } catch (e) {
    msg = { ok: false, error: { code: e && typeof e.code === 'string' ? e.code : null, message: String((e && e.message) || e) } };
  }
  if (workerData.sync) {
    workerData.sync.port.postMessage(msg);
    const flag = new Int32Array(workerData.sync.flag);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  } else parentPort.postMessage(msg);
})();
`;

function entry(): { entry: string; tsx: string | null } {
  const js = new URL('./worker.js', import.meta.url);
  if (fs.existsSync(fileURLToPath(js))) return { entry: js.href, tsx: null };
  return { entry: new URL('./worker.ts', import.meta.url).href, tsx: import.meta.resolve('tsx/esm/api') };
}

type Wire = { ok: true; value: unknown } | { ok: false; error: { code: string | null; message: string } };

/** Errors come back as {code, message}: coded Owlet errors are rebuilt, SQLite codes kept. */
function unwire<T>(m: Wire): T {
  if (m.ok) return m.value as T;
  const { code, message } = m.error;
  if (isErrorCode(code)) throw fromErrorInfo({ code, message });
  throw Object.assign(new Error(message), code ? { code } : {});
}

export function runTask<T extends TaskResult = TaskResult>(task: Task, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<T> {
  if (opts.signal?.aborted) return Promise.reject(owletError('OWL_ERR_BACKUP_FAILED', { reason: `the backup task "${task.op}" was cancelled` }));
  const w = new Worker(BOOTSTRAP, { eval: true, workerData: { ...entry(), task } });
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
      void w.terminate();
    };
    const timer = setTimeout(
      () => finish(() => reject(owletError('OWL_ERR_BACKUP_FAILED', { reason: `the backup task "${task.op}" did not finish within ${Math.round((opts.timeoutMs ?? 0) / 1000)} s` }))),
      opts.timeoutMs ?? 60 * 60_000,
    );
    timer.unref();
    w.once('message', (m: Wire) => finish(() => {
      try {
        resolve(unwire<T>(m));
      } catch (e) {
        reject(e);
      }
    }));
    w.once('error', (e) => finish(() => reject(e)));
    w.once('exit', (code) => finish(() => reject(owletError('OWL_ERR_BACKUP_FAILED', { reason: `the backup worker stopped (exit ${code}) before finishing "${task.op}"` }))));
    // The service stopping does not wait for a backup: the worker is stopped, its temporary files
    // are removed by the caller (or by the next backup).
    opts.signal?.addEventListener(
      'abort',
      () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        // Rejected only once the thread has stopped, so no file is written after the caller cleans up.
        void w.terminate().finally(() => reject(owletError('OWL_ERR_BACKUP_FAILED', { reason: `the backup task "${task.op}" was cancelled` })));
      },
      { once: true },
    );
  });
}

/** The same, blocking this thread until the worker answers (bounded by `timeoutMs`). */
export function runTaskSync<T extends TaskResult = TaskResult>(task: Task, opts: { timeoutMs?: number } = {}): T {
  const flag = new SharedArrayBuffer(4);
  const { port1, port2 } = new MessageChannel();
  const w = new Worker(BOOTSTRAP, { eval: true, workerData: { ...entry(), task, sync: { port: port2, flag } }, transferList: [port2] });
  try {
    const i32 = new Int32Array(flag);
    const deadline = Date.now() + (opts.timeoutMs ?? 60 * 60_000);
    while (Atomics.load(i32, 0) === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw owletError('OWL_ERR_BACKUP_FAILED', { reason: `the backup task "${task.op}" did not finish in time` });
      Atomics.wait(i32, 0, 0, Math.min(left, 1000));
    }
    const got = receiveMessageOnPort(port1);
    if (!got) throw owletError('OWL_ERR_BACKUP_FAILED', { reason: `the backup worker finished "${task.op}" without an answer` });
    return unwire<T>(got.message as Wire);
  } finally {
    port1.close();
    void w.terminate();
  }
}

