/**
 * Stops a service from accepting on the shared listening socket while its index is recovered or
 * restored (headless `owlet run` with the read-only standby, listen-socket.ts).
 *
 * The kernel hands each new connection to a process waiting in `accept`. A primary that has
 * detached its index for a recovery is still waiting there, and would answer readiness and
 * searches with 503 for the seconds a restore takes, while the standby beside it could answer
 * them. So the primary closes its copy of the socket for that time (the supervisor and the standby
 * keep theirs: the port never closes), and asks its host for the socket again when the new index
 * is in place. Without a standby, new connections wait in the kernel's backlog instead, as they do
 * across a restart. Answers given while paused close their connection, so clients reconnect to
 * whoever accepts. A pause is bounded: after `maxPauseMs` the service accepts again and answers
 * "recovering" itself rather than leave clients waiting longer.
 */
import type { Server } from 'node:net';
import type { Logger } from '../log/logger.js';
import { closeReceived, type ReceivedListenSocket } from './listen-socket.js';

export interface AcceptPauseOptions {
  /** The service's HTTP server, listening on the shared socket. */
  server: Server;
  /** The shared socket again, from the host that forked this service (a `listen-socket-request`). */
  requestSocket: () => Promise<ReceivedListenSocket | Error>;
  log: Logger;
  /** The longest pause (default 20 s). */
  maxPauseMs?: number;
  /** The socket could not be taken back: this service can no longer accept; its host should restart it. */
  onLost: (reason: string) => void;
  setTimer?: (fn: () => void, ms: number) => { unref?: () => unknown };
  clearTimer?: (t: unknown) => void;
}

export interface AcceptPause {
  /** Stops accepting (no-op when paused already or not listening; remembered while a resume is under way). */
  pause(reason: string): void;
  /** Accepts again on the socket the host sends; resolves once listening (or once given up). */
  resume(reason: string): Promise<void>;
  /** For good (the service is stopping): no timer, no resume, a socket that arrives late is closed. */
  close(): void;
  /** True from pause() until the socket is listened on again. */
  readonly paused: boolean;
}

export const MAX_ACCEPT_PAUSE_MS = 20_000;

export function acceptPause(o: AcceptPauseOptions): AcceptPause {
  const setTimer = o.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  const clearTimer = o.clearTimer ?? ((t) => clearTimeout(t as NodeJS.Timeout));
  let paused = false;
  let closed = false;
  /** A pause asked for while a resume was getting the socket: applied once it listens. */
  let pauseAgain: string | null = null;
  let resuming: Promise<void> | null = null;
  let timer: unknown = null;
  let since = 0;

  const stopTimer = (): void => {
    if (timer !== null) clearTimer(timer);
    timer = null;
  };

  // First among the request listeners, so it runs before any answer is written: answers given
  // while paused end their connection, and the client's next request is accepted anew.
  o.server.prependListener('request', (_req: unknown, res: { shouldKeepAlive: boolean }) => {
    if (paused) res.shouldKeepAlive = false;
  });

  const pause = (reason: string): void => {
    if (closed) return;
    if (resuming) {
      pauseAgain = reason;
      return;
    }
    if (paused || !o.server.listening) return;
    paused = true;
    since = Date.now();
    // Closes this process's copy of the socket and the idle keep-alive connections; requests in
    // progress finish. The callback (every connection gone) is not waited for.
    o.server.close(() => undefined);
    o.log.info('not accepting while the index is recovered; new connections go to the standby, or wait', { reason });
    const t = setTimer(() => {
      timer = null;
      void resume('pause time limit');
    }, o.maxPauseMs ?? MAX_ACCEPT_PAUSE_MS);
    t.unref?.();
    timer = t;
  };

  const listenOn = (got: ReceivedListenSocket): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      o.server.once('error', reject);
      o.server.listen({ handle: got.handle }, () => {
        o.server.off('error', reject);
        resolve();
      });
    });

  const resume = (reason: string): Promise<void> => {
    if (!paused || closed) return Promise.resolve();
    resuming ??= (async () => {
      stopTimer();
      const got = await o.requestSocket();
      if (closed) {
        if (!(got instanceof Error)) closeReceived(got);
        return;
      }
      if (got instanceof Error) {
        o.log.error('the listening socket could not be taken back after a pause', { reason: got.message });
        paused = false;
        o.onLost(got.message);
        return;
      }
      try {
        await listenOn(got);
        paused = false;
        o.log.info('accepting again', { reason, pausedMs: Date.now() - since });
      } catch (e) {
        closeReceived(got);
        paused = false;
        o.log.error('listening on the shared socket again failed', { error: e });
        o.onLost((e as Error).message);
      }
    })().finally(() => {
      resuming = null;
      const again = pauseAgain;
      pauseAgain = null;
      // The index was detached again while the socket came back.
      if (again !== null) pause(again);
    });
    return resuming;
  };

  return {
    get paused() {
      return paused;
    },
    pause,
    resume,
    close() {
      closed = true;
      pauseAgain = null;
      stopTimer();
    },
  };
}
