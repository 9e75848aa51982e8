/**
 * The read-only hot standby of headless `owlet run` (docs/operations/validation.md, "The read-only
 * hot standby"). A second child of the supervisor that accepts on the SAME listening socket as the
 * primary service (listen-socket.ts): the kernel gives each new connection to a process waiting in
 * `accept`, and a primary that is stopped (SIGSTOP, a wedged disk), killed or restarting is not
 * waiting, so readiness probes and token searches keep being answered by the standby.
 *
 * What it does NOT do, by design: take the data lock, index, watch, back up, evaluate alerts, write
 * metrics, append to the audit log, write service.json, repair config.json. It opens index.db
 * read-only (service/standby-index.ts) and follows the file when a recovery or restore replaces
 * it or the WAL is deleted. Requests it does not serve itself go to the primary
 * (primary-channel.ts), or get a retryable 503 OWL_ERR_STANDBY.
 *
 * Electron's utilityProcess cannot share a socket, so the app runs no standby.
 */
import { parseArgs } from 'node:util';
import { PROTOCOL_VERSION, isHostMessage } from '../../shared/protocol.js';
import { toErrorInfo } from '../../shared/errors.js';
import { fileLogger } from '../log/file-logger.js';
import type { Logger } from '../log/logger.js';
import { httpLimitsFrom } from '../config/security-settings.js';
import { TokenSource } from '../security/token.js';
import { detectHostChannel, reportFatal, type HostChannel } from '../service/host-channel.js';
import { StandbyIndex } from '../service/standby-index.js';
import { createStandbyServer } from '../http/standby-server.js';
import { receiveListenSocket, usableListenSocket, type HandleChannel } from './listen-socket.js';
import { forwardToPrimary, primarySocketPath } from './primary-channel.js';

export interface StandbyOptions {
  dataDir: string;
  /** The port the shared socket must be bound to. */
  port?: number;
  channel?: HostChannel;
  handleChannel?: HandleChannel;
  log?: Logger;
  /** How often the index files are checked for replacement (ms). */
  checkEveryMs?: number;
}

export const STANDBY_CHECK_MS = 250;

/**
 * Runs the standby in this process until the host asks it to stop or goes away; resolves with the
 * exit code. Without the supervisor's socket it does not start: a standby never binds a port itself.
 */
export async function serveStandby(opts: StandbyOptions): Promise<number> {
  const host = opts.channel ?? detectHostChannel();
  const log = opts.log ?? fileLogger(opts.dataDir, 'standby');
  // Before anything else listens for IPC: the socket was sent with the fork.
  const pending = receiveListenSocket(opts.handleChannel ?? (process as HandleChannel));
  let index: StandbyIndex | null = null;
  try {
    const received = await pending;
    if (received instanceof Error) throw received;
    index = new StandbyIndex({ dataDir: opts.dataDir, log });
    const config = index.configNow;
    const usable = usableListenSocket(received, config.server.host, opts.port);
    if (usable instanceof Error) throw new Error(`the supervisor's listening socket cannot be used: ${usable.message}`);
    index.check();
    const socketPath = primarySocketPath(opts.dataDir);
    const server = createStandbyServer({
      reader: index,
      tokens: new TokenSource(opts.dataDir),
      port: received.port,
      limits: httpLimitsFrom(config.security.http),
      forward: socketPath ? (req, res, unavailable) => forwardToPrimary(socketPath, req, res, unavailable) : null,
      log,
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ handle: received.handle }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const standby = index;
    const timer = setInterval(() => {
      try {
        const r = standby.check();
        if (r !== 'ok' && r !== 'waiting') log.info('standby index check', { result: r });
      } catch (e) {
        log.warn('standby index check failed', { error: e });
      }
    }, opts.checkEveryMs ?? STANDBY_CHECK_MS);
    const url = `http://${received.host.includes(':') ? `[${received.host}]` : received.host}:${received.port}`;
    log.info('standby listening', { url, ready: standby.ready });
    let stopping: Promise<void> | null = null;
    const stop = (reason: string): Promise<void> => {
      stopping ??= (async () => {
        log.info('standby stopping', { reason });
        host.send({ type: 'stopping', reason });
        clearInterval(timer);
        await new Promise<void>((r) => {
          server.close(() => r());
          server.closeAllConnections();
        });
        standby.close('stopped');
      })();
      return stopping;
    };
    return await new Promise<number>((resolve) => {
      const onSignal = (sig: string) => void stop(sig).then(() => resolve(0));
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      host.onMessage((m: unknown) => {
        if (!isHostMessage(m)) return;
        // The standby's own heartbeat: its supervisor restarts it on its own schedule.
        if (m.type === 'ping') host.send({ type: 'heartbeat', seq: m.seq, at: Date.now(), state: standby.ready ? 'idle' : 'degraded' });
        else if (m.type === 'shutdown')
          void stop(m.reason).then(() => {
            host.close();
            resolve(0);
          });
      });
      host.onDisconnect(() => void stop('host disconnected').then(() => resolve(0)));
      host.send({ type: 'ready', protocol: PROTOCOL_VERSION, url, port: received.port, pid: process.pid });
    });
  } catch (e) {
    index?.close('start-up failed');
    const info = toErrorInfo(e);
    log.error('standby start-up failed', { code: info.code, message: info.message });
    await reportFatal(host, e, 'startup');
    return 1;
  }
}

/** The standby child's entry (standby-main.ts): `--data-dir D [--port P]`. */
export function standbyArgs(argv: readonly string[]): { dataDir: string; port?: number } {
  const { values } = parseArgs({ args: [...argv], options: { 'data-dir': { type: 'string' }, port: { type: 'string' } }, strict: true });
  const dataDir = values['data-dir'];
  if (!dataDir) throw new Error('the standby needs --data-dir');
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) throw new Error(`--port must be a port number, got ${values.port}`);
  return { dataDir, ...(port !== undefined ? { port } : {}) };
}
