import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { InstallLayout } from '../update/layout.js';

/**
 * Node cannot exec() itself, so an installed `owlet run` is two processes: this tiny launcher,
 * which never changes its code while it runs, and the supervisor it starts from
 * `PREFIX/current/bin/owlet.js`. When an update (or a rollback) has moved `current`, the supervisor
 * moves too:
 *
 *   1. it asks the launcher to prepare (`owlet-prepare`); the launcher starts the next supervisor
 *      in standby from `current` or, during an update, from the new version's tree before
 *      `current` moves: loaded, not yet serving (`owlet-standby` with its version; a standby that
 *      does not say so within STANDBY_WAIT_MS, or names another version, is stopped, and the
 *      update stays where it is);
 *   2. the launcher tells the old one to proceed; it stops its service, sends the port it served on
 *      (`owlet-reexec`) and exits with `REEXEC_EXIT_CODE`;
 *   3. the launcher tells the standby to go (`owlet-go`, same port); it starts the new service
 *      (and, after an update, runs its health gate: update/headless.ts).
 *
 * The standby start keeps Node's start-up and module loading out of the outage. Without a standby
 * (it failed or was slow) the launcher starts the next supervisor cold. Any other exit ends the
 * launcher with the same code (the service manager decides what happens next, as before).
 */
export const REEXEC_EXIT_CODE = 75;
/** Set in the supervisor's environment (the launcher's pid): it runs under a launcher and may re-exec. */
export const LAUNCHER_ENV = 'OWLET_SUPERVISOR_LAUNCHER';
/** Set for a supervisor started in standby: it waits for `owlet-go` before it takes the data folder. */
export const STANDBY_ENV = 'OWLET_SUPERVISOR_STANDBY';
/** Tells a supervisor started cold after a move what it follows (`<version>@<stoppingAt>`), so it reports the move's downtime. */
export const MOVED_ENV = 'OWLET_SUPERVISOR_MOVED';
/** How long the old supervisor keeps serving while the standby loads. */
export const STANDBY_WAIT_MS = 20_000;

export interface ReexecMessage {
  type: 'owlet-reexec';
  version: string;
  port: number | null;
  /** When the old supervisor began stopping its service (epoch ms): the move's downtime runs from here. */
  stoppingAt: number;
}
export interface GoMessage {
  type: 'owlet-go';
  version: string;
  port: number | null;
  stoppingAt: number;
}

const isType =
  <T>(type: string) =>
  (m: unknown): m is T =>
    typeof m === 'object' && m !== null && (m as { type?: unknown }).type === type;
export const isReexecMessage = isType<ReexecMessage>('owlet-reexec');
export const isGoMessage = isType<GoMessage>('owlet-go');
/** `root`: start the standby from this version's tree rather than from `current` (an update proves the next supervisor loads before `current` moves). */
export const isPrepareMessage = isType<{ type: 'owlet-prepare'; version: string; root?: string }>('owlet-prepare');
/** `standbyVersion`: the version of the standby that reported itself loaded; absent when none did (it exited or was too slow, and was stopped). */
export const isProceedMessage = isType<{ type: 'owlet-proceed'; standbyVersion?: string }>('owlet-proceed');
export const isStandbyMessage = isType<{ type: 'owlet-standby'; version?: string }>('owlet-standby');

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
  const start = (extraEnv: Record<string, string>, root = o.layout.current): ChildProcess =>
    spawn(process.execPath, [path.join(root, 'bin', 'owlet.js'), 'run', '--data-dir', o.dataDir, ...(port !== undefined ? ['--port', String(port)] : [])], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, [LAUNCHER_ENV]: String(process.pid), ...extraEnv },
    });
  let child = start({});
  for (;;) {
    const current = child;
    let handover: ReexecMessage | undefined;
    let standby: ChildProcess | undefined;
    let stopping = false;
    current.on('message', (m) => {
      if (isReexecMessage(m)) handover = m;
      else if (isPrepareMessage(m) && !standby) {
        const next = start({ [STANDBY_ENV]: '1' }, m.root ?? o.layout.current);
        standby = next;
        let told = false;
        const proceed = (standbyVersion?: string) => {
          if (told) return;
          told = true;
          clearTimeout(timer);
          // A standby that never said it was loaded, or said it is another version, is not
          // handed the service: stop it, so no later move can tell it to go.
          if (standbyVersion === undefined && standby === next) {
            standby = undefined;
            next.kill('SIGKILL');
          }
          current.send({ type: 'owlet-proceed', ...(standbyVersion !== undefined ? { standbyVersion } : {}) }, (e) => void e);
        };
        const timer = setTimeout(() => proceed(), STANDBY_WAIT_MS);
        next.on('message', (s) => {
          if (!isStandbyMessage(s)) return;
          // Not the version asked for (a `current` moved meanwhile, a tree that is not what its
          // folder says): the old supervisor hears that none loaded, and the move falls back.
          proceed(s.version === undefined || s.version === m.version ? m.version : undefined);
        });
        next.once('exit', () => {
          if (standby === next) standby = undefined;
          proceed();
        });
      }
    });
    const forward = (sig: NodeJS.Signals) => {
      stopping = true;
      current.kill(sig);
      standby?.kill(sig);
    };
    signals.on('SIGTERM', forward);
    signals.on('SIGINT', forward);
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      current.once('error', () => resolve({ code: null, signal: null }));
      current.once('exit', (c, s) => resolve({ code: c, signal: s }));
    });
    signals.off('SIGTERM', forward);
    signals.off('SIGINT', forward);
    if (!stopping && code === REEXEC_EXIT_CODE && handover) {
      if (handover.port !== null) port = handover.port;
      o.out(`owlet: supervisor restarting on ${handover.version} (PREFIX/current) on port ${port ?? 'any'}${standby ? '' : ' (cold start)'}`);
      if (standby && standby.exitCode === null && standby.connected) {
        const go: GoMessage = { type: 'owlet-go', version: handover.version, port: port ?? null, stoppingAt: handover.stoppingAt };
        standby.send(go);
        child = standby;
      } else {
        child = start({ [MOVED_ENV]: `${handover.version}@${handover.stoppingAt}` });
      }
      continue;
    }
    standby?.kill('SIGTERM');
    return code ?? (signal ? 128 + (signal === 'SIGKILL' ? 9 : 15) : 1);
  }
}

/**
 * In a supervisor started in standby: says it is loaded, then waits for the launcher's go (the old
 * supervisor has stopped its service by then). Resolves with the go message; null if the launcher
 * went away first.
 */
export function awaitGo(version?: string): Promise<GoMessage | null> {
  return new Promise((resolve) => {
    const onMessage = (m: unknown) => {
      if (!isGoMessage(m)) return;
      process.off('message', onMessage);
      process.off('disconnect', onGone);
      resolve(m);
    };
    const onGone = () => {
      process.off('message', onMessage);
      resolve(null);
    };
    process.on('message', onMessage);
    process.once('disconnect', onGone);
    process.send?.({ type: 'owlet-standby', ...(version !== undefined ? { version } : {}) });
  });
}
