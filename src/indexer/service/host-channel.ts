import type { ServiceMessage } from '../../shared/protocol.js';

/**
 * The service's line to its host. Under Electron's utilityProcess the host is reached through
 * `process.parentPort` (no electron import needed: Electron puts it on `process`); under
 * `child_process.fork` through `process.send`. Headless `owlet serve` has no host at all.
 */
export interface HostChannel {
  readonly kind: 'electron' | 'node-ipc' | 'none';
  send(m: ServiceMessage): void;
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
      onMessage: (cb) => proc.on('message', cb),
      onDisconnect: (cb) => proc.on('disconnect', cb),
      close: () => {
        if (proc.connected) proc.disconnect?.();
      },
    };
  }
  return { kind: 'none', send: () => {}, onMessage: () => {}, onDisconnect: () => {}, close: () => {} };
}
