import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startOwlet, waitExit } from '../../helpers/cli.js';
import { authHeaders } from '../../helpers/auth.js';
import { tmpDir, waitFor, writeTree } from '../../helpers/tmp.js';
import type { ServiceInfo, StatusReport } from '../../../src/shared/api.js';
import { KeyFileSecretStore } from '../../../src/indexer/security/key-file.js';
import { listAuditFiles, verifyAuditLog } from '../../../src/indexer/audit/log.js';

/**
 * The hostile-request suite against a RUNNING service (`owlet serve` in its own process): every
 * attack gets the right 4xx, none a 5xx, and the service stays up throughout.
 */

interface RawAnswer {
  status: number | null;
  text: string;
  ms: number;
  closedByServer: boolean;
}

/** Speaks HTTP/1.1 over a raw socket (for Host headers fetch will not send, and slow clients). */
function raw(port: number, write: (s: net.Socket) => void, timeoutMs: number): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const s = net.connect(port, '127.0.0.1');
    let text = '';
    let settled = false;
    const done = (closedByServer: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : null, text, ms: Date.now() - t0, closedByServer });
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    s.on('data', (d) => (text += d));
    s.on('end', () => done(true));
    s.on('close', () => done(true));
    s.on('error', () => done(true));
    s.on('connect', () => write(s));
  });
}

test('hostile requests against a running service: right 4xx each, never a 5xx, service stays up, failed sign-ins audited', async () => {
  const root = tmpDir('owlet-root-');
  const outside = tmpDir('owlet-outside-');
  const data = tmpDir('owlet-data-');
  writeTree(root, { 'notes/secretplan.txt': 'the harbour plan is hostiletestword '.repeat(200), 'b.md': '# B\nsecond document' });
  writeTree(outside, { 'private.txt': 'outside the roots: must never be served' });
  fs.symlinkSync(path.join(outside, 'private.txt'), path.join(root, 'escape.txt'));
  fs.symlinkSync(outside, path.join(root, 'escape-dir'));
  fs.writeFileSync(
    path.join(data, 'config.json'),
    JSON.stringify({ security: { secretStore: 'key-file', http: { headersTimeoutMs: 1500, requestTimeoutMs: 3000, rateLimitPerMinute: 60 } } }),
  );
  const child = startOwlet(['serve', '--root', root, '--data-dir', data, '--port', '0']);
  const statuses: { what: string; status: number }[] = [];
  const seen = (what: string, status: number) => {
    statuses.push({ what, status });
    return status;
  };
  try {
    const info = await waitFor(() => JSON.parse(fs.readFileSync(path.join(data, 'service.json'), 'utf8')) as ServiceInfo, 20_000, 'service.json');
    const { url, port } = info;
    const bearer = authHeaders(data);
    const get = async (p: string, init: RequestInit = {}) => {
      const r = await fetch(url + p, { signal: AbortSignal.timeout(5000), ...init });
      r.headers.forEach((_v, h) => assert.doesNotMatch(h, /^access-control-/, `no CORS headers (${p})`));
      return r;
    };
    await waitFor(async () => ((await (await get('/api/v1/status', { headers: bearer })).json()) as StatusReport).counts.indexed === 2, 20_000, 'indexed');

    // Wrong Host (DNS rebinding): refused before anything else, even health.
    for (const host of ['evil.example', `attacker.example:${port}`, `127.0.0.1:${port + 1}`]) {
      const r = await raw(port, (s) => s.write(`GET /api/v1/status HTTP/1.1\r\nHost: ${host}\r\nAuthorization: ${bearer.Authorization}\r\nConnection: close\r\n\r\n`), 5000);
      assert.equal(seen(`host ${host}`, r.status ?? 0), 421, host);
    }
    // Foreign Origin, even with the token.
    for (const origin of ['http://evil.example', 'null']) {
      const r = await get('/api/v1/index/pause', { method: 'POST', headers: { ...bearer, Origin: origin } });
      assert.equal(seen(`origin ${origin}`, r.status), 403);
    }
    // No token, wrong token.
    assert.equal(seen('no token', (await get('/api/v1/status')).status), 401);
    assert.equal(seen('wrong token', (await get('/api/v1/status', { headers: { Authorization: `Bearer ${'x'.repeat(43)}` } })).status), 401);
    assert.equal(seen('no token, preview', (await get(`/api/v1/preview?path=${encodeURIComponent(path.join(root, 'b.md'))}`)).status), 401);

    // A browser session without its CSRF token cannot change state.
    const link = (await (await get('/api/v1/auth/login-link', { method: 'POST', headers: bearer })).json()) as { url: string };
    const login = await fetch(link.url, { redirect: 'manual' });
    assert.equal(login.status, 303);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    assert.equal(seen('cookie read', (await get('/api/v1/status', { headers: { cookie } })).status), 200);
    assert.equal(seen('cookie write without CSRF', (await get('/api/v1/index/pause', { method: 'POST', headers: { cookie } })).status), 403);
    const { csrf } = (await (await get('/api/v1/session', { headers: { cookie } })).json()) as { csrf: string };
    assert.equal(seen('cookie write with CSRF', (await get('/api/v1/index/resume', { method: 'POST', headers: { cookie, 'X-Owlet-CSRF': csrf } })).status), 200);
    // Failed sign-ins: a made-up code, and the used one again.
    assert.equal(seen('bad login code', (await fetch(`${url}/login?code=${'A'.repeat(43)}`, { redirect: 'manual' })).status), 401);
    assert.equal(seen('reused login code', (await fetch(link.url, { redirect: 'manual' })).status), 401);

    // Path-based preview: only indexed documents inside the roots.
    const preview = (p: string, rawQuery = false) => get(`/api/v1/preview?path=${rawQuery ? p : encodeURIComponent(p)}`, { headers: bearer });
    const ok = await preview(path.join(root, 'notes', 'secretplan.txt'));
    assert.equal(seen('preview ok', ok.status), 200);
    const body = (await ok.json()) as { text: string; truncated: boolean };
    assert.ok(body.text.length <= 2048 && body.text.startsWith('the harbour plan') && body.truncated);
    const attempts: [string, string, boolean, number][] = [
      ['plain ..', `${root}/notes/../../${path.basename(outside)}/private.txt`, false, 400],
      ['.. to /etc', `${root}/../../../../etc/passwd`, false, 400],
      ['encoded ..', `${encodeURIComponent(root)}%2F..%2F..%2Fetc%2Fpasswd`, true, 400],
      ['double-encoded ..', `${encodeURIComponent(root)}%252F..%252F..%252Fetc%252Fpasswd`, true, 400],
      ['double-encoded dots', `${encodeURIComponent(root)}%2F%252e%252e%2Fetc%2Fpasswd`, true, 400],
      ['symlinked file escaping the root', path.join(root, 'escape.txt'), false, 403],
      ['symlinked folder escaping the root', path.join(root, 'escape-dir', 'private.txt'), false, 403],
      ['outside every root', '/etc/passwd', false, 403],
      ['relative', 'notes/secretplan.txt', false, 400],
      ['NUL byte', `${root}/b.md%00.txt`, true, 400],
      ['not indexed (missing)', path.join(root, 'nope.txt'), false, 404],
      ['unknown field', `${encodeURIComponent(path.join(root, 'b.md'))}&extra=1`, true, 400],
    ];
    for (const [what, p, rawQuery, want] of attempts) {
      const r = await preview(p, rawQuery);
      const text = await r.text();
      assert.equal(seen(what, r.status), want, `${what}: ${text}`);
      assert.doesNotMatch(text, /must never be served|root:x:0/, `${what} leaked content`);
    }
    // Traversal in the URL path itself never reaches a file.
    for (const p of ['/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/%252e%252e/etc/passwd', '/api/v1/..%2f..%2fetc/passwd']) {
      const r = await raw(port, (s) => s.write(`GET ${p} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: ${bearer.Authorization}\r\nConnection: close\r\n\r\n`), 5000);
      assert.ok(r.status !== null && r.status >= 400 && r.status < 500, `${p}: ${r.status}`);
      assert.doesNotMatch(r.text, /root:x:0/);
      seen(`url ${p}`, r.status!);
    }

    // Oversized body and query, malformed JSON, oversized headers.
    const big = await get('/api/v1/index/pause', { method: 'POST', headers: { ...bearer, 'content-type': 'application/json' }, body: JSON.stringify({ x: 'a'.repeat(1_000_000) }) });
    assert.equal(seen('oversized body', big.status), 413);
    assert.equal(seen('oversized query', (await get(`/api/v1/search?q=${'a'.repeat(5000)}`, { headers: bearer })).status), 414);
    assert.equal(seen('long q', (await get(`/api/v1/search?q=${'a'.repeat(2000)}`, { headers: bearer })).status), 400);
    const badJson = await get('/api/v1/index/pause', { method: 'POST', headers: { ...bearer, 'content-type': 'application/json' }, body: '{"oops": ' });
    assert.equal(seen('malformed JSON', badJson.status), 400);
    const hugeHeader = await raw(port, (s) => s.write(`GET /health/live HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Big: ${'b'.repeat(40_000)}\r\nConnection: close\r\n\r\n`), 5000);
    assert.equal(seen('oversized headers', hugeHeader.status ?? 0), 431);

    // FTS and SQL syntax in queries: a 200 or a 400 naming the problem, never a 500.
    const nasty = ['"unterminated', 'NEAR(a b)', "a' OR 1=1 --", '); DROP TABLE documents; --', 'title:secret', '*', '^hostiletestword', 'a AND OR b', '(((', ')', 'body:x OR', '"a" NOT', '-', 'x*y*', "' UNION SELECT * FROM documents --", '\\', 'ext:', 'after:notadate', 'path:../../etc'];
    for (const q of nasty) {
      const r = await get(`/api/v1/search?q=${encodeURIComponent(q)}`, { headers: bearer });
      const s = seen(`query ${q}`, r.status);
      assert.ok(s === 200 || s === 400, `${q}: ${s} ${await r.text()}`);
    }
    const still = (await (await get('/api/v1/search?q=hostiletestword', { headers: bearer })).json()) as { total: number };
    assert.equal(still.total, 1, 'the index is intact after the injection attempts');

    // A slow client dribbling its headers (slowloris) is cut off by the headers timeout.
    const slow = await raw(
      port,
      (s) => {
        s.write(`GET /health/live HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`);
        const t = setInterval(() => (s.writable ? s.write('X-Drip: 1\r\n') : clearInterval(t)), 300);
        s.on('close', () => clearInterval(t));
      },
      15_000,
    );
    console.log(`slowloris: ${slow.status ?? 'no status'} after ${slow.ms} ms (headers timeout 1500 ms)`);
    assert.equal(slow.closedByServer, true, 'the server closed the connection');
    assert.equal(seen('slowloris', slow.status ?? 408), 408);

    // Rate limit on the expensive endpoint, per client.
    let limited: Response | null = null;
    for (let i = 0; i < 80 && !limited; i++) {
      const r = await get('/api/v1/search?q=plan', { headers: bearer });
      if (r.status === 429) limited = r;
      else assert.equal(r.status, 200);
    }
    assert.ok(limited, 'search is rate-limited');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    seen('rate limit', limited.status);
    assert.equal(seen('other client still served', (await get('/api/v1/search?q=plan', { headers: { cookie } })).status), 200, 'the browser session has its own budget');

    // Still up, still healthy, nothing answered with a 5xx.
    assert.equal((await get('/health/live')).status, 200);
    assert.equal(child.exitCode, null);
    assert.deepEqual(statuses.filter((s) => s.status >= 500), []);
    console.log(`hostile requests: ${statuses.length}, answers: ${[...new Set(statuses.map((s) => s.status))].sort().join(', ')}`);

    child.kill('SIGTERM');
    assert.equal((await waitExit(child, 10_000)).code, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  // The audit log holds the failed sign-ins (and the successful one), and its chain is intact.
  const dir = path.join(data, 'audit');
  const entries = listAuditFiles(dir).flatMap((f) => fs.readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event: string }));
  const events = entries.map((e) => e.event);
  assert.equal(events.filter((e) => e === 'auth.login-failed').length, 2, events.join(', '));
  assert.ok(events.includes('auth.login') && events.includes('auth.token-failed') && events.includes('service.start') && events.includes('service.stop'), events.join(', '));
  const v = verifyAuditLog(dir, new KeyFileSecretStore(data).get('audit-key')!);
  assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
});
