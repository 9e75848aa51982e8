import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { forwardToPrimary, openPrimaryChannel, primarySocketPath } from '../../../src/indexer/host/primary-channel.js';
import { createLogger } from '../../../src/indexer/log/logger.js';
import { tmpDir } from '../../helpers/tmp.js';

test('the channel from the standby to the primary is a 0600 socket in the data folder, and a request through it reaches the primary server as it is', { skip: process.platform === 'win32' ? 'no Unix sockets on Windows: the standby answers 503 there' : false }, async (t) => {
  const data = tmpDir('owlet-primary-channel-');
  fs.chmodSync(data, 0o700);
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.host}`);
    res.end('from the primary');
  });
  t.after(() => server.close());
  const channel = await openPrimaryChannel(server, data, createLogger({ write: () => undefined }));
  assert.ok(channel, 'opened');
  t.after(() => channel.close());
  assert.equal(channel.path, primarySocketPath(data));
  assert.equal(path.dirname(channel.path), data);
  const st = fs.statSync(channel.path);
  assert.ok(st.isSocket());
  assert.equal(st.mode & 0o777, 0o600, 'only the owner may connect');
  const body = await new Promise<string>((resolve, reject) => {
    const req = http.request({ socketPath: channel.path, path: '/api/v1/status', headers: { host: '127.0.0.1:1' } }, (res) => {
      let b = '';
      res.on('data', (c) => (b += c));
      res.on('end', () => resolve(b));
    });
    req.on('error', reject);
    req.setTimeout(5_000, () => req.destroy(new Error('no answer in 5 s')));
    req.end();
  });
  assert.equal(body, 'from the primary');
  assert.deepEqual(seen, ['GET /api/v1/status 127.0.0.1:1'], 'Host and path arrive unchanged, for the same guards as the TCP port');
});

test('a chunked body on a GET or DELETE is passed on framed: the primary reads one request, never a second one smuggled in the body', { skip: process.platform === 'win32' ? 'no Unix sockets on Windows' : false }, async (t) => {
  const data = tmpDir('owlet-primary-smuggle-');
  fs.chmodSync(data, 0o700);
  const seen: string[] = [];
  const primary = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url} body=${JSON.stringify(body)}`);
      res.end('ok');
    });
  });
  t.after(() => primary.close());
  const channel = await openPrimaryChannel(primary, data, createLogger({ write: () => undefined }));
  assert.ok(channel);
  t.after(() => channel.close());
  const standby = http.createServer((req, res) => forwardToPrimary(channel.path, req, res, (reason) => res.writeHead(503).end(reason)));
  await new Promise<void>((r) => standby.listen(0, '127.0.0.1', r));
  t.after(() => standby.close());
  const port = (standby.address() as net.AddressInfo).port;
  const inner = 'GET /smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
  const raw = `DELETE /api/v1/thing HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${inner.length.toString(16)}\r\n${inner}\r\n0\r\n\r\n`;
  const answer = await new Promise<string>((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(raw));
    let got = '';
    s.on('data', (c) => (got += c));
    s.on('end', () => resolve(got));
    s.on('error', reject);
    s.setTimeout(5_000, () => s.destroy(new Error('no answer in 5 s')));
  });
  assert.match(answer, /^HTTP\/1\.1 200/);
  await new Promise((r) => setTimeout(r, 200)); // a smuggled second request would have arrived by now
  assert.deepEqual(seen, [`DELETE /api/v1/thing body=${JSON.stringify(inner)}`]);
});
