import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildServer, type ServiceApi } from '../../../src/indexer/http/server.js';
import { SessionStore } from '../../../src/indexer/security/sessions.js';
import type { AuditFields } from '../../../src/indexer/audit/types.js';
import { quietApi } from '../../helpers/fake-api.js';

const PORT = 4321;
const TOKEN = 'A'.repeat(43);
const HOST = `127.0.0.1:${PORT}`;

function fakeApi(calls: string[]): ServiceApi {
  return quietApi({
    search: (q) => {
      calls.push(`search:${q}`);
      return { total: 0, hits: [] };
    },
    pause: () => void calls.push('pause'),
    resume: () => void calls.push('resume'),
    rescan: async () => void calls.push('rescan'),
  });
}

function setup(opts: { now?: () => number; rateLimitMax?: number } = {}) {
  const calls: string[] = [];
  const audit: { event: string; fields?: AuditFields }[] = [];
  let token = TOKEN;
  const sessions = new SessionStore({ now: opts.now });
  const app = buildServer(fakeApi(calls), {
    auth: { tokens: { current: () => token }, sessions, audit: { append: (event, fields) => void audit.push({ event, fields }) }, port: PORT, now: opts.now },
    limits: opts.rateLimitMax ? { rateLimitMax: opts.rateLimitMax } : {},
  });
  const bearer = { host: HOST, authorization: `Bearer ${TOKEN}` };
  return { app, calls, audit, sessions, bearer, setToken: (t: string) => (token = t) };
}

async function signIn(s: ReturnType<typeof setup>): Promise<{ cookie: string; csrf: string }> {
  const link = await s.app.inject({ method: 'POST', url: '/api/v1/auth/login-link', headers: s.bearer });
  assert.equal(link.statusCode, 200);
  const url = new URL(link.json().url);
  assert.equal(url.origin, `http://127.0.0.1:${PORT}`);
  const login = await s.app.inject({ url: url.pathname + url.search, headers: { host: HOST } });
  assert.equal(login.statusCode, 303);
  assert.equal(login.headers.location, '/');
  const setCookie = String(login.headers['set-cookie']);
  assert.match(setCookie, /^owlet_session=[A-Za-z0-9_-]+; HttpOnly; SameSite=Strict; Path=\//);
  const cookie = setCookie.split(';')[0]!;
  const sess = await s.app.inject({ url: '/api/v1/session', headers: { host: HOST, cookie } });
  assert.equal(sess.statusCode, 200);
  const csrf = sess.json().csrf as string;
  assert.match(csrf, /^[A-Za-z0-9_-]{43}$/);
  return { cookie, csrf };
}

test('health needs no token; everything else does (401 JSON)', async () => {
  const s = setup();
  assert.equal((await s.app.inject({ url: '/health/live', headers: { host: HOST } })).statusCode, 200);
  assert.equal((await s.app.inject({ url: '/health/ready', headers: { host: HOST } })).statusCode, 200);
  for (const [method, url] of [['GET', '/api/v1/status'], ['GET', '/api/v1/search?q=x'], ['POST', '/api/v1/index/pause'], ['GET', '/nope'], ['GET', '/health/live/x']] as const) {
    const r = await s.app.inject({ method, url, headers: { host: HOST } });
    assert.equal(r.statusCode, 401, `${method} ${url}`);
    assert.equal(r.json().error.code, 'OWL_ERR_AUTH_REQUIRED');
  }
  assert.deepEqual(s.calls, []);
  const ok = await s.app.inject({ url: '/api/v1/search?q=hello', headers: s.bearer });
  assert.equal(ok.statusCode, 200);
  assert.deepEqual(s.calls, ['search:hello']);
});

test('a wrong, malformed or old token is refused and audited (throttled)', async () => {
  let t = 0;
  const s = setup({ now: () => t });
  for (const authorization of [`Bearer ${'B'.repeat(43)}`, `Bearer ${TOKEN}x`, `Basic ${TOKEN}`, 'Bearer', `bearer ${TOKEN}`]) {
    const r = await s.app.inject({ url: '/api/v1/status', headers: { host: HOST, authorization } });
    assert.equal(r.statusCode, 401, authorization);
  }
  assert.equal(s.audit.filter((a) => a.event === 'auth.token-failed').length, 1, 'five failures within 10 s: one entry');
  t += 11_000;
  await s.app.inject({ url: '/api/v1/status', headers: { host: HOST, authorization: 'Bearer nope' } });
  const entries = s.audit.filter((a) => a.event === 'auth.token-failed');
  assert.equal(entries.length, 3, 'the window\'s suppressed failures as one entry, then the new window\'s first');
  assert.equal(entries[1]!.fields?.count, 4, 'the suppressed failures are counted');
  assert.equal(entries[2]!.fields?.count, 1);
  // Rotation: the old token stops working at once.
  s.setToken('C'.repeat(43));
  assert.equal((await s.app.inject({ url: '/api/v1/status', headers: s.bearer })).statusCode, 401);
  assert.equal((await s.app.inject({ url: '/api/v1/status', headers: { host: HOST, authorization: `Bearer ${'C'.repeat(43)}` } })).statusCode, 200);
});

test('Host allow-list: only loopback names with our port (DNS rebinding)', async () => {
  const s = setup();
  for (const host of [`127.0.0.1:${PORT}`, `localhost:${PORT}`, `[::1]:${PORT}`, `LOCALHOST:${PORT}`]) {
    assert.equal((await s.app.inject({ url: '/api/v1/status', headers: { ...s.bearer, host } })).statusCode, 200, host);
  }
  for (const host of ['evil.example', `evil.example:${PORT}`, '127.0.0.1', `127.0.0.1:${PORT + 1}`, `localhost.evil.example:${PORT}`, `0.0.0.0:${PORT}`, `127.0.0.2:${PORT}`, '']) {
    const r = await s.app.inject({ url: '/health/live', headers: { ...s.bearer, host } });
    assert.equal(r.statusCode, 421, host);
    assert.equal(r.json().error.code, 'OWL_ERR_HTTP_HOST');
  }
});

test('a foreign Origin is refused even with the bearer token; no CORS headers ever', async () => {
  const s = setup();
  for (const origin of ['http://evil.example', 'null', `http://127.0.0.1:${PORT + 1}`, `https://127.0.0.1:${PORT}`, `http://localhost:${PORT}`]) {
    const r = await s.app.inject({ method: 'POST', url: '/api/v1/index/pause', headers: { ...s.bearer, origin } });
    assert.equal(r.statusCode, 403, origin);
    assert.equal(r.json().error.code, 'OWL_ERR_HTTP_ORIGIN');
  }
  assert.deepEqual(s.calls, []);
  const same = await s.app.inject({ method: 'POST', url: '/api/v1/index/pause', headers: { ...s.bearer, origin: `http://${HOST}` } });
  assert.equal(same.statusCode, 200);
  const pre = await s.app.inject({ method: 'OPTIONS', url: '/api/v1/search', headers: { host: HOST, origin: 'http://evil.example', 'access-control-request-method': 'GET' } });
  assert.ok(pre.statusCode >= 400 && pre.statusCode < 500);
  for (const r of [same, pre]) for (const h of Object.keys(r.headers)) assert.doesNotMatch(h, /^access-control-/i);
});

test('sign-in: one-time link → HttpOnly SameSite=Strict cookie → CSRF token; cookie writes need it', async () => {
  const s = setup();
  const { cookie, csrf } = await signIn(s);
  assert.ok(s.audit.some((a) => a.event === 'auth.login'));
  // Reads with the cookie alone.
  assert.equal((await s.app.inject({ url: '/api/v1/status', headers: { host: HOST, cookie } })).statusCode, 200);
  // Writes need the CSRF header…
  const noCsrf = await s.app.inject({ method: 'POST', url: '/api/v1/index/pause', headers: { host: HOST, cookie } });
  assert.equal(noCsrf.statusCode, 403);
  assert.equal(noCsrf.json().error.code, 'OWL_ERR_HTTP_CSRF');
  const wrong = await s.app.inject({ method: 'POST', url: '/api/v1/index/pause', headers: { host: HOST, cookie, 'x-owlet-csrf': csrf.slice(1) + 'x' } });
  assert.equal(wrong.statusCode, 403);
  assert.deepEqual(s.calls, []);
  const ok = await s.app.inject({ method: 'POST', url: '/api/v1/index/pause', headers: { host: HOST, cookie, 'x-owlet-csrf': csrf, origin: `http://${HOST}` } });
  assert.equal(ok.statusCode, 200);
  assert.deepEqual(s.calls, ['pause']);
  // …and a matching Origin when one is sent.
  const cross = await s.app.inject({ method: 'POST', url: '/api/v1/index/resume', headers: { host: HOST, cookie, 'x-owlet-csrf': csrf, origin: 'http://evil.example' } });
  assert.equal(cross.statusCode, 403);
  // A cookie session cannot mint login links.
  const mint = await s.app.inject({ method: 'POST', url: '/api/v1/auth/login-link', headers: { host: HOST, cookie, 'x-owlet-csrf': csrf } });
  assert.equal(mint.statusCode, 403);
  // Sign-out ends the session.
  const out = await s.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { host: HOST, cookie, 'x-owlet-csrf': csrf } });
  assert.equal(out.statusCode, 200);
  assert.equal((await s.app.inject({ url: '/api/v1/status', headers: { host: HOST, cookie } })).statusCode, 401);
  // A bearer client has no CSRF token to fetch.
  assert.deepEqual((await s.app.inject({ url: '/api/v1/session', headers: s.bearer })).json(), { csrf: null, auth: 'bearer' });
});

test('login codes are single-use and expire after 60 s; failures are audited', async () => {
  let t = 1_000_000;
  const s = setup({ now: () => t });
  s.sessions; // same clock for codes
  const mk = async () => new URL((await s.app.inject({ method: 'POST', url: '/api/v1/auth/login-link', headers: s.bearer })).json().url);
  const once = await mk();
  assert.equal((await s.app.inject({ url: once.pathname + once.search, headers: { host: HOST } })).statusCode, 303);
  const again = await s.app.inject({ url: once.pathname + once.search, headers: { host: HOST } });
  assert.equal(again.statusCode, 401, 'used code');
  assert.match(String(again.headers['content-type']), /text\/html/);
  assert.equal(again.headers['set-cookie'], undefined);
  for (const url of ['/login', '/login?code=', '/login?code=bogus', `/login?code=${'x'.repeat(300)}`, '/login?code=a&code=b']) {
    const r = await s.app.inject({ url, headers: { host: HOST } });
    assert.equal(r.statusCode, 401, url);
  }
  // Aggregated: the first failure at once, the rest of the 10 s window as one counted entry
  // (written when the next window starts).
  t += 10_000;
  assert.equal((await s.app.inject({ url: '/login?code=late', headers: { host: HOST } })).statusCode, 401);
  const failed = s.audit.filter((a) => a.event === 'auth.login-failed');
  assert.equal(failed.length, 3);
  assert.equal(failed.reduce((n, a) => n + Number(a.fields?.count), 0), 7);
});

test('login code expiry uses the session clock', async () => {
  let t = 0;
  const sessions = new SessionStore({ now: () => t });
  const a = sessions.issueCode();
  const b = sessions.issueCode();
  t = 60_000;
  assert.equal(sessions.consumeCode(a), true, 'valid at exactly 60 s');
  t = 60_001;
  assert.equal(sessions.consumeCode(b), false, 'expired after 60 s');
  const { id } = sessions.create();
  t += 13 * 3_600_000;
  assert.equal(sessions.get(id), undefined, 'idle sessions end');
});

test('security headers on every answer, API answers never cached', async () => {
  const s = setup();
  for (const [url, headers] of [['/health/live', { host: HOST }], ['/api/v1/status', s.bearer], ['/api/v1/status', { host: HOST }], ['/x', { host: 'evil' }]] as const) {
    const r = await s.app.inject({ url, headers });
    assert.match(String(r.headers['content-security-policy']), /frame-ancestors 'none'/, url);
    assert.doesNotMatch(String(r.headers['content-security-policy']), /https?:|\*/, 'no remote sources');
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.equal(r.headers['referrer-policy'], 'no-referrer');
    assert.equal(r.headers['cache-control'], 'no-store');
  }
});

test('expensive endpoints are rate-limited per client with 429 + Retry-After', async () => {
  const s = setup({ rateLimitMax: 3 });
  const codes: number[] = [];
  for (let i = 0; i < 5; i++) codes.push((await s.app.inject({ url: '/api/v1/search?q=x', headers: s.bearer })).statusCode);
  assert.deepEqual(codes, [200, 200, 200, 429, 429]);
  const r = await s.app.inject({ url: '/api/v1/search?q=x', headers: s.bearer });
  assert.equal(r.json().error.code, 'OWL_ERR_HTTP_RATE_LIMITED');
  assert.ok(Number(r.headers['retry-after']) >= 1);
  // Cheap endpoints are not limited; another client (a browser session) has its own budget.
  for (let i = 0; i < 5; i++) assert.equal((await s.app.inject({ url: '/api/v1/status', headers: s.bearer })).statusCode, 200);
});

test('over-long URLs are refused with 414 before any work', async () => {
  const s = setup();
  const r = await s.app.inject({ url: `/api/v1/search?q=${'a'.repeat(5000)}`, headers: s.bearer });
  assert.equal(r.statusCode, 414);
  assert.deepEqual(s.calls, []);
});

test('a server that stopped accepting for a while (a recovery) still answers requests addressed to its port', async () => {
  const app = buildServer(fakeApi([]), { auth: { tokens: { current: () => TOKEN }, sessions: new SessionStore(), audit: { append: () => undefined } }, limits: {} });
  try {
    // Never bound: no port is ours yet.
    assert.equal((await app.inject({ url: '/health/live', headers: { host: HOST } })).statusCode, 421);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as { port: number }).port;
    await new Promise<void>((r) => app.server.close(() => r()));
    assert.equal(app.server.listening, false);
    // What the standby forwards over its private channel meanwhile is addressed to that port.
    assert.equal((await app.inject({ url: '/health/live', headers: { host: `127.0.0.1:${port}` } })).statusCode, 200);
    assert.equal((await app.inject({ url: '/health/live', headers: { host: `127.0.0.1:${port + 1}` } })).statusCode, 421);
  } finally {
    await app.close();
  }
});
