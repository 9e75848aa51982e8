/**
 * The service's listening socket, kept by the supervisor across child restarts (headless `owlet
 * run`). The supervisor binds the loopback port once and hands the socket to every child over the
 * fork IPC channel; each child listens on it. While a child restarts, the socket stays in the
 * LISTEN state (the supervisor still holds it), so new connections wait in the kernel's backlog
 * and the next child answers them, instead of being refused because no process holds the port.
 *
 * Why a bound, never-listening raw handle (Node's `net._createServerHandle`, what `cluster` uses
 * for the same job) rather than a listening `net.Server`: a listening server in the supervisor
 * would accept connections itself, and an idle supervisor wins most of those races. The first
 * child's `listen()` puts the shared socket into LISTEN; the supervisor never accepts.
 *
 * Electron's utilityProcess cannot carry handles: the app keeps one socket per child (launcher.ts,
 * `sharesListenSocket`).
 */
import net from 'node:net';
import { getSystemErrorName } from 'node:util';
import { owletError } from '../../shared/errors.js';

/** A TCP handle as Node's internals expose it (the part used here). */
interface RawTcpHandle {
  getsockname(out: Record<string, unknown>): number;
  close(): void;
}

/** The shared socket, as the supervisor holds it. */
export interface SharedListenSocket {
  readonly host: string;
  readonly port: number;
  /** The raw handle, sent to each child with the `listen-socket` message. */
  readonly handle: object;
  /**
   * A read-only standby (standby.ts) accepts on the socket now: a service started meanwhile is
   * told so and accepts only once it is ready, leaving connections to the standby until then.
   */
  standby: boolean;
  readonly closed: boolean;
  close(): void;
}

/**
 * Loopback IP literals only: `localhost` may resolve to both families (Fastify then binds two
 * sockets), and anything else must never be bound by Owlet at all.
 */
export function canShareHost(host: string): boolean {
  return host === '127.0.0.1' || host === '::1';
}

type CreateServerHandle = (address: string, port: number, addressType: number) => RawTcpHandle | number;

/**
 * Binds (without listening) `host:port`; port 0 picks a free port, read back here. A port another
 * program listens on is NOT an error here (libuv reports EADDRINUSE at listen, not at bind): the
 * first child's listen meets it and reports the port error in the service's own words, as a child
 * binding its own socket would. Errors bind does report (EACCES…) throw the same port error.
 */
export function bindListenSocket(host: string, port: number): SharedListenSocket {
  if (!canShareHost(host)) throw new RangeError(`a shared listening socket is bound to a loopback IP only (127.0.0.1 or ::1), not ${host}`);
  const create = (net as unknown as { _createServerHandle?: CreateServerHandle })._createServerHandle;
  if (typeof create !== 'function') throw new Error('this Node has no net._createServerHandle: the socket cannot be shared');
  const h = create(host, port, host === '::1' ? 6 : 4);
  if (typeof h === 'number') {
    const code = getSystemErrorName(h);
    const reason = code === 'EADDRINUSE' ? 'is already in use by another program' : code === 'EACCES' ? 'is refused to this user (ports below 1024 are reserved); choose a port above 1023' : `cannot be bound (${code})`;
    throw owletError('OWL_ERR_PORT_IN_USE', { host, port, reason }, { detail: { port } });
  }
  const addr: Record<string, unknown> = {};
  h.getsockname(addr);
  const bound = typeof addr.port === 'number' ? addr.port : port;
  let closed = false;
  return {
    host,
    port: bound,
    handle: h,
    standby: false,
    get closed() {
      return closed;
    },
    close() {
      if (closed) return;
      closed = true;
      h.close();
    },
  };
}

/** What a child received: a handle it checked is bound to the loopback address it expected. */
export interface ReceivedListenSocket {
  handle: object;
  host: string;
  port: number;
  /** A standby accepts on it too: listen only once ready. */
  standby?: boolean;
}

/** The slice of `process` the child side needs (tests pass a fake). */
export interface HandleChannel {
  on(event: 'message', cb: (m: unknown, handle?: unknown) => void): unknown;
  off(event: 'message', cb: (m: unknown, handle?: unknown) => void): unknown;
}

export const LISTEN_SOCKET_WAIT_MS = 15_000;

/**
 * `serve --listen-handle`: waits for the host's `listen-socket` message and its handle. Must be
 * called before anything else listens for IPC messages (the message may already be queued).
 * Resolves with an error value instead of throwing, so the caller can fall back to its own socket.
 */
export function receiveListenSocket(channel: HandleChannel, timeoutMs = LISTEN_SOCKET_WAIT_MS): Promise<ReceivedListenSocket | Error> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(new Error(`the host did not send the listening socket within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
    function done(r: ReceivedListenSocket | Error) {
      clearTimeout(timer);
      channel.off('message', onMessage);
      resolve(r);
    }
    function onMessage(m: unknown, handle?: unknown) {
      if (typeof m !== 'object' || m === null || (m as { type?: unknown }).type !== 'listen-socket') return;
      const raw = handle as Partial<RawTcpHandle> | undefined;
      if (!raw || typeof raw.getsockname !== 'function') return done(new Error('the listen-socket message carried no socket'));
      const addr: Record<string, unknown> = {};
      raw.getsockname(addr);
      if (typeof addr.address !== 'string' || typeof addr.port !== 'number') return done(new Error('the socket from the host has no address'));
      done({ handle: raw, host: addr.address, port: addr.port, standby: (m as { standby?: unknown }).standby === true });
    }
    channel.on('message', onMessage);
  });
}

/**
 * The security check before a child serves on a socket it did not bind: it must be bound to the
 * loopback address and port this service was configured for. Anything else is refused (the child
 * then binds its own socket).
 */
export function checkListenSocket(s: ReceivedListenSocket, host: string, port: number | undefined): string | null {
  if (!canShareHost(s.host)) return `the socket from the host is bound to ${s.host}, not a loopback address`;
  if (s.host !== host) return `the socket from the host is bound to ${s.host}, but server.host is ${host}`;
  if (port !== undefined && port !== 0 && s.port !== port) return `the socket from the host is bound to port ${s.port}, but this service was asked for ${port}`;
  return null;
}

/**
 * A received socket this service may listen on, or why not: an error from receiving it, or the
 * refusal of checkListenSocket (the refused handle is closed). Every place that takes a socket from
 * the host (start-up, the standby, taking it back after a pause) goes through here.
 */
export function usableListenSocket(r: ReceivedListenSocket | Error, host: string, port: number | undefined): ReceivedListenSocket | Error {
  if (r instanceof Error) return r;
  const refused = checkListenSocket(r, host, port);
  if (refused === null) return r;
  closeReceived(r);
  return new Error(refused);
}

/** Closes a received handle the child will not use. */
export function closeReceived(s: ReceivedListenSocket): void {
  try {
    (s.handle as RawTcpHandle).close();
  } catch {
    /* already closed */
  }
}
