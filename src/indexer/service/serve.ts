import fs from 'node:fs';
import path from 'node:path';
import { toErrorInfo } from '../../shared/errors.js';
import { isHostMessage, PROTOCOL_VERSION, type ServiceMessage } from '../../shared/protocol.js';
import type { Logger } from '../log/logger.js';
import { fileLogger } from '../log/file-logger.js';
import { buildServer } from '../http/server.js';
import { instrument } from '../http/instrument.js';
import { VERSION } from '../version.js';
import { OwletService } from './service.js';
import { removeServiceInfo, writeServiceInfo } from './service-file.js';
import { detectHostChannel, type HostChannel } from './host-channel.js';
import { TokenSource } from '../security/token.js';
import { SessionStore } from '../security/sessions.js';
import { pathOf } from '../security/http-guard.js';
import { auditServiceStart } from '../audit/service-audit.js';
import { keysFromHost } from '../security/host-keys.js';
import { httpLimitsFrom } from '../security/settings.js';
import { previewDocument } from '../security/preview.js';
import { createMonitoring } from '../metrics/monitoring.js';
import { IndexGuardian } from '../backup/recovery.js';

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
}

// Kept here for the callers that import it from serve.ts; it lives in log/.
export { fileLogger } from '../log/file-logger.js';

/**
 * Runs the long-lived service in this process: HTTP on loopback, indexing and watching, and the
 * typed IPC protocol when a host (supervisor or Electron) started us. Resolves when stopped.
 */
export async function serve(opts: ServeOptions): Promise<number> {
  const log = opts.log ?? fileLogger(opts.dataDir, 'service');
  const secrets = opts.keyFromHost ? await keysFromHost(opts.channel ?? detectHostChannel()) : undefined;
  // The guardian checks (and repairs or restores) the index before serving, and swaps in a new
  // service behind the same object if the database is damaged later.
  const guardian = await IndexGuardian.open({
    dataDir: opts.dataDir,
    log: log.child('recovery'),
    ...(secrets ? { secrets } : {}),
    create: (hooks) => new OwletService({ dataDir: opts.dataDir, log, watch: true, ...(secrets ? { secrets } : {}), ...hooks }),
  });
  const service = guardian.service;
  const monitoring = createMonitoring({ service, settings: service.config.monitoring, log: log.child('monitoring'), backup: () => guardian.backupInfo(), integrity: (f, k) => guardian.checkIntegrity(f, k) });
  guardian.onDidReplaceService(() => monitoring.serviceReplaced());
  const app = buildServer(instrument(service, monitoring), {
    observability: monitoring,
    requestLog: log.child('http'),
    auth: {
      tokens: new TokenSource(opts.dataDir),
      sessions: new SessionStore({ idleMs: service.config.security.http.sessionIdleMinutes * 60_000 }),
      audit: service.audit,
      onRefused: (reason, req) => log.warn('request refused', { reason, method: req.method, path: pathOf(req.url).slice(0, 200) }),
    },
    limits: httpLimitsFrom(service.config.security.http),
    preview: (p) => previewDocument(service.ctx.store, service.config.roots, p),
    backups: guardian,
  });
  const bindHost = service.config.server.host;
  const port = opts.port ?? service.config.server.port;
  const host = opts.channel ?? detectHostChannel();
  const send = (m: ServiceMessage) => host.send(m);
  let stopping: Promise<void> | null = null;
  const stop = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      log.info('stopping', { reason });
      send({ type: 'stopping', reason });
      service.audit.append('service.stop', { reason });
      await app.close().catch(() => {});
      await monitoring.stop();
      await service.stop();
      removeServiceInfo(opts.dataDir, process.pid);
      log.info('stopped');
    })();
    return stopping;
  };
  try {
    await app.listen({ host: bindHost, port });
  } catch (e) {
    await monitoring.stop();
    await service.stop();
    throw e;
  }
  const addr = app.server.address();
  const boundPort = typeof addr === 'object' && addr ? addr.port : port;
  const url = `http://${bindHost.includes(':') ? `[${bindHost}]` : bindHost}:${boundPort}`;
  writeServiceInfo(opts.dataDir, {
    url,
    pid: process.pid,
    port: boundPort,
    version: VERSION,
    startedAt: new Date().toISOString(),
    ...(opts.supervisorPid ? { supervisorPid: opts.supervisorPid } : {}),
  });
  log.info('listening', { url });
  opts.out(`Owlet ${VERSION} serving on ${url}`);
  auditServiceStart(service.audit, opts.dataDir, { version: VERSION, port: boundPort, keyStore: service.ctx.secrets?.kind ?? null });

  const done = new Promise<number>((resolve) => {
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
  await service.start();
  monitoring.start();
  send({ type: 'ready', protocol: PROTOCOL_VERSION, url, port: boundPort, pid: process.pid });
  return done.catch((e) => {
    send({ type: 'fatal', error: toErrorInfo(e) });
    return 1;
  });
}
