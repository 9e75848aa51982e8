import { errnoCode, owletError, toErrorInfo } from '../../shared/errors.js';
import { isHostMessage, PROTOCOL_VERSION, type LogLevel, type ServiceMessage } from '../../shared/protocol.js';
import { createLogger, type Logger, type Sink } from '../log/logger.js';
import { fileLogger, fileLogSink } from '../log/file-logger.js';
import { buildServer } from '../http/server.js';
import { instrument } from '../http/instrument.js';
import { VERSION } from '../version.js';
import { OwletService } from '../service/service.js';
import { removeServiceInfo, writeServiceInfo } from '../service/service-file.js';
import { detectHostChannel, hostLogSink, reportFatal, type HostChannel } from '../service/host-channel.js';
import { acquireDataLock } from '../service/data-lock.js';
import type { ServiceInfo } from '../../shared/api.js';
import { TokenSource } from '../security/token.js';
import { SessionStore } from '../security/sessions.js';
import { noteRefusal } from '../log/request-log.js';
import { auditServiceStart, serviceAuditLog } from '../audit/service-audit.js';
import { keysFromHost } from './host-keys.js';
import { httpLimitsFrom } from '../config/security-settings.js';
import { createMonitoring } from '../metrics/monitoring.js';
import { ProtectedIndex } from '../recovery/protected-index.js';
import { updateSummary } from '../update/summary.js';
import type { GuardianAlert } from '../recovery/plan.js';
import { backupBeforeMigration } from '../backup/migration.js';
import { trayAlertChannel } from './tray-alerts.js';
import { ConfigEditor } from '../service/config-editor.js';
import { defaultPolicyFile, effectiveSettings, policyLocks, readPolicy } from '../update/policy.js';
import { serviceUpdateCard } from './update-card.js';
import { receiveListenSocket, usableListenSocket, type HandleChannel, type ReceivedListenSocket } from './listen-socket.js';
import { openPrimaryChannel, type PrimaryChannel } from './primary-channel.js';
import { acceptPause, type AcceptPause } from './accept-pause.js';

export { fileLogger };

export interface ServeOptions {
  dataDir: string;
  port?: number;
  supervisorPid?: number;
  /** Where human-readable lines go (the URL). */
  out: (line: string) => void;
  log?: Logger;
  channel?: HostChannel;
  /** Wait for the host (Electron) to hand over the keys on the IPC channel before opening the index. */
  keyFromHost?: boolean;
  /** Also send log records at or above this level to the host as `log` messages. */
  forwardLogs?: LogLevel;
  /** Send the alerts routed to the `tray` channel to the host as `alert` messages (the app). */
  trayAlerts?: boolean;
  /** The machine policy file (default: the platform's; tests pass one in a temp folder). */
  policyFile?: string;
  /**
   * `serve --listen-handle`: the supervisor sends its listening socket (listen-socket.ts) and this
   * service listens on it instead of binding its own, so the port stays open across restarts.
   */
  listenHandle?: boolean;
  /** Where that socket arrives (default: this process's IPC channel). */
  handleChannel?: HandleChannel;
}

/** The service log, teed to the host when it asked for forwarded records. */
function serviceLogger(dataDir: string, host: HostChannel, forward: LogLevel | undefined): Logger {
  const file = fileLogSink(dataDir);
  const toHost = forward && host.kind !== 'none' ? hostLogSink(host, forward) : undefined;
  const sink: Sink = toHost
    ? {
        write(line) {
          file.write(line);
          toHost.write(line);
        },
      }
    : file;
  return createLogger(sink, { component: 'service', fields: { pid: process.pid } });
}

/** A port the service cannot bind is something the user can fix; say so in words. */
function listenError(e: unknown, host: string, port: number): unknown {
  const code = errnoCode(e);
  if (code === 'EADDRINUSE') {
    return owletError('OWL_ERR_PORT_IN_USE', { host, port, reason: 'is already in use by another program' }, { detail: { port }, cause: e });
  }
  if (code === 'EACCES') {
    return owletError('OWL_ERR_PORT_IN_USE', { host, port, reason: 'is refused to this user (ports below 1024 are reserved); choose a port above 1023' }, { detail: { port }, cause: e });
  }
  return e;
}

/**
 * Runs the long-lived service in this process: HTTP on loopback, indexing and watching, and the
 * typed IPC protocol when a host (supervisor or Electron) started us. Resolves when stopped.
 */
export async function serve(opts: ServeOptions): Promise<number> {
  const host = opts.channel ?? detectHostChannel();
  const log = opts.log ?? serviceLogger(opts.dataDir, host, opts.forwardLogs);
  // Listen for the socket first: the supervisor sent it with the fork, it may be queued already.
  const socket = opts.listenHandle ? receiveListenSocket(opts.handleChannel ?? (process as HandleChannel)) : undefined;
  try {
    // One service per data folder. A hosted service (supervisor, Electron) may be a restart whose
    // predecessor is still exiting: it waits a little for the lock; a second `owlet serve` is refused.
    const lock = await acquireDataLock(opts.dataDir, { purpose: 'service', waitMs: host.kind === 'none' ? 0 : HOSTED_LOCK_WAIT_MS, remedy: 'use it (owlet open, owlet status), or stop it before starting another' });
    try {
      return await serveOn(host, log, opts, socket);
    } finally {
      lock.release();
    }
  } catch (e) {
    // Every start-up failure is logged and reaches the host as a typed `fatal` before the process exits.
    const info = toErrorInfo(e);
    log.error('start-up failed', { code: info.code, message: info.message });
    await reportFatal(host, e, 'startup');
    throw e;
  }
}

/** A restarted child may start while the old one's exit is still being reaped. */
const HOSTED_LOCK_WAIT_MS = 10_000;

/**
 * The supervisor's socket, if it arrived and is what this service would have bound itself (the
 * configured loopback host, the port asked for). Otherwise null, said in the log, and the service
 * binds its own.
 */
async function takeListenSocket(pending: Promise<ReceivedListenSocket | Error>, host: string, port: number | undefined, log: Logger): Promise<ReceivedListenSocket | null> {
  const r = await pending;
  const usable = usableListenSocket(r, host, port);
  if (usable instanceof Error) {
    log.warn(r instanceof Error ? 'no listening socket from the supervisor; binding our own' : 'listening socket from the supervisor refused; binding our own', { reason: usable.message });
    return null;
  }
  return usable;
}

async function serveOn(host: HostChannel, log: Logger, opts: ServeOptions, socket: Promise<ReceivedListenSocket | Error> | undefined): Promise<number> {
  const secrets = opts.keyFromHost ? await keysFromHost(host) : undefined;
  // The guardian checks (and repairs or restores) the index before serving; the host swaps in a
  // new service behind the same object if the database is damaged later or a backup is restored.
  // Recovery and backups raise event alerts; those raised before monitoring exists (a recovery at
  // start-up) wait here and reach the alert engine once it does.
  const early: GuardianAlert[] = [];
  let raise = (a: GuardianAlert): void => {
    if (early.length < 50) early.push(a);
  };
  const index = await ProtectedIndex.open({
    dataDir: opts.dataDir,
    log: log.child('recovery'),
    onAlert: (a) => raise(a),
    ...(secrets ? { secrets } : {}),
    create: (hooks) => new OwletService({ dataDir: opts.dataDir, log, watch: true, beforeMigrate: backupBeforeMigration, openAudit: serviceAuditLog, ...(secrets ? { secrets } : {}), ...hooks }),
  });
  const service = index.service;
  const first = service.current();
  if (!first.ok) throw first.error;
  // One audit log for the life of the process (its key comes from the same store as the index's).
  const audit = first.service.audit;
  const monitoring = createMonitoring({ service, settings: service.config.monitoring, log: log.child('monitoring'), backup: () => index.backups.backupInfo(), integrity: index.integrity, ...(opts.trayAlerts && host.kind !== 'none' ? { channels: [trayAlertChannel(host)] } : {}) });
  raise = (a) => monitoring.reportEvent(a);
  for (const a of early.splice(0)) raise(a);
  const app = buildServer(instrument(service, monitoring), {
    observability: monitoring,
    requestLog: log.child('http'),
    auth: {
      tokens: new TokenSource(opts.dataDir),
      sessions: new SessionStore({ idleMs: service.config.security.http.sessionIdleMinutes * 60_000 }),
      audit,
      // Logged once, by the request's own line (with the reason).
      onRefused: (reason, req) => noteRefusal(req, reason),
    },
    limits: httpLimitsFrom(service.config.security.http),
    preview: (p) => service.preview(p),
    // The update state beside the service's own: read from the installation this process runs from.
    updates: () => updateSummary(process.argv[1] ?? ''),
    // The dashboard's Updates card in a browser: the view and the supervisor's actions.
    updateCard: serviceUpdateCard({
      dataDir: opts.dataDir,
      binFile: process.argv[1] ?? '',
      settings: () => effectiveSettings(service.config.updates, readPolicy(opts.policyFile ?? defaultPolicyFile())),
      log: log.child('update'),
    }),
    backups: index.backups,
    problems: service,
    // Folders and settings from the dashboard: saved to config.json, audited, applied at once.
    config: new ConfigEditor({ dataDir: opts.dataDir, apply: (next) => service.applyConfig(next), audit, locks: () => policyLocks(readPolicy(opts.policyFile ?? defaultPolicyFile())) }),
  });
  const bindHost = service.config.server.host;
  const port = opts.port ?? service.config.server.port;
  const send = (m: ServiceMessage) => host.send(m);
  let stopping: Promise<void> | null = null;
  /** What this service wrote to service.json: only that may be removed. */
  let written: ServiceInfo | null = null;
  /** The standby's way to this service (owlet run, shared socket only). */
  let channel: PrimaryChannel | null = null;
  /** Set once listening on the shared socket: closed first on stop, so a recovery ending during the stop does not listen again. */
  let gate: AcceptPause | null = null;
  const stop = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      gate?.close();
      log.info('stopping', { reason });
      send({ type: 'stopping', reason });
      audit.append('service.stop', { reason });
      await channel?.close();
      await app.close().catch(() => {});
      await monitoring.stop();
      await index.stop();
      if (written) removeServiceInfo(opts.dataDir, written);
      log.info('stopped');
    })();
    return stopping;
  };
  let shared: ReceivedListenSocket | null = null;
  const listenNow = async (): Promise<void> => {
    // Fastify passes the options on to net.Server#listen, which takes `handle` (a bound socket).
    await app.listen(shared ? ({ host: bindHost, port: shared.port, handle: shared.handle } as { host: string; port: number }) : { host: bindHost, port });
    if (shared) {
      log.info('listening on the supervisor\'s socket', { port: shared.port });
      // The read-only standby beside this service hands it what it does not serve (primary-channel.ts).
      channel = await openPrimaryChannel(app.server, opts.dataDir, log);
      pauseWhileRecovering(shared);
    }
  };
  /**
   * While the index is recovered or restored, the standby (or, without one, the kernel's backlog)
   * takes new connections instead of this service answering 503 (accept-pause.ts).
   */
  const pauseWhileRecovering = (s: ReceivedListenSocket): void => {
    const handles = opts.handleChannel ?? (process as HandleChannel);
    gate = acceptPause({
      server: app.server,
      requestSocket: async () => {
        const next = receiveListenSocket(handles, 10_000);
        send({ type: 'listen-socket-request' });
        return usableListenSocket(await next, s.host, s.port);
      },
      log,
      // Its host restarts it; meanwhile the standby answers.
      onLost: (reason) =>
        void stop(`the listening socket could not be taken back: ${reason}`).then(() => {
          // As on a shutdown message: the IPC listener would keep the process alive.
          host.close();
          finish(1);
        }),
    });
    const g = gate;
    service.onDidDetach((why) => g.pause(why));
    service.onDidSwap(() => void g.resume('the index is back'));
  };
  let finish: (code: number) => void = () => undefined;
  // With a standby on the shared socket, this service accepts only once it is ready: until then
  // every connection goes to the standby, which answers searches, instead of a not-ready 503 here.
  let listenWhenReady = false;
  try {
    shared = socket ? await takeListenSocket(socket, bindHost, port, log) : null;
    listenWhenReady = shared?.standby === true;
    if (!listenWhenReady) await listenNow();
  } catch (e) {
    await monitoring.stop();
    await index.stop();
    throw listenError(e, bindHost, port);
  }
  const addr = app.server.address();
  const boundPort = typeof addr === 'object' && addr ? addr.port : (shared?.port ?? port);
  const url = `http://${bindHost.includes(':') ? `[${bindHost}]` : bindHost}:${boundPort}`;
  const info: ServiceInfo = {
    url,
    pid: process.pid,
    port: boundPort,
    version: VERSION,
    startedAt: new Date().toISOString(),
    ...(opts.supervisorPid ? { supervisorPid: opts.supervisorPid } : {}),
  };
  writeServiceInfo(opts.dataDir, info);
  written = info;
  log.info('listening', { url });
  opts.out(`Owlet ${VERSION} serving on ${url}`);
  auditServiceStart(audit, opts.dataDir, { version: VERSION, port: boundPort, keyStore: first.service.secrets?.kind ?? null });

  const done = new Promise<number>((resolve) => {
    finish = resolve;
    const onSignal = (sig: string) => void stop(sig).then(() => resolve(0));
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    host.onMessage((m: unknown) => {
      if (!isHostMessage(m)) return log.warn('ignored malformed host message');
      if (m.type === 'ping') send({ type: 'heartbeat', seq: m.seq, at: Date.now(), state: service.status().state });
      else if (m.type === 'shutdown')
        void stop(m.reason).then(() => {
          // Without this the IPC listener keeps the process alive and the host would have to kill it.
          host.close();
          resolve(0);
        });
    });
    // A host that disappears must not leave us orphaned.
    host.onDisconnect(() => void stop('host disconnected').then(() => resolve(0)));
  });
  try {
    await index.start();
    monitoring.start();
  } catch (e) {
    await stop('start-up failed');
    throw e;
  }
  if (listenWhenReady) {
    try {
      await listenNow();
    } catch (e) {
      await stop('start-up failed');
      throw listenError(e, bindHost, port);
    }
  }
  send({ type: 'ready', protocol: PROTOCOL_VERSION, url, port: boundPort, pid: process.pid });
  return done;
}
