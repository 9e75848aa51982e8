import fs from 'node:fs';
import path from 'node:path';
import { toErrorInfo } from '../../shared/errors.js';
import { isHostMessage, PROTOCOL_VERSION, type ServiceMessage } from '../../shared/protocol.js';
import { createLogger, type Logger } from '../log/logger.js';
import { buildServer } from '../http/server.js';
import { VERSION } from '../version.js';
import { OwletService } from './service.js';
import { removeServiceInfo, writeServiceInfo } from './service-file.js';
import { detectHostChannel, type HostChannel } from './host-channel.js';

export interface ServeOptions {
  dataDir: string;
  port?: number;
  supervisorPid?: number;
  /** Where human-readable lines go (the URL). */
  out: (line: string) => void;
  log?: Logger;
  channel?: HostChannel;
}

/** Opens the service log: JSON lines in <dataDir>/logs/service.log. */
export function fileLogger(dataDir: string, component: string): Logger {
  const dir = path.join(dataDir, 'logs');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const fd = fs.openSync(path.join(dir, 'service.log'), 'a', 0o600);
  return createLogger({ write: (l) => fs.writeSync(fd, l) }, { component, fields: { pid: process.pid } });
}

/**
 * Runs the long-lived service in this process: HTTP on loopback, indexing and watching, and the
 * typed IPC protocol when a host (supervisor or Electron) started us. Resolves when stopped.
 */
export async function serve(opts: ServeOptions): Promise<number> {
  const log = opts.log ?? fileLogger(opts.dataDir, 'service');
  const service = new OwletService({ dataDir: opts.dataDir, log, watch: true });
  const app = buildServer(service);
  const bindHost = service.config.server.host;
  const port = opts.port ?? service.config.server.port;
  const host = opts.channel ?? detectHostChannel();
  const send = (m: ServiceMessage) => host.send(m);
  let stopping: Promise<void> | null = null;
  const stop = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      log.info('stopping', { reason });
      send({ type: 'stopping', reason });
      await app.close().catch(() => {});
      await service.stop();
      removeServiceInfo(opts.dataDir, process.pid);
      log.info('stopped');
    })();
    return stopping;
  };
  try {
    await app.listen({ host: bindHost, port });
  } catch (e) {
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

  const done = new Promise<number>((resolve) => {
    const onSignal = (sig: string) => void stop(sig).then(() => resolve(0));
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    host.onMessage((m: unknown) => {
      if (!isHostMessage(m)) return log.warn('ignored malformed host message');
      if (m.type === 'ping') send({ type: 'heartbeat', seq: m.seq, at: Date.now(), state: service.status().state });
      else if (m.type === 'shutdown') void stop(m.reason).then(() => resolve(0));
    });
    // A host that disappears must not leave us orphaned.
    host.onDisconnect(() => void stop('host disconnected').then(() => resolve(0)));
  });
  await service.start();
  send({ type: 'ready', protocol: PROTOCOL_VERSION, url, port: boundPort, pid: process.pid });
  return done.catch((e) => {
    send({ type: 'fatal', error: toErrorInfo(e) });
    return 1;
  });
}
