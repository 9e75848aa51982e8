import { fileURLToPath } from 'node:url';
import { forkServiceLauncher, LaunchRefusedError, type ServiceLauncher } from './launcher.js';
import { bindListenSocket, canShareHost, type SharedListenSocket } from './listen-socket.js';
import { toErrorInfo } from '../../shared/errors.js';
import { createIndexerHost, type IndexerHost, type ServiceEntry } from './indexer-host.js';
import { createSupervisor, type Supervisor, type SupervisorOptions } from './supervisor.js';
import { owletError } from '../../shared/errors.js';
import type { Logger } from '../log/logger.js';
import { attachHeadlessUpdates } from '../update/attach.js';
import { LAUNCHER_ENV, MOVED_ENV, REEXEC_EXIT_CODE, STANDBY_WAIT_MS, isProceedMessage, type ReexecMessage } from './supervisor-launcher.js';

/** The CLI entry the service child runs (`bin/owlet.js serve …`), found relative to this file. */
export const OWLET_BIN = fileURLToPath(new URL('../../../bin/owlet.js', import.meta.url));

/**
 * A small young generation keeps the long-running service's resident memory down (measured by the
 * bench); --expose-gc lets the service run one full collection when it goes idle, so the heap that
 * indexing grew is handed back (service.ts releaseMemory, config memory.idleReleaseSeconds).
 * --v8-pool-size=2: two V8 helper threads instead of four, each with stacks and allocations that
 * stay resident in an idle service (issue #14; Electron builds its own V8 platform of 3 threads and
 * passes a utility process only debugging options of Node's, so there the flag is inert).
 */
export const SERVICE_EXEC_ARGV = ['--max-semi-space-size=2', '--expose-gc', '--v8-pool-size=2'];

/**
 * The read-only hot standby's entry (standby.ts), in the built tree beside this file's (the same
 * from dist/ and, under tsx, from src/: both resolve to dist/indexer/host/).
 */
export const STANDBY_MAIN = fileURLToPath(new URL('../../../dist/indexer/host/standby-main.js', import.meta.url));

/** A small heap: the standby only answers readiness and searches. */
export const STANDBY_EXEC_ARGV = ['--max-semi-space-size=1'];

/** A standby that failed for good (its configuration, a refused launch) is tried again after this long. */
export const STANDBY_RETRY_MS = 60_000;

/** The service this checkout (or installed version) runs headless. */
export const HEADLESS_ENTRY: ServiceEntry = { modulePath: OWLET_BIN, execArgv: SERVICE_EXEC_ARGV, acceptsListenSocket: true };

export interface RunOptions {
  dataDir: string;
  port?: number;
  /**
   * The configured `server.host`. With it, and a launcher that shares sockets, this supervisor
   * binds host:port once and hands the socket to every child (listen-socket.ts), so connections
   * wait in the backlog across a restart instead of being refused.
   */
  host?: string;
  /** false: every child binds its own socket, as the Electron app's do (tests compare the two). */
  shareSocket?: boolean;
  log: Logger;
  out: (line: string) => void;
  /** Default: `child_process.fork` with a scrubbed environment. */
  launcher?: ServiceLauncher;
  /** Default: this checkout's `bin/owlet.js`. The update engine points it at another version's tree. */
  entry?: ServiceEntry;
  supervisor?: Partial<Omit<SupervisorOptions, 'launch' | 'log'>>;
  /** Called with the host once it exists (tests reach it here). */
  onHost?: (host: IndexerHost) => void;
  /** false: no update engine (tests of the supervisor alone). */
  updates?: boolean;
  /** Tests only: the machine policy file (default: the OS location). */
  policyFile?: string;
  /**
   * The read-only hot standby (standby.ts) beside the service, on the shared socket. Default: on
   * whenever the socket is shared; false turns it off (tests of the primary alone).
   */
  standby?: boolean;
  /** Called with the standby's supervisor once it exists (tests reach it here). */
  onStandby?: (standby: Supervisor) => void;
}

/**
 * `owlet run`: the production headless mode. This process only supervises; the service runs in a
 * child (`owlet serve --supervisor-pid`) started by `createIndexerHost()` — the same host the
 * Electron app uses — restarted when it crashes or hangs, on the same port every time. The child's
 * warnings and errors, forwarded as typed messages, are printed here too (its full log is in
 * logs/service.log), so a service manager's journal shows why it stopped.
 */
export async function runSupervised(opts: RunOptions): Promise<number> {
  const serviceLauncher = opts.launcher ?? forkServiceLauncher();
  const listenSocket = openListenSocket(opts, serviceLauncher);
  const host = createIndexerHost({
    dataDir: opts.dataDir,
    ...(opts.port !== undefined ? { port: opts.port } : {}),
    ...(listenSocket ? { listenSocket } : {}),
    entry: opts.entry ?? HEADLESS_ENTRY,
    launcher: serviceLauncher,
    supervisorPid: process.pid,
    forwardLogs: 'warn',
    log: opts.log,
    ...(opts.supervisor ? { supervisor: opts.supervisor } : {}),
  });
  opts.onHost?.(host);
  const standby = listenSocket && opts.standby !== false ? standbySupervisor(opts, serviceLauncher, listenSocket, () => host.entry.acceptsListenSocket === true) : null;
  if (standby) opts.onStandby?.(standby);
  let announced = false;
  // After a move (supervisor re-exec) the service was down from the old supervisor's stop to here.
  const moved = /^(.+)@(\d+)$/.exec(process.env[MOVED_ENV] ?? '');
  host.onDidBecomeReady((r) => {
    // The standby starts once the primary has opened (and, if it had to, repaired) the index.
    if (standby && !leaving && (standby.state === 'idle' || standby.state === 'stopped')) standby.start();
    if (!announced) {
      opts.out(`Owlet supervisor ${process.pid} serving on ${r.url}`);
      if (moved) {
        const downtimeMs = Date.now() - Number(moved[2]);
        opts.out(`owlet: supervisor moved to ${moved[1]}; the service was down ${downtimeMs} ms for the move`);
        opts.log.info('supervisor moved', { version: moved[1], downtimeMs });
      }
    }
    announced = true;
  });
  host.onDidLog(({ record }) => opts.out(`service ${record.level}: ${record.component}: ${record.msg}`));
  host.onDidCrash((c) =>
    opts.out(`service child stopped unexpectedly (${c.error ? `${c.error.message}; ` : ''}${c.reason}${c.code !== null ? `, code ${c.code}` : ''}${c.signal ? `, ${c.signal}` : ''}); ${host.state === 'failed' ? 'not restarting' : 'restarting'}`),
  );
  host.start();
  // Under the installed launcher (supervisor-launcher.ts) this supervisor can hand over to the
  // version `current` names once an update or rollback moved it.
  const launcher = process.env[LAUNCHER_ENV] !== undefined && typeof process.send === 'function';
  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));
  const finish = (code: number) => {
    // Already stopped on the normal paths; here for a supervisor that gives up (the service failed).
    void standby?.stop('supervisor exiting');
    listenSocket?.close();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    resolveDone(code);
  };
  let leaving = false;
  /** The version whose supervisor the launcher holds in standby (prepared by an update before `current` moved). */
  let prepared: string | null = null;
  /** Asks the launcher to load `version`'s supervisor in standby; true once it said it is loaded. */
  const prepareMove = (version: string, root?: string) =>
    new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => done(false), STANDBY_WAIT_MS + 5_000);
      function done(ok: boolean) {
        clearTimeout(timer);
        process.off('message', onMessage);
        if (ok) prepared = version;
        resolve(ok);
      }
      function onMessage(m: unknown) {
        if (isProceedMessage(m)) done(m.standbyVersion === version);
      }
      process.on('message', onMessage);
      process.send!({ type: 'owlet-prepare', version, ...(root ? { root } : {}) });
    });
  const handOver = async (version: string) => {
    if (leaving) return;
    if (!launcher) {
      opts.out(`owlet: ${version} is now current; this supervisor keeps its own code until \`owlet run\` is restarted`);
      return;
    }
    leaving = true;
    // Let the launcher load the next supervisor first; this one serves until it is ready (an
    // update has usually done this already, before it moved `current`).
    if (prepared !== version) await prepareMove(version);
    opts.out(`owlet: supervisor moving to ${version}: stopping the service and restarting from PREFIX/current`);
    opts.log.info('supervisor re-exec', { version, port: host.port ?? null });
    const stoppingAt = Date.now();
    await updates?.close();
    await standby?.stop('supervisor re-exec');
    await host.stop('supervisor re-exec');
    // The next supervisor binds the port again.
    listenSocket?.close();
    const msg: ReexecMessage = { type: 'owlet-reexec', version, port: host.port ?? null, stoppingAt };
    process.send!(msg, undefined, {}, () => {
      process.disconnect?.();
      finish(REEXEC_EXIT_CODE);
    });
  };
  // The update engine switches the host's entry to another version's tree and restarts it.
  const updates =
    opts.updates === false
      ? null
      : await attachHeadlessUpdates({
          dataDir: opts.dataDir,
          ownBin: OWLET_BIN,
          host,
          log: opts.log,
          out: opts.out,
          ...(opts.policyFile ? { policyFile: opts.policyFile } : {}),
          onNewCurrent: (v) => void handOver(v),
          // One outage per update: the new version's supervisor, loaded in standby, starts the new
          // service and runs the health gate itself (update/headless.ts).
          ...(launcher ? { move: { prepare: prepareMove, leave: (v: string) => void handOver(v) } } : {}),
          ...(moved ? { movedAt: Number(moved[2]) } : {}),
        });
  function stop(sig: string): void {
    if (leaving) return;
    leaving = true;
    void Promise.resolve(updates?.close())
      // The standby first: it must never be the last process answering on the port.
      .then(() => standby?.stop(sig))
      .then(() => host.stop(sig))
      .then(() => finish(0));
  }
  // `on`, not `once`: a terminal's Ctrl-C reaches this process twice under the launcher (the
  // group's SIGINT and the launcher's forwarded one); the second must not kill it mid-drain.
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // A launcher killed outright leaves this supervisor alone: stop, so a new `owlet run` can start.
  if (launcher) process.once('disconnect', () => stop('launcher gone'));
  host.onDidChangeState((s) => {
    // Another version's service (the update engine switched the entry) binds the port itself: the
    // standby's copy of the socket must be gone before it starts.
    if (standby && s.state === 'stopping' && !host.entry.acceptsListenSocket) void standby.stop('the service entry does not share the socket');
    // A version under its health gate may fail to start: the update engine rolls it back.
    if (s.state === 'failed' && !updates?.updater?.inProgress && !leaving) {
      opts.out(`owlet: the service cannot start: ${host.failure?.message ?? 'unknown reason'}`);
      finish(78);
    }
  });
  return done;
}

/**
 * Binds the shared listening socket when it can be shared: a launcher that passes it on (fork, not
 * Electron's utilityProcess), a loopback IP literal. If the port cannot be bound here, nothing is
 * shared: the child tries itself and reports the port error in its own words.
 */
function openListenSocket(opts: RunOptions, launcher: ServiceLauncher): SharedListenSocket | undefined {
  if (opts.shareSocket === false || !launcher.sharesListenSocket || opts.host === undefined || !canShareHost(opts.host)) return undefined;
  try {
    const socket = bindListenSocket(opts.host, opts.port ?? 0);
    opts.log.info('listening socket bound by the supervisor', { host: socket.host, port: socket.port });
    return socket;
  } catch (e) {
    const info = toErrorInfo(e);
    opts.log.warn('listening socket not shared', { code: info.code, message: info.message });
    return undefined;
  }
}

/**
 * The supervisor of the read-only standby: its own child, heartbeat and restart policy, so a
 * standby that crashes or hangs is replaced without touching the primary, and the primary's
 * restarts do not touch the standby. It shares the listening socket and nothing else.
 */
function standbySupervisor(opts: RunOptions, launcher: ServiceLauncher, socket: SharedListenSocket, entryShares: () => boolean): Supervisor {
  const log = opts.log.child('standby');
  let retry: NodeJS.Timeout | null = null;
  const sup = createSupervisor({
    ...opts.supervisor,
    launch: () => {
      if (socket.closed || !entryShares()) {
        throw new LaunchRefusedError({ ...toErrorInfo(owletError('OWL_ERR_NOT_READY', { reason: 'no shared listening socket for the standby (the service binds its own)' })) });
      }
      return launcher({ modulePath: STANDBY_MAIN, args: ['--data-dir', opts.dataDir, '--port', String(socket.port)], execArgv: STANDBY_EXEC_ARGV, listenSocket: socket });
    },
    log: (e) => (e.type === 'crash' || e.type === 'hang' || e.type === 'failed' || e.type === 'kill' || e.type === 'crash-loop' ? log.warn(`standby supervisor ${e.type}`, { ...e }) : log.info(`standby supervisor ${e.type}`, { ...e })),
  });
  sup.onDidChangeState((s) => {
    // A service (re)started while the standby serves accepts only once ready (serve.ts).
    socket.standby = s.state === 'running';
    if (s.state === 'failed' && !socket.closed && retry === null) {
      retry = setTimeout(() => {
        retry = null;
        if (sup.state === 'failed' && !socket.closed) sup.start();
      }, STANDBY_RETRY_MS);
      retry.unref();
    } else if (s.state === 'stopping' && retry) {
      clearTimeout(retry);
      retry = null;
    }
  });
  return sup;
}
