/**
 * Stops a service from accepting on the shared listening socket while its index is recovered or
 * restored (headless `owlet run` with the read-only standby, listen-socket.ts).
 *
 * The kernel hands each new connection to a process waiting in `accept`. A primary that has
 * detached its index for a recovery is still waiting there, and would answer readiness and
 * searches with 503 for the seconds a restore takes, while the standby beside it could answer
 * them. So the primary closes its copy of the socket for that time (the supervisor and the standby
 * keep theirs open: the port never closes), and asks its host for the socket again when the new
 * index is in place. Keep-alive connections are closed after their current request, so clients
 * reconnect to whoever accepts. A pause is bounded: after `maxPauseMs` the service accepts again
 * and answers "recovering" itself rather than depend on one process for longer.
 */
import type { Server } from 'node:net';
import type { Logger } from '../log/logger.js';
import type { ReceivedListenSocket } from './listen-socket.js';

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
  /** Stops accepting (no-op when paused already or not listening). */
  pause(reason: string): void;
  /** Accepts again on the socket the host sends; resolves once listening (or once given up). */
  resume(reason: string): Promise<void>;
  /** True from pause() until the socket is listened on again (requests answered meanwhile close their connection). */
  readonly paused: boolean;
}

export const MAX_ACCEPT_PAUSE_MS = 20_000;

export function acceptPause(o: AcceptPauseOptions): AcceptPause {
  const setTimer = o.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  const clearTimer = o.clearTimer ?? ((t) => clearTimeout(t as NodeJS.Timeout));
  let paused = false;
  let resuming: Promise<void> | null = null;
  let timer: unknown = null;
  let since = 0;

  // Answers given while paused end their connection, so the client's next request is accepted anew.
  o.server.on('request', (_req: unknown, res: { shouldKeepAlive: boolean }) => {
    if (paused) res.shouldKeepAlive = false;
  });

  const resume = (reason: string): Promise<void> => {
    if (!paused) return Promise.resolve();
    resuming ??= (async () => {
      if (timer !== null) clearTimer(timer);
      timer = null;
      const got = await o.requestSocket();
      if (got instanceof Error) {
        o.log.error('the listening socket could not be taken back after a pause', { reason: got.message });
        paused = false;
        o.onLost(got.message);
        return;
      }
      try {
        await new Promise<void>((resolve, reject) => {
          o.server.once('error', reject);
          o.server.listen({ handle: got.handle }, () => {
            o.server.off('error', reject);
            resolve();
          });
        });
        o.log.info('accepting again', { reason, pausedMs: Date.now() - since });
      } catch (e) {
        o.log.error('listening on the shared socket again failed', { error: e });
        o.onLost((e as Error).message);
      } finally {
        paused = false;
      }
    })().finally(() => {
      resuming = null;
    });
    return resuming;
  };

  return {
    get paused() {
      return paused;
    },
    pause(reason) {
      if (paused || !o.server.listening) return;
      paused = true;
      since = Date.now();
      // Closes this process's copy of the socket and the idle keep-alive connections; requests
      // in progress finish. The callback (every connection gone) is not waited for.
      o.server.close(() => undefined);
      o.log.info('not accepting while the index is recovered; the standby answers', { reason });
      const t = setTimer(() => {
        timer = null;
        void resume('pause time limit');
      }, o.maxPauseMs ?? MAX_ACCEPT_PAUSE_MS);
      t.unref?.();
      timer = t;
    },
    resume,
  };
}
