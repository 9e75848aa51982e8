import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { buildServer, type ServiceApi } from '../../../src/indexer/http/server.js';
import { SessionStore } from '../../../src/indexer/security/sessions.js';
import { logSafe, logSafePath } from '../../../src/indexer/log/log-safe.js';
import { createLogger } from '../../../src/indexer/log/logger.js';
import type { AuditFields } from '../../../src/indexer/audit/types.js';
import { waitFor } from '../../helpers/tmp.js';
import { quietApi } from '../../helpers/fake-api.js';

/**
 * Issue #11 points 8, 9, 11 and 14 and the log-escaping part of 3: the HTTP front door against
 * floods of sign-ins, idle sockets, duplicate Host headers, and tokens rotated under a session.
 */

const TOKEN = 'A'.repeat(43);

const fakeApi = (): ServiceApi => quietApi();

function setup(opts: { now?: () => number; port?: number; limits?: Record<string, number> } = {}) {
  const audit: { event: string; fields?: AuditFields }[] = [];
  let token = TOKEN;
  const sessions = new SessionStore({ now: opts.now });
  const app = buildServer(fakeApi(), {
    auth: {
      tokens: { current: () => token },
      sessions,
      audit: { append: (event, fields) => void audit.push({ event, fields }) },
      ...(opts.port ? { port: opts.port } : {}),
      ...(opts.now ? { now: opts.now } : {}),
    },
    limits: opts.limits ?? {},
  });
  return { app, audit, sessions, setToken: (t: string) => (token = t) };
}

/** Sends raw bytes and returns the status line's code (null if the server closed without one). */
function rawRequest(port: number, text: string, timeoutMs = 3000): Promise<number | null> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(text));
    let buf = '';
    const done = () => {
      clearTimeout(t);
      s.destroy();
      const m = /^HTTP\/1\.1 (\d{3})/.exec(buf);
      resolve(m ? Number(m[1]) : null);
    };
    const t = setTimeout(done, timeoutMs);
    s.on('data', (d) => {
      buf += d;
      if (buf.includes('\r\n\r\n')) done();
    });
    s.on('close', done);
    s.on('error', done);
  });
}

test('#11.14: a request with two Host headers is refused (400), even when the first one is ours', async () => {
  const s = setup();
  await s.app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const port = (s.app.server.address() as net.AddressInfo).port;
    const auth = `Authorization: Bearer ${TOKEN}\r\n`;
    assert.equal(await rawRequest(port, `GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${auth}Connection: close\r\n\r\n`), 200, 'control: one Host header');
    assert.equal(await rawRequest(port, `GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nHost: evil.example\r\n${auth}Connection: close\r\n\r\n`), 400);
    assert.equal(await rawRequest(port, `GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nhOsT: 127.0.0.1:${port}\r\n${auth}Connection: close\r\n\r\n`), 400, 'even two identical ones');
    assert.equal(await rawRequest(port, `GET /health/live HTTP/1.1\r\nHost: evil.example\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`), 400, 'public routes too');
  } finally {
    await s.app.close();
  }
});

test('#11.11: hundreds of idle sockets neither exceed the connection cap nor keep the owner out', async () => {
  const s = setup({ limits: { maxConnections: 16, idleConnectionMs: 400, headersTimeoutMs: 30_000 } });
  await s.app.listen({ host: '127.0.0.1', port: 0 });
  const port = (s.app.server.address() as net.AddressInfo).port;
  const sockets: net.Socket[] = [];
  let closedByServer = 0;
  try {
    // 300 connections that never send a byte (the audit's attack), opened as fast as possible.
    await Promise.all(
      Array.from({ length: 300 }, () =>
        new Promise<void>((resolve) => {
          const c = net.connect(port, '127.0.0.1');
          sockets.push(c);
          c.on('connect', () => resolve());
          c.on('close', () => {
            closedByServer++;
            resolve();
          });
          c.on('error', () => resolve());
        }),
      ),
    );
    const open = await new Promise<number>((r) => s.app.server.getConnections((_e, n) => r(n)));
    assert.ok(open <= 16, `at most maxConnections are held open (${open})`);
    // Within a bounded time the idle ones are closed by the server, and the owner gets in.
    await waitFor(() => closedByServer === 300, 5000, 'every idle socket closed by the server');
    const r = await fetch(`http://127.0.0.1:${port}/api/v1/status`, { headers: { Authorization: `Bearer ${TOKEN}` }, signal: AbortSignal.timeout(3000) });
    assert.equal(r.status, 200);
  } finally {
    for (const c of sockets) c.destroy();
    await s.app.close();
  }
});

test('#11.11: a connection that sends its request in time is not cut by the idle deadline', async () => {
  const s = setup({ limits: { idleConnectionMs: 300 } });
  await s.app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const port = (s.app.server.address() as net.AddressInfo).port;
    // Keep-alive: the second request arrives after the idle deadline of the first wait would have passed.
    const c = net.connect(port, '127.0.0.1');
    await new Promise((r) => c.once('connect', r));
    const answers: string[] = [];
    c.on('data', (d) => answers.push(String(d)));
    const req = `GET /health/live HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`;
    c.write(req);
    await waitFor(() => answers.join('').includes('"ok"'), 3000, 'first answer');
    await new Promise((r) => setTimeout(r, 500));
    c.write(req);
    await waitFor(() => answers.join('').split('HTTP/1.1 200').length === 3, 3000, 'second answer on the same connection');
    c.destroy();
  } finally {
    await s.app.close();
  }
});

async function signIn(app: ReturnType<typeof setup>['app'], host: string): Promise<string> {
  const link = await app.inject({ method: 'POST', url: '/api/v1/auth/login-link', headers: { host, authorization: `Bearer ${TOKEN}` } });
  const url = new URL(link.json().url);
  const login = await app.inject({ url: url.pathname + url.search, headers: { host } });
  assert.equal(login.statusCode, 303);
  return String(login.headers['set-cookie']).split(';')[0]!;
}

test('#11.9: rotating the API token ends every dashboard session (and unused sign-in codes)', async () => {
  const s = setup({ port: 4321 });
  const host = '127.0.0.1:4321';
  const cookie = await signIn(s.app, host);
  assert.equal((await s.app.inject({ url: '/api/v1/status', headers: { host, cookie } })).statusCode, 200);
  const pending = new URL((await s.app.inject({ method: 'POST', url: '/api/v1/auth/login-link', headers: { host, authorization: `Bearer ${TOKEN}` } })).json().url);
  s.setToken('B'.repeat(43));
  assert.equal((await s.app.inject({ url: '/api/v1/status', headers: { host, cookie } })).statusCode, 401, 'the session died with the old token');
  assert.equal((await s.app.inject({ url: pending.pathname + pending.search, headers: { host } })).statusCode, 401, 'a code minted under the old token is void');
  assert.equal((await s.app.inject({ url: '/api/v1/status', headers: { host, authorization: `Bearer ${'B'.repeat(43)}` } })).statusCode, 200);
});

test('#11.8: a sign-in flood writes a bounded number of audit entries, with the true count', async () => {
  let t = 1_000_000;
  const s = setup({ port: 4321, now: () => t, limits: { rateLimitMax: 100_000 } });
  const host = '127.0.0.1:4321';
  for (let i = 0; i < 600; i++) {
    t += 100; // 600 attempts in one minute
    assert.equal((await s.app.inject({ url: `/login?code=guess${i}`, headers: { host } })).statusCode, 401);
  }
  t += 10_000;
  await s.app.inject({ url: '/login?code=last', headers: { host } }); // a failure after the window flushes the rest
  const entries = s.audit.filter((a) => a.event === 'auth.login-failed');
  assert.ok(entries.length <= 14, `at most two entries per 10 s window, not one per attempt (${entries.length})`);
  assert.equal(entries.reduce((n, e) => n + Number(e.fields?.count), 0), 601, 'no failure goes uncounted');
  // Bad bearer tokens were already aggregated; they still are.
  for (let i = 0; i < 50; i++) await s.app.inject({ url: '/api/v1/status', headers: { host, authorization: `Bearer ${'C'.repeat(43)}` } });
  assert.equal(s.audit.filter((a) => a.event === 'auth.token-failed').length, 1);
  await s.app.close();
  assert.equal(s.audit.filter((a) => a.event === 'auth.token-failed').reduce((n, e) => n + Number(e.fields?.count), 0), 50, 'closing flushes the count');
});

test('#11.8: the owner\'s real sign-in link works while a flood has exhausted the unauthenticated rate limit', async () => {
  const s = setup({ port: 4321, limits: { rateLimitMax: 5 } });
  const host = '127.0.0.1:4321';
  const codes: number[] = [];
  for (let i = 0; i < 20; i++) codes.push((await s.app.inject({ url: `/login?code=guess${i}`, headers: { host } })).statusCode);
  assert.ok(codes.includes(429), 'the flood itself is rate-limited');
  const cookie = await signIn(s.app, host);
  assert.match(cookie, /^owlet_session=/);
  assert.equal((await s.app.inject({ url: '/login?code=guess-again', headers: { host } })).statusCode, 429, 'guesses stay limited');
});

test('#11.3: request data is escaped before it reaches a log (no newline, control character, quote, $ or backtick survives)', () => {
  const hostile = '/x\n$(touch /tmp/pwned)`id`;"\r\u001b[31m\u2028\u0085\u007f';
  const safe = logSafe(hostile);
  assert.doesNotMatch(safe, /[\n\r$`;"\u001b\u2028\u0085\u007f ()]/);
  assert.match(safe, /^\/x%0A%24%28touch%20\/tmp\/pwned%29/);
  assert.equal(logSafePath('/api/v1/search?q=secret words'), '/api/v1/search', 'the query string is never logged');
  assert.ok(logSafe('a'.repeat(1000)).length <= 201, 'bounded');
  const lines: string[] = [];
  createLogger({ write: (l) => void lines.push(l) }).warn('request refused', { path: 'a\u2028b\u0085c\u007fd\ne' });
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.split('\n').length, 2, 'one line, newline-terminated');
  assert.doesNotMatch(lines[0]!, /[\u2028\u0085\u007f]/);
  assert.equal(JSON.parse(lines[0]!).path, 'a\u2028b\u0085c\u007fd\ne', 'still valid JSON with the same value');
});
