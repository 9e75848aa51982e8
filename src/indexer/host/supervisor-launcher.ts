import { spawn } from 'node:child_process';
import path from 'node:path';
import type { InstallLayout } from '../update/layout.js';

/**
 * Node cannot exec() itself, so an installed `owlet run` is two processes: this tiny launcher,
 * which never changes its code while it runs, and the supervisor it starts from
 * `PREFIX/current/bin/owlet.js`. When an update (or a rollback) has moved `current`, the
 * supervisor stops its service, tells the launcher the port it served on, and exits with
 * `REEXEC_EXIT_CODE`; the launcher starts the supervisor again from the new `current`, on the same
 * port, so the supervisor runs the new version's code too. Any other exit ends the launcher with
 * the same code (the service manager decides what happens next, as before).
 */
export const REEXEC_EXIT_CODE = 75;
/** Set in the supervisor's environment (the launcher's pid): it runs under a launcher and may re-exec. */
export const LAUNCHER_ENV = 'OWLET_SUPERVISOR_LAUNCHER';

export interface ReexecMessage {
  type: 'owlet-reexec';
  version: string;
  port: number | null;
  /** When the old supervisor began stopping its service (epoch ms): the move's downtime runs from here. */
  stoppingAt: number;
}

/** Tells the restarted supervisor it follows a move (`<version>@<stoppingAt>`), so it reports the move's downtime. */
export const MOVED_ENV = 'OWLET_SUPERVISOR_MOVED';

export function isReexecMessage(m: unknown): m is ReexecMessage {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'owlet-reexec';
}

export interface LaunchOptions {
  layout: InstallLayout;
  dataDir: string;
  port?: number;
  out: (line: string) => void;
  /** Default: `process`. Tests pass an emitter to deliver signals. */
  signals?: Pick<NodeJS.Process, 'on' | 'off'>;
}

/** Runs supervisors from `PREFIX/current` until one exits without asking to be restarted; resolves with its code. */
export async function launchSupervisor(o: LaunchOptions): Promise<number> {
  const signals = o.signals ?? process;
  let port = o.port;
  let moved: ReexecMessage | undefined;
  for (;;) {
    const bin = path.join(o.layout.current, 'bin', 'owlet.js');
    const child = spawn(process.execPath, [bin, 'run', '--data-dir', o.dataDir, ...(port !== undefined ? ['--port', String(port)] : [])], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, [LAUNCHER_ENV]: String(process.pid), ...(moved ? { [MOVED_ENV]: `${moved.version}@${moved.stoppingAt}` } : {}) },
    });
    let handover: ReexecMessage | undefined;
    let stopping = false;
    child.on('message', (m) => {
      if (isReexecMessage(m)) handover = m;
    });
    const forward = (sig: NodeJS.Signals) => {
      stopping = true;
      child.kill(sig);
    };
    signals.on('SIGTERM', forward);
    signals.on('SIGINT', forward);
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('error', () => resolve({ code: null, signal: null }));
      child.once('exit', (c, s) => resolve({ code: c, signal: s }));
    });
    signals.off('SIGTERM', forward);
    signals.off('SIGINT', forward);
    if (!stopping && code === REEXEC_EXIT_CODE && handover) {
      if (handover.port !== null) port = handover.port;
      moved = handover;
      o.out(`owlet: supervisor restarting on ${handover.version} (PREFIX/current) on port ${port ?? 'any'}`);
      continue;
    }
    return code ?? (signal ? 128 + (signal === 'SIGKILL' ? 9 : 15) : 1);
  }
}
