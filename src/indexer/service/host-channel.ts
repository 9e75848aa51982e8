import { isOwletError, toErrorInfo } from '../../shared/errors.js';
import { LOG_LEVELS, type FatalPhase, type LogLevel, type LogRecord, type ServiceMessage } from '../../shared/protocol.js';
import type { Sink } from '../log/logger.js';

/**
 * The service's line to its host. Under Electron's utilityProcess the host is reached through
 * `process.parentPort` (no electron import needed: Electron puts it on `process`); under
 * `child_process.fork` through `process.send`. Headless `owlet serve` has no host at all.
 */
export interface HostChannel {
  readonly kind: 'electron' | 'node-ipc' | 'none';
  send(m: ServiceMessage): void;
  /** Sends a last message and resolves once it has left this process (or could not be sent). */
  sendFinal(m: ServiceMessage): Promise<void>;
  onMessage(cb: (m: unknown) => void): void;
  /** The host went away: the service must not outlive it. */
  onDisconnect(cb: () => void): void;
  /** Lets go of the channel after a clean stop, so nothing keeps the process alive. */
  close(): void;
}

interface ParentPort {
  on(event: 'message', cb: (e: { data: unknown }) => void): void;
  postMessage(m: unknown): void;
  removeAllListeners?(event: string): void;
}

export function detectHostChannel(proc: NodeJS.Process = process): HostChannel {
  const parentPort = (proc as unknown as { parentPort?: ParentPort }).parentPort;
  if (parentPort) {
    return {
      kind: 'electron',
      send: (m) => parentPort.postMessage(m),
      // postMessage hands the message to Electron synchronously; one turn lets it go out.
      sendFinal: (m) => {
        parentPort.postMessage(m);
        return new Promise((r) => setImmediate(r));
      },
      onMessage: (cb) => parentPort.on('message', (e) => cb(e.data)),
      // A utility process is killed with its parent by Electron; nothing to watch.
      onDisconnect: () => {},
      close: () => parentPort.removeAllListeners?.('message'),
    };
  }
  if (typeof proc.send === 'function') {
    return {
      kind: 'node-ipc',
      send: (m) => {
        if (proc.connected) proc.send!(m);
      },
      sendFinal: (m) =>
        new Promise<void>((resolve) => {
          if (!proc.connected) return resolve();
          try {
            proc.send!(m, undefined, undefined, () => resolve());
          } catch {
            resolve();
          }
        }),
      onMessage: (cb) => proc.on('message', cb),
      onDisconnect: (cb) => proc.on('disconnect', cb),
      close: () => {
        if (proc.connected) proc.disconnect?.();
      },
    };
  }
  return { kind: 'none', send: () => {}, sendFinal: () => Promise.resolve(), onMessage: () => {}, onDisconnect: () => {}, close: () => {} };
}

const reported = new WeakSet<object>();

/**
 * Tells the host why this service is giving up (`fatal`), waits until the message is out, then
 * lets go of the channel so the process can exit. Without it a start-up error would only reach
 * stderr, which Electron's utility process sends nowhere. Reports a given error once, so the
 * service and the CLI around it can both call it.
 */
export async function reportFatal(host: HostChannel, e: unknown, phase: FatalPhase): Promise<void> {
  if (host.kind === 'none') return;
  if (typeof e === 'object' && e !== null) {
    if (reported.has(e)) return;
    reported.add(e);
  }
  await host.sendFinal({ type: 'fatal', kind: isOwletError(e) ? e.kind : 'internal', phase, error: toErrorInfo(e) });
  host.close();
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function isLogLevel(v: unknown): v is LogLevel {
  return (LOG_LEVELS as readonly unknown[]).includes(v);
}

/**
 * A log sink that forwards records at or above `min` to the host as typed `log` messages. It
 * reads back the logger's own JSON line (always an object with time, level, component, msg).
 */
export function hostLogSink(host: HostChannel, min: LogLevel): Sink {
  return {
    write(line: string) {
      if (host.kind === 'none') return;
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      const { time, level, component, msg, ...fields } = rec;
      if (!isLogLevel(level) || ORDER[level] < ORDER[min]) return;
      const record: LogRecord = { time: String(time), level, component: String(component), msg: String(msg) };
      if (Object.keys(fields).length > 0) record.fields = fields;
      try {
        host.send({ type: 'log', record });
      } catch {
        /* a closed channel must never break logging */
      }
    },
  };
}
