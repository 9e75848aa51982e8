import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MEMORY_EXIT_CODE } from './protocol.js';

/** The pool's view of one worker process, so hosts (Electron's utilityProcess) can supply their own. */
export interface WorkerHandle {
  send(msg: unknown): void;
  onMessage(cb: (m: unknown) => void): void;
  onExit(cb: (code: number | null, signal: string | null) => void): void;
  kill(): void;
  readonly pid: number | undefined;
}

export type WorkerLauncher = () => WorkerHandle;

/**
 * The worker script next to this file: worker-main.js when compiled; when running from TypeScript
 * sources (tests under tsx) only worker-main.ts exists and the child needs tsx's loader too.
 */
function workerScript(): { path: string; execArgv: string[] } {
  const js = fileURLToPath(new URL('./worker-main.js', import.meta.url));
  if (fs.existsSync(js)) return { path: js, execArgv: [] };
  const ts = fileURLToPath(new URL('./worker-main.ts', import.meta.url));
  // An absolute URL, so the child finds tsx whatever its working directory (`node --import tsx`).
  return { path: ts, execArgv: ['--import', import.meta.resolve('tsx')] };
}

/** Launches workers with child_process.fork (the headless service). */
export function forkWorkerLauncher(opts: { execArgv?: string[]; env?: NodeJS.ProcessEnv } = {}): WorkerLauncher {
  const script = workerScript();
  return () =>
    handleFromChild(
      fork(script.path, [], {
        // Explicit execArgv: never inherit the parent's flags (--inspect ports, test runner flags).
        execArgv: [...script.execArgv, ...(opts.execArgv ?? [])],
        env: opts.env ?? process.env,
        serialization: 'advanced',
        // stdout ignored: a parser printing must not corrupt the service's own output.
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      }),
    );
}

const STDERR_TAIL = 4096;

/**
 * Adapts a forked ChildProcess to WorkerHandle. Its stderr should be piped: it is forwarded to
 * ours (unless `forwardStderr: false`) and its tail tells a V8 heap exhaustion from other aborts.
 */
export function handleFromChild(child: ChildProcess, opts: { forwardStderr?: boolean } = {}): WorkerHandle {
  let tail = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (opts.forwardStderr !== false) process.stderr.write(d);
    tail = (tail + d.toString('utf8')).slice(-STDERR_TAIL);
  });
  const exitCbs: Array<(code: number | null, signal: string | null) => void> = [];
  let exited = false;
  const fireExit = (code: number | null, signal: string | null): void => {
    if (exited) return;
    exited = true;
    // V8 running out of heap aborts the process (SIGABRT) after printing this: report it as the
    // memory exit, so the pool can tell "too much memory" from "parser crashed".
    if (signal === 'SIGABRT' && /heap out of memory|Reached heap limit/i.test(tail)) {
      code = MEMORY_EXIT_CODE;
      signal = null;
    }
    for (const cb of exitCbs) cb(code, signal);
  };
  child.on('exit', (code, signal) => fireExit(code, signal));
  // A child that could not be spawned at all may never emit 'exit'.
  child.on('error', () => {
    if (child.pid === undefined) fireExit(null, null);
  });
  return {
    send(msg) {
      if (!child.connected) return; // dying child: its exit event settles the job
      child.send(msg as object, (err) => void err);
    },
    onMessage(cb) {
      child.on('message', cb);
    },
    onExit(cb) {
      exitCbs.push(cb);
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
    get pid() {
      return child.pid;
    },
  };
}
