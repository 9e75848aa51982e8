/**
 * How the supervisor gets a child process. The supervisor only ever sees a `ChildHandle`, so the
 * same state machine drives a `child_process.fork` child (headless `owlet run`, tests; this file)
 * and an Electron `utilityProcess.fork` child (`src/main/utility-launcher.ts`, which builds the
 * same `ServiceLauncher` on Electron's API).
 *
 * This file is Node-only (it imports child_process); supervisor.ts imports its types only.
 */
import { fork } from 'node:child_process';
import type { ErrorInfo } from '../../shared/errors.js';
import { isServiceMessage, type HostMessage } from '../../shared/protocol.js';
import type { SharedListenSocket } from './listen-socket.js';

/** One started child process, reduced to what the supervisor needs. */
export interface ChildHandle {
  /** OS process id; undefined when the process could not be spawned. */
  readonly pid: number | undefined;
  /** Sends a message; never throws (a closed channel is reported by the exit that follows). */
  send(msg: HostMessage): void;
  /** Sends a signal if the process is still alive; never throws. */
  kill(signal?: 'SIGTERM' | 'SIGKILL'): void;
  /** Every message from the child, unvalidated: the supervisor checks the shape. */
  onMessage(cb: (m: unknown) => void): void;
  /**
   * Called exactly once when the process is gone (also when spawning failed: code and signal
   * null). A callback registered after the exit is called on the next tick.
   */
  onExit(cb: (code: number | null, signal: string | null) => void): void;
  /**
   * Lines the child wrote to stdout/stderr, for launchers that pipe them (Electron's utility
   * process, whose output would otherwise go nowhere). Absent when the output is inherited.
   */
  onOutput?(cb: (stream: 'stdout' | 'stderr', line: string) => void): void;
}

/**
 * Starts a new child each time it is called. May throw if the process cannot be created; throws
 * `LaunchRefusedError` when it decided not to start one (the supervisor then fails, no restart).
 */
export type Launcher = () => ChildHandle;

/**
 * Thrown by a launcher that refuses to start a child before anything was forked, e.g. because the
 * key handover cannot be prepared (no keychain, keys of another store, an encrypted index with no
 * key). Carries the user-actionable error.
 */
export class LaunchRefusedError extends Error {
  constructor(readonly info: ErrorInfo) {
    super(info.message);
    this.name = 'LaunchRefusedError';
  }
}

/** What to start: the service's entry module, its arguments and Node flags. */
export interface LaunchSpec {
  modulePath: string;
  args: string[];
  execArgv: string[];
  /** The supervisor's listening socket, for a launcher that `sharesListenSocket` (then args ask for it). */
  listenSocket?: SharedListenSocket;
}

/**
 * Starts a child for a spec. The host builds a new spec for every start (current port, current
 * entry), so one launcher serves restarts and version switches alike. `forkServiceLauncher` here,
 * `utilityServiceLauncher` in src/main.
 */
export interface ServiceLauncher {
  (spec: LaunchSpec): ChildHandle;
  /**
   * True when the launcher hands `spec.listenSocket` to the child, so connections wait in the
   * backlog across restarts. Fork IPC can carry a socket handle; Electron's utilityProcess cannot
   * (absent there: each child binds the pinned port itself, refused connections during a restart).
   */
  readonly sharesListenSocket?: boolean;
}

/**
 * The environment variables a child may inherit. Everything else is dropped.
 *
 * Why an allow-list: the service is a long-lived process that reads the user's files; anything in
 * the parent's environment (tokens, cloud credentials, `*_PROXY`, `LD_PRELOAD`, debugging knobs)
 * would otherwise leak into it and into every extractor it starts, and environment variables would
 * silently reconfigure a shipped app. `NODE_OPTIONS` in particular is NOT passed: it can inject
 * code into the child (`--require`/`--import`), open an inspector port (`--inspect`), or change
 * heap limits, and the test runner and dev tools set it freely. Flags the child needs are passed
 * explicitly through `execArgv`. (The same goes for `NODE_TEST_CONTEXT`, which `node --test` sets
 * and which would make a forked child talk the test runner's protocol.)
 *
 * Names ending in `*` are prefixes. `OWLET_DATA_DIR` and `OWLET_ALLOW_ROOT` are the only Owlet
 * variables the service honours.
 * `DBUS_SESSION_BUS_ADDRESS` lets the service reach the OS keychain (Secret Service) on Linux.
 */
export const ENV_ALLOW_LIST: readonly string[] = ['PATH', 'HOME', 'USER', 'LANG', 'LC_*', 'TMPDIR', 'XDG_*', 'OWLET_DATA_DIR', 'OWLET_ALLOW_ROOT', 'DBUS_SESSION_BUS_ADDRESS'];

/**
 * Windows-only additions without which a Node process misbehaves there: `SystemRoot` (crypto and
 * sockets fail without it), `TEMP`/`TMP` (os.tmpdir), `USERPROFILE` (os.homedir), `LOCALAPPDATA`
 * (Owlet's default data directory), `APPDATA`, `ComSpec`/`PATHEXT` (spawning helpers).
 */
export const WINDOWS_ENV_ALLOW_LIST: readonly string[] = [
  'SYSTEMROOT', 'SYSTEMDRIVE', 'WINDIR', 'TEMP', 'TMP', 'USERPROFILE', 'USERNAME', 'LOCALAPPDATA', 'APPDATA',
  'COMSPEC', 'PATHEXT', 'HOMEDRIVE', 'HOMEPATH', 'PROGRAMDATA',
];

/**
 * Returns a new environment holding only the allowed variables of `env`. Pure, so the Electron
 * adapter can use it for `utilityProcess.fork({ env })` as well. On Windows variable names are
 * case-insensitive (`Path`), so matching is too.
 */
export function scrubEnv(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): NodeJS.ProcessEnv {
  const win = platform === 'win32';
  const allow = win ? [...ENV_ALLOW_LIST, ...WINDOWS_ENV_ALLOW_LIST] : ENV_ALLOW_LIST;
  const norm = (s: string): string => (win ? s.toUpperCase() : s);
  const exact = new Set(allow.filter((a) => !a.endsWith('*')).map(norm));
  const prefixes = allow.filter((a) => a.endsWith('*')).map((a) => norm(a.slice(0, -1)));
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    const n = norm(name);
    if (exact.has(n) || prefixes.some((p) => n.startsWith(p))) out[name] = value;
  }
  return out;
}

/**
 * glibc malloc settings for the service process (issue #14), set by every host that starts it (the
 * headless supervisor here, the Electron adapter in src/main, the memory bench). Each thread that
 * allocates gets its own malloc arena (up to 8 per core); the service's threads (libuv's pool, V8's
 * platform workers) leave partly used pages in each that malloc_trim cannot return, so an idle
 * service keeps them resident. Two arenas bound that; the service's own work (SQLite, FTS5) runs
 * on its main thread, so the contention this adds is off the hot path. Only glibc reads it;
 * elsewhere the variable is inert. glibc reads it when a program starts: Electron's utility
 * process, unsandboxed, is started afresh (not forked from the zygote), so it gets it too.
 */
export const SERVICE_MALLOC_TUNABLES = 'glibc.malloc.arena_max=2';

/**
 * The environment the service starts with: `env` (already scrubbed: GLIBC_TUNABLES is not on the
 * allow-list, so a user's own tunables never reach the service) plus SERVICE_MALLOC_TUNABLES.
 * Pure; the workers the service forks add their own settings in front (extract/pool.ts workerEnv).
 */
export function serviceEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, GLIBC_TUNABLES: SERVICE_MALLOC_TUNABLES };
}

export interface ForkLauncherOptions {
  /** The service entry module (a built .js file). */
  modulePath: string;
  args: string[];
  /**
   * Node flags for the child. Defaults to none: the parent's own flags (`--inspect`, `--import
   * tsx`, `--test`…) are deliberately NOT inherited, unlike `fork`'s default.
   */
  execArgv?: string[];
  /** The environment to scrub and pass on (default `process.env`). Only ENV_ALLOW_LIST survives. */
  env?: NodeJS.ProcessEnv;
  /** Sent to the child with a `listen-socket` message right after the fork (the supervisor keeps its own). */
  listenSocket?: SharedListenSocket;
}

/** A ServiceLauncher on `child_process.fork` (headless `owlet run`), environment scrubbed. */
export function forkServiceLauncher(opts: { env?: NodeJS.ProcessEnv } = {}): ServiceLauncher {
  const launcher = (spec: LaunchSpec): ChildHandle =>
    forkLauncher({ modulePath: spec.modulePath, args: spec.args, execArgv: spec.execArgv, ...(opts.env ? { env: opts.env } : {}), ...(spec.listenSocket ? { listenSocket: spec.listenSocket } : {}) })();
  return Object.assign(launcher, { sharesListenSocket: true as const });
}

/** A Launcher built on `child_process.fork`, with structured-clone IPC and a scrubbed environment (plus serviceEnv's settings). */
export function forkLauncher(opts: ForkLauncherOptions): Launcher {
  return () => {
    const child = fork(opts.modulePath, opts.args, {
      serialization: 'advanced',
      env: serviceEnv(scrubEnv(opts.env ?? process.env)),
      execArgv: opts.execArgv ?? [],
      // stdout/stderr go to the parent's (the headless host's log); no stdin.
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });

    let exit: { code: number | null; signal: string | null } | undefined;
    const exitListeners: ((code: number | null, signal: string | null) => void)[] = [];
    const fireExit = (code: number | null, signal: string | null): void => {
      if (exit) return;
      exit = { code, signal };
      for (const cb of exitListeners.splice(0)) cb(code, signal);
    };
    child.on('exit', (code, signal) => fireExit(code, signal));
    // 'error' is emitted when spawning fails (then 'exit' may never come), and when kill/send fail
    // on a dying process. Without a listener it would throw in the parent.
    child.on('error', () => {
      if (child.pid === undefined) fireExit(null, null);
    });
    const socket = opts.listenSocket;
    const sendSocket = (): void => {
      if (!socket || socket.closed || child.pid === undefined || !child.connected) return;
      // Queued on the channel until the child reads it; the supervisor's handle stays open.
      const msg: HostMessage = { type: 'listen-socket', host: socket.host, port: socket.port, ...(socket.standby ? { standby: true } : {}) };
      try {
        child.send(msg, socket.handle as Parameters<typeof child.send>[1], {}, (err) => void err);
      } catch {
        /* channel already closed: the child's exit reports it */
      }
    };
    sendSocket();
    // A service that closed its copy (it paused accepting during a recovery) gets the socket again.
    if (socket) child.on('message', (m: unknown) => (isServiceMessage(m) && m.type === 'listen-socket-request' ? sendSocket() : undefined));

    return {
      pid: child.pid,
      send(msg) {
        if (!child.connected) return;
        try {
          child.send(msg, (err) => void err); // with a callback, failures are not 'error' events
        } catch {
          /* channel closed in between: the exit event reports it */
        }
      },
      kill(signal = 'SIGTERM') {
        if (exit || child.exitCode !== null || child.signalCode !== null) return;
        try {
          child.kill(signal);
        } catch {
          /* already gone */
        }
      },
      onMessage(cb) {
        child.on('message', (m: unknown) => cb(m));
      },
      onExit(cb) {
        if (exit) {
          const { code, signal } = exit;
          process.nextTick(() => cb(code, signal));
        } else exitListeners.push(cb);
      },
    };
  };
}
