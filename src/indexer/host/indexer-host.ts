/**
 * `createIndexerHost()`: the ONE composition that runs the indexer service in a child process, used
 * by both hosts — `owlet run` (headless, `child_process.fork`) and the Electron main process
 * (`utilityProcess.fork`). Only the launcher differs; everything else is shared:
 *
 * - the same supervisor and restart policy (backoff, crash loop, hang detection, graceful stop);
 * - port pinning: the port the first child bound is passed to every later child, so a dashboard
 *   window locked to the old origin keeps working after a restart;
 * - key handover BEFORE the fork: the keys are obtained first and a failure refuses the launch
 *   (state `failed`, reason `refused`), so no child is ever started that cannot be given its key;
 * - log forwarding: the child sends its log records (and any start-up error as `fatal`) over the
 *   one message contract in src/shared/protocol.ts; the host re-emits them as `onDidLog`;
 * - supervisor events written to the host's structured log.
 *
 * The entry (which module the child runs, with which Node flags) is injectable and switchable with
 * `setEntry()`, so the update engine can start another version's tree and roll back to the old one.
 *
 * Plain Node: nothing here imports electron (the Electron launcher is passed in by src/main).
 */
import { LaunchRefusedError, type ChildHandle, type LaunchSpec, type Launcher, type ServiceLauncher } from './launcher.js';
import type { SharedListenSocket } from './listen-socket.js';
import {
  createSupervisor,
  type ChildLog,
  type CrashInfo,
  type Disposable,
  type FailureInfo,
  type Listener,
  type ReadyInfo,
  type StateChange,
  type Supervisor,
  type SupervisorEvent,
  type SupervisorOptions,
  type SupervisorState,
  type SupervisorStats,
} from './supervisor.js';
import { OwletError, owletError, toErrorInfo } from '../../shared/errors.js';
import type { AlertNotice, HostMessage, LogLevel } from '../../shared/protocol.js';
import type { Logger } from '../log/logger.js';

/** Which service code a child runs. */
export interface ServiceEntry {
  /** The module the child runs with `serve …` arguments (`bin/owlet.js`, or the app's `cli/entry.js`). */
  modulePath: string;
  /** Node flags for the child (never inherited from this process). */
  execArgv?: string[];
  /** For logs and the update engine: which version this entry is. */
  version?: string;
  /**
   * The entry's `serve` understands `--listen-handle` (this build's own entry does). A child of an
   * entry without it (another version's tree) gets no shared socket: the host lets go of it first.
   */
  acceptsListenSocket?: boolean;
}

export type KeyMessage = Extract<HostMessage, { type: 'key' }>;

export interface IndexerHostOptions {
  dataDir: string;
  entry: ServiceEntry;
  /** Starts a child for a spec: `forkServiceLauncher()` headless, `utilityServiceLauncher()` in the app. */
  launcher: ServiceLauncher;
  /**
   * The port for the first child. Undefined: the service's configured `server.port` (0 = any free
   * port). Whatever the first child binds is pinned for every later child.
   */
  port?: number;
  /**
   * The key handover (the app's safeStorage). Called before EVERY fork; if it throws, nothing is
   * forked and the host fails with the error's message. Undefined: the service finds its own keys
   * (OS keychain or key file), as `owlet run` does.
   */
  keys?: () => KeyMessage;
  /** Recorded by the child in service.json (`owlet run` passes its own pid). */
  supervisorPid?: number;
  /** The child forwards its log records at or above this level (default `warn`). */
  forwardLogs?: LogLevel;
  /** Ask the child for the alerts its engine routes to `tray` (the app shows them; `owlet run` has no tray). */
  trayAlerts?: boolean;
  /** Supervisor events go here (warnings for crashes, hangs and failures; the rest as info). */
  log: Logger;
  /** Restart policy knobs and a clock for tests; the defaults are the same for both hosts. */
  supervisor?: Partial<Omit<SupervisorOptions, 'launch' | 'log'>>;
  /**
   * The listening socket the caller bound (headless `owlet run`), handed to every child when the
   * launcher `sharesListenSocket` and the entry `acceptsListenSocket`; its port is the pinned port.
   */
  listenSocket?: SharedListenSocket;
}

/** What the tray and the update engine read. */
export interface HostSnapshot {
  state: SupervisorState;
  /** The service URL while it runs. */
  url: string | undefined;
  /** The pinned port (known once a child has been ready). */
  port: number | undefined;
  pid: number | undefined;
  failure: FailureInfo | undefined;
  entry: ServiceEntry;
  stats: Readonly<SupervisorStats>;
}

export interface IndexerHost {
  readonly state: SupervisorState;
  readonly url: string | undefined;
  readonly port: number | undefined;
  readonly pid: number | undefined;
  readonly failure: FailureInfo | undefined;
  readonly entry: ServiceEntry;
  snapshot(): HostSnapshot;
  /** Starts the service (or retries after `failed` / during backoff and crash-loop). */
  start(): void;
  /**
   * Stops with drain: the child is asked to shut down (it commits its batch and checkpoints the
   * WAL), and is killed only after the shutdown deadline. Resolves once it is gone.
   */
  stop(reason?: string): Promise<void>;
  /** Stop (with drain), then start on the same port; resolves with the new child's ready info. */
  restart(reason?: string, timeoutMs?: number): Promise<ReadyInfo>;
  /** The entry the NEXT child runs (the update engine switches versions with this, then `restart`). */
  setEntry(entry: ServiceEntry): void;
  /** Resolves when the service is running; rejects when the host fails, stops, or the timeout passes. */
  whenReady(timeoutMs?: number): Promise<ReadyInfo>;
  onDidChangeState(listener: Listener<StateChange>): Disposable;
  onDidBecomeReady(listener: Listener<ReadyInfo>): Disposable;
  onDidCrash(listener: Listener<CrashInfo>): Disposable;
  /** Log records the child forwarded, and lines of a piped stdout/stderr. */
  onDidLog(listener: Listener<ChildLog>): Disposable;
  /** Alerts routed to the tray (only with `trayAlerts`). */
  onDidAlert(listener: Listener<AlertNotice>): Disposable;
}

const WARN_EVENTS: ReadonlySet<SupervisorEvent['type']> = new Set(['crash', 'crash-loop', 'failed', 'hang', 'fatal', 'launch-refused', 'launch-error', 'kill', 'abandon']);

/** The `serve` arguments for one child. Pure, so the adapter tests can check them. */
export function serveArgs(o: { dataDir: string; port: number | undefined; supervisorPid?: number; keyFromHost: boolean; forwardLogs: LogLevel; trayAlerts?: boolean; listenHandle?: boolean }): string[] {
  return [
    'serve',
    '--data-dir', o.dataDir,
    ...(o.port !== undefined ? ['--port', String(o.port)] : []),
    ...(o.supervisorPid !== undefined ? ['--supervisor-pid', String(o.supervisorPid)] : []),
    ...(o.keyFromHost ? ['--key-from-host'] : []),
    '--forward-logs', o.forwardLogs,
    ...(o.trayAlerts ? ['--tray-alerts'] : []),
    ...(o.listenHandle ? ['--listen-handle'] : []),
  ];
}

export function createIndexerHost(opts: IndexerHostOptions): IndexerHost {
  let entry: ServiceEntry = { ...opts.entry };
  let shared = opts.listenSocket && opts.launcher.sharesListenSocket ? opts.listenSocket : undefined;
  let port = shared ? shared.port : opts.port;
  const forwardLogs = opts.forwardLogs ?? 'warn';
  const log = opts.log;

  const launch: Launcher = (): ChildHandle => {
    // The key first: a child that cannot be given its key must never be started (it would sit
    // waiting for it, orphaned, until its own timeout).
    let key: KeyMessage | undefined;
    if (opts.keys) {
      try {
        key = opts.keys();
      } catch (e) {
        const info = toErrorInfo(e);
        throw new LaunchRefusedError(e instanceof OwletError ? info : toErrorInfo(owletError('OWL_ERR_SECRET_STORE', { reason: `the encryption key could not be read: ${info.message}` })));
      }
    }
    if (shared && (!entry.acceptsListenSocket || shared.closed)) {
      // Another version's service would not know the flag, and cannot bind a port we hold.
      log.info('host listening socket released', { entry: entry.version ?? entry.modulePath });
      shared.close();
      shared = undefined;
    }
    const spec: LaunchSpec = {
      modulePath: entry.modulePath,
      args: serveArgs({ dataDir: opts.dataDir, port, ...(opts.supervisorPid !== undefined ? { supervisorPid: opts.supervisorPid } : {}), keyFromHost: key !== undefined, forwardLogs, trayAlerts: opts.trayAlerts === true, listenHandle: shared !== undefined }),
      execArgv: entry.execArgv ?? [],
      ...(shared ? { listenSocket: shared } : {}),
    };
    const child = opts.launcher(spec);
    // Queued by the channel until the service listens for it; never on argv or in the environment.
    if (key) child.send(key);
    return child;
  };

  const sup: Supervisor = createSupervisor({
    ...opts.supervisor,
    launch,
    log: (e) => (WARN_EVENTS.has(e.type) ? log.warn(`supervisor ${e.type}`, { ...e, ...(e.type === 'spawn' ? { entry: entry.version ?? entry.modulePath } : {}) }) : log.info(`supervisor ${e.type}`, { ...e })),
  });
  // Pin the port: every later child binds the same one.
  sup.onDidBecomeReady((r) => {
    port = r.port;
  });

  const startFailed = () => owletError('OWL_ERR_SERVICE_START_FAILED', { reason: sup.failure?.message ?? 'it failed and is not restarted' });
  const whenReady = (timeoutMs = 120_000): Promise<ReadyInfo> =>
    new Promise<ReadyInfo>((resolve, reject) => {
      const now = sup.readyInfo;
      if (now) return resolve(now);
      if (sup.state === 'failed') return reject(startFailed());
      const subs: Disposable[] = [];
      const done = (f: () => void) => {
        clearTimeout(timer);
        for (const s of subs) s.dispose();
        f();
      };
      const timer = setTimeout(() => done(() => reject(owletError('OWL_ERR_NOT_READY', { reason: `the indexer did not become ready within ${Math.round(timeoutMs / 1000)} s` }))), timeoutMs);
      // Waiting for the service must not be what keeps this process alive.
      timer.unref?.();
      subs.push(sup.onDidBecomeReady((r) => done(() => resolve(r))));
      subs.push(
        sup.onDidChangeState((s) => {
          if (s.state === 'failed') done(() => reject(startFailed()));
          else if (s.state === 'stopped') done(() => reject(owletError('OWL_ERR_SERVICE_START_FAILED', { reason: 'it was stopped before it was ready' })));
        }),
      );
    });

  const host: IndexerHost = {
    get state() {
      return sup.state;
    },
    get url() {
      return sup.readyInfo?.url;
    },
    get port() {
      return port;
    },
    get pid() {
      return sup.pid;
    },
    get failure() {
      return sup.failure;
    },
    get entry() {
      return { ...entry };
    },
    snapshot: () => ({ state: sup.state, url: sup.readyInfo?.url, port, pid: sup.pid, failure: sup.failure, entry: { ...entry }, stats: sup.stats }),
    start: () => sup.start(),
    stop: (reason = 'requested') => sup.stop(reason),
    async restart(reason = 'restart requested', timeoutMs) {
      log.info('host restart', { reason });
      await sup.stop(reason);
      // Subscribe before starting: a synchronous launcher may already report its outcome.
      const ready = whenReady(timeoutMs);
      sup.start();
      return ready;
    },
    setEntry(next) {
      log.info('host entry changed', { from: entry.version ?? entry.modulePath, to: next.version ?? next.modulePath });
      entry = { ...next };
    },
    whenReady,
    onDidChangeState: (l) => sup.onDidChangeState(l),
    onDidBecomeReady: (l) => sup.onDidBecomeReady(l),
    onDidCrash: (l) => sup.onDidCrash(l),
    onDidLog: (l) => sup.onDidLog(l),
    onDidAlert: (l) => sup.onDidAlert(l),
  };
  return host;
}
