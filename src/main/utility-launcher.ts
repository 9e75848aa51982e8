import type { UtilityProcess, ForkOptions } from 'electron';
import type { ChildHandle, Launcher } from '../indexer/host/launcher.js';
import { scrubEnv } from '../indexer/host/launcher.js';
import type { HostMessage } from '../shared/protocol.js';

/** The slice of Electron's `utilityProcess` module the launcher needs (tests pass a fake). */
export interface UtilityProcessApi {
  fork(modulePath: string, args?: string[], options?: ForkOptions): UtilityProcess;
}

/**
 * A supervisor Launcher on Electron's utilityProcess: the same supervisor state machine that
 * drives `child_process.fork` headless drives the app's indexer process. Messages travel over
 * the private parentPort channel; the environment is scrubbed the same way.
 */
export function utilityLauncher(api: UtilityProcessApi, opts: { modulePath: string; args: string[]; env?: NodeJS.ProcessEnv }): Launcher {
  return (): ChildHandle => {
    const child = api.fork(opts.modulePath, opts.args, {
      serviceName: 'Owlet indexer',
      env: scrubEnv(opts.env ?? process.env),
      stdio: 'ignore',
    });
    let exited = false;
    const exitCbs: ((code: number | null, signal: string | null) => void)[] = [];
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
    };
  };
}
