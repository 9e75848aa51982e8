import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after } from 'node:test';
import { keyId } from '../../../src/indexer/update/keys.js';

export interface TestKey {
  privateKey: crypto.KeyObject;
  publicKey: crypto.KeyObject;
  id: string;
  privatePem: string;
  publicPem: string;
}

/** An Ed25519 key pair as `openssl genpkey -algorithm ed25519` would give (PKCS#8 PEM). */
export function makeKey(): TestKey {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  return {
    privateKey,
    publicKey,
    id: keyId(publicKey),
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

export type Override = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

export interface FeedServer {
  url: string;
  /** Requests seen, by path, in order. */
  requests: string[];
  /** Replaces how matching requests are answered (hostile servers); return true when handled. */
  setOverride(o: Override | null): void;
  close(): Promise<void>;
}

/** A static file server for a feed folder on 127.0.0.1, closed when the test file ends. */
export async function serveFeed(dir: string): Promise<FeedServer> {
  let override: Override | null = null;
  const requests: string[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((req, res) => {
    const p = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(p);
    if (override && override(req, res)) return;
    const file = path.join(dir, path.normalize(p).replace(/^([/\\])+/, ''));
    if (!file.startsWith(dir) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-length': fs.statSync(file).size });
    fs.createReadStream(file).pipe(res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  after(close);
  return { url: `http://127.0.0.1:${port}/`, requests, setOverride: (o) => (override = o), close };
}
