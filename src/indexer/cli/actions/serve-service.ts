import { ensureDataDir, resolveDataDir } from '../../config/paths.js';
import { loadOrRepairConfig } from '../../config/repair.js';
import { describeNewer, describeUnreadable } from '../../config/load.js';
import { VERSION } from '../../version.js';
import { rememberRoots, resolveRoots } from '../../service/context.js';
import { serve } from '../../host/serve.js';
import { OWLET_BIN, runSupervised } from '../../host/run.js';
import { LAUNCHER_ENV, MOVED_ENV, REEXEC_EXIT_CODE, STANDBY_ENV, awaitGo, launchSupervisor, type ReexecMessage } from '../../host/supervisor-launcher.js';
import { abandonMove } from '../../update/headless.js';
import { postEventAlert } from '../../alerts/inbox.js';
import { detectInstallation } from '../../update/layout.js';
import { assertDataFolderFree } from '../../service/data-lock.js';
import { fileLogger } from '../../log/file-logger.js';
import type { LogLevel } from '../../../shared/protocol.js';
import type { Io } from '../io.js';

/** A long-running process starts on the last good configuration rather than not at all (config/repair.ts). */
function startConfig(dataDir: string, component: 'service' | 'supervisor') {
  const { config, restored, newer } = loadOrRepairConfig(dataDir);
  if (restored) fileLogger(dataDir, component).error('config.json was damaged; restored the last good configuration', { brokenFile: restored.brokenFile, reason: restored.reason });
  if (newer?.keys.length) fileLogger(dataDir, component).warn('config.json has settings from a newer Owlet; this one ignores them and keeps them in the file', { writtenBy: newer.writtenBy, version: VERSION, keys: describeNewer(newer) });
  if (newer?.unreadable.length) fileLogger(dataDir, component).warn('config.json has values from a newer Owlet that this one cannot read; it runs on its last good (or default) settings in their place and leaves the file as it is', { writtenBy: newer.writtenBy, version: VERSION, settings: describeUnreadable(newer) });
  return config;
}

export interface ServeOptions {
  root: string[];
  dataDir?: string;
  port?: number;
  supervisorPid?: number;
  keyFromHost?: boolean;
  forwardLogs?: LogLevel;
  /** The app asks for the alerts routed to the tray as messages. */
  trayAlerts?: boolean;
  /** `owlet run` sends its listening socket. */
  listenHandle?: boolean;
}

/** `owlet serve`: the service in this process; resolves with its exit code. */
export async function serveHere(o: ServeOptions, io: Io): Promise<number> {
  const dataDir = resolveDataDir(o.dataDir);
  const roots = resolveRoots(o.root);
  ensureDataDir(dataDir);
  rememberRoots(dataDir, startConfig(dataDir, 'service'), roots);
  return serve({ dataDir, port: o.port, supervisorPid: o.supervisorPid, keyFromHost: o.keyFromHost, forwardLogs: o.forwardLogs, trayAlerts: o.trayAlerts, listenHandle: o.listenHandle, out: io.out });
}

/** `owlet run`: a supervisor that keeps a serving child alive; resolves with its exit code. */
export async function runSupervisor(o: { root: string[]; dataDir?: string; port?: number }, io: Io): Promise<number> {
  if (process.env[STANDBY_ENV] !== undefined && process.env[LAUNCHER_ENV] !== undefined) {
    // Started ahead of a move (supervisor-launcher.ts): loaded, waiting for the old supervisor to let go.
    const go = await awaitGo(detectInstallation(OWLET_BIN)?.version);
    if (!go) return 1;
    delete process.env[STANDBY_ENV];
    process.env[MOVED_ENV] = `${go.version}@${go.stoppingAt}`;
    if (go.port !== null) o = { ...o, port: go.port };
  }
  if (process.env[MOVED_ENV] === undefined) return runSupervisorNow(o, io);
  // Started by an update's hand-over: a failure before the health gate runs must put the previous
  // version back (the gate cannot), or the launcher's restarts would crash-loop on this version.
  try {
    return await runSupervisorNow(o, io);
  } catch (e) {
    const inst = detectInstallation(OWLET_BIN);
    const reason = e instanceof Error ? e.message : String(e);
    const back = inst ? abandonMove(inst, reason) : null;
    if (!back) throw e;
    const dataDir = resolveDataDir(o.dataDir);
    const message = `${back.to} failed to start its supervisor (${reason}); back on ${back.from}`;
    fileLogger(dataDir, 'supervisor').error('update rolled back: the new supervisor did not start', { from: back.from, to: back.to, error: reason });
    postEventAlert(dataDir, { id: 'update-rolled-back', severity: 'warning', message });
    io.out(`owlet: ${message}; restarting on ${back.from}`);
    await handBackToLauncher(back.from, o.port ?? null);
    return REEXEC_EXIT_CODE;
  }
}

async function runSupervisorNow(o: { root: string[]; dataDir?: string; port?: number }, io: Io): Promise<number> {
  const dataDir = resolveDataDir(o.dataDir);
  const roots = resolveRoots(o.root);
  ensureDataDir(dataDir);
  // The serving child takes the data folder's lock; a supervisor whose child could never get it
  // would only restart it in a loop, so a second `owlet run` is refused here.
  assertDataFolderFree(dataDir, 'use it (owlet open, owlet status), or stop it before starting another');
  const config = rememberRoots(dataDir, startConfig(dataDir, 'supervisor'), roots);
  // Installed: this process stays a launcher and the supervisor runs from PREFIX/current, so that
  // it can restart on a new version after an update (Node has no exec).
  const inst = detectInstallation(OWLET_BIN);
  if (inst && process.env[LAUNCHER_ENV] === undefined) {
    const port = o.port ?? (config.server.port || undefined);
    return launchSupervisor({ layout: inst.layout, dataDir, ...(port !== undefined ? { port } : {}), out: io.out });
  }
  return runSupervised({ dataDir, port: o.port ?? config.server.port, host: config.server.host, log: fileLogger(dataDir, 'supervisor'), out: io.out });
}

/** Tells the launcher to restart from PREFIX/current (now the previous version) on the same port. */
function handBackToLauncher(version: string, port: number | null): Promise<void> {
  if (!process.send) return Promise.resolve();
  const msg: ReexecMessage = { type: 'owlet-reexec', version, port, stoppingAt: Date.now() };
  return new Promise((resolve) => process.send!(msg, undefined, {}, () => resolve()));
}
