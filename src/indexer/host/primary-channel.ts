/**
 * A private way from the read-only standby to the primary service (headless `owlet run` only).
 *
 * Both children accept on the one listening socket the supervisor keeps (listen-socket.ts), and
 * the kernel hands each new connection to whichever process is waiting in `accept`. The standby
 * answers readiness and token searches itself; everything else (the dashboard and its cookie
 * session, writes, status, backups…) it hands to the primary over this channel, so a client that
 * happens to reach the standby sees the primary's answer, not a refusal. Only when the primary
 * cannot be reached (killed, restarting, stopped) does the standby answer 503 OWL_ERR_STANDBY.
 *
 * The channel is a Unix socket in the data folder (mode 0600, the folder itself is private): the
 * primary feeds its connections into its own HTTP server, so every request through it meets the
 * same guards as one on the TCP port (Host and Origin checks, token or session, CSRF, rate
 * limits). It adds no way in: only the data folder's owner can connect. Windows has no Unix
 * socket here: there the standby answers what it cannot serve with 503, and the dashboard retries.
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from '../log/logger.js';

export const PRIMARY_SOCKET_FILE = 'primary.sock';

/** Unix socket paths are limited to ~107 bytes; a longer data folder path has no channel. */
export function primarySocketPath(dataDir: string, platform: NodeJS.Platform = process.platform): string | null {
  if (platform === 'win32') return null;
  const p = path.join(dataDir, PRIMARY_SOCKET_FILE);
  return Buffer.byteLength(p) <= 100 ? p : null;
}

export interface PrimaryChannel {
  readonly path: string;
  close(): Promise<void>;
}

/**
 * The primary's side: listens on the private socket and hands every connection to `server` (its
 * Fastify server) as if it had arrived on the TCP port. A stale socket file (a killed primary's) is
 * replaced: the data lock guarantees no other primary is running.
 */
export async function openPrimaryChannel(server: http.Server, dataDir: string, log: Logger): Promise<PrimaryChannel | null> {
  const file = primarySocketPath(dataDir);
  if (!file) return null;
  try {
    fs.rmSync(file, { force: true });
  } catch {
    /* listen reports it */
  }
  const channel = net.createServer((socket) => server.emit('connection', socket));
  try {
    await new Promise<void>((resolve, reject) => {
      channel.once('error', reject);
      channel.listen(file, () => {
        channel.off('error', reject);
        resolve();
      });
    });
    fs.chmodSync(file, 0o600);
  } catch (e) {
    log.warn('the private channel for the standby could not be opened; the standby answers what it cannot serve with 503', { error: e });
    channel.close();
    return null;
  }
  return {
    path: file,
    // Stops accepting and removes the socket file (Node unlinks a Unix socket it listened on). Not
    // waited for: the connections it handed over belong to the HTTP server, whose close ends them.
    close: async () => {
      channel.close();
    },
  };
}

/** Headers that belong to one hop and are not passed on. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

function endToEnd(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

/**
 * The standby's side: passes one request to the primary and its answer back. Calls `unavailable`
 * (and nothing is written to `res`) when the primary does not answer at all: no socket, connection
 * refused or reset before the answer's head arrived, or `headDeadlineMs` passed. `reached` is false
 * only when the request certainly never reached the primary (no socket, connection refused).
 */
export function forwardToPrimary(socketPath: string, req: http.IncomingMessage, res: http.ServerResponse, unavailable: (reason: string, reached: boolean) => void, headDeadlineMs = 15_000): void {
  let settled = false;
  let proxied = false;
  const fail = (reason: string, reached: boolean) => {
    if (settled) return;
    settled = true;
    up.destroy();
    unavailable(reason, reached);
  };
  const headers = endToEnd(req.headers);
  // The body was de-chunked on the way in: chunk it again on the way out. Without a length or
  // chunking, Node sends a GET/DELETE body unframed, and the primary would read it as a second
  // request on this connection (review finding: request smuggling past the standby's checks).
  if (req.headers['transfer-encoding'] !== undefined) {
    delete headers['content-length'];
    headers['transfer-encoding'] = 'chunked';
  }
  const up = http.request({ socketPath, method: req.method, path: req.url, headers, agent: false });
  // A stopped primary (SIGSTOP) accepts nothing and answers nothing; its supervisor replaces it
  // within ~10 s, and a client told so sooner can retry.
  const timer = setTimeout(() => fail('the primary service did not answer in time', true), headDeadlineMs);
  up.on('response', (answer) => {
    clearTimeout(timer);
    if (settled) return answer.destroy();
    settled = true;
    proxied = true;
    res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
    answer.pipe(res);
    answer.on('error', () => res.destroy());
  });
  up.on('error', (e) => {
    clearTimeout(timer);
    // After the answer's head: the answer is cut (the client sees it); after fail(): already answered.
    if (proxied) res.destroy();
    else if (!settled) {
      // Refused or no socket: the request never reached the primary. A reset may have come after it read it.
      const code = (e as NodeJS.ErrnoException).code;
      fail(`the primary service cannot be reached (${code ?? e.message})`, code !== 'ECONNREFUSED' && code !== 'ENOENT');
    }
  });
  req.on('error', () => up.destroy());
  res.on('close', () => {
    clearTimeout(timer);
    if (!res.writableFinished) up.destroy();
  });
  req.pipe(up);
}
