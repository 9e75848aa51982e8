import type { UtilityProcess, ForkOptions } from 'electron';
import type { ChildHandle, LaunchSpec, ServiceLauncher } from '../indexer/host/launcher.js';
import { scrubEnv, serviceEnv } from '../indexer/host/launcher.js';
import type { HostMessage } from '../shared/protocol.js';

/** The slice of Electron's `utilityProcess` module the launcher needs (tests pass a fake). */
export interface UtilityProcessApi {
  fork(modulePath: string, args?: string[], options?: ForkOptions): UtilityProcess;
}

/** Longest output line passed on; a runaway line is cut, not buffered without bound. */
const MAX_LINE = 8192;

/** Splits a stream into lines and calls `cb` for each (the last partial line at the end). */
function eachLine(stream: NodeJS.ReadableStream | null, cb: (line: string) => void): void {
  if (!stream) return;
  let buf = '';
  stream.setEncoding?.('utf8');
  stream.on('data', (chunk: string | Buffer) => {
    buf += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
      if (line) cb(line.slice(0, MAX_LINE));
    }
    if (buf.length > MAX_LINE) {
      cb(buf.slice(0, MAX_LINE));
      buf = '';
    }
  });
  stream.on('end', () => {
    if (buf) cb(buf.slice(0, MAX_LINE));
    buf = '';
  });
}

/**
 * The indexer host's launcher on Electron's utilityProcess: the same `createIndexerHost()` (and so
 * the same supervisor) that drives `child_process.fork` headless drives the app's indexer process.
 * Messages travel over the private parentPort channel; the environment is scrubbed the same way.
 * stdout/stderr are piped and passed on line by line (`onOutput`): a utility process's output
 * otherwise goes nowhere, and a crash before the IPC channel is up would leave no trace.
 */
export function utilityServiceLauncher(api: UtilityProcessApi, opts: { env?: NodeJS.ProcessEnv } = {}): ServiceLauncher {
  return (spec: LaunchSpec): ChildHandle => {
    const child = api.fork(spec.modulePath, spec.args, {
      serviceName: 'Owlet indexer',
      env: serviceEnv(scrubEnv(opts.env ?? process.env)),
      execArgv: spec.execArgv,
      stdio: 'pipe',
    });
    let exited = false;
    const exitCbs: ((code: number | null, signal: string | null) => void)[] = [];
    const outputCbs: ((stream: 'stdout' | 'stderr', line: string) => void)[] = [];
    eachLine(child.stdout, (l) => outputCbs.forEach((cb) => cb('stdout', l)));
    eachLine(child.stderr, (l) => outputCbs.forEach((cb) => cb('stderr', l)));
    child.on('exit', (code: number) => {
      if (exited) return;
      exited = true;
      // Electron reports only a code; a killed utility process shows up as a non-zero code.
      for (const cb of exitCbs) cb(code, null);
    });
    return {
      get pid() {
        return child.pid;
      },
      send(msg: HostMessage) {
        if (!exited) child.postMessage(msg);
      },
      kill() {
        if (!exited) child.kill();
      },
      onMessage(cb) {
        child.on('message', cb);
      },
      onExit(cb) {
        if (exited) setImmediate(() => cb(null, null));
        else exitCbs.push(cb);
      },
      onOutput(cb) {
        outputCbs.push(cb);
      },
    };
  };
}
