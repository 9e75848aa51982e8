import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildServer, type ServiceApi } from '../../../src/indexer/http/server.js';
import { OwletError } from '../../../src/shared/errors.js';
import type { StatusReport } from '../../../src/shared/api.js';

function fakeApi(over: Partial<ServiceApi> = {}): ServiceApi & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    isReady: () => true,
    status: () => ({ state: 'idle' }) as StatusReport,
    search: (q, limit, offset) => {
      calls.push(`search:${q}:${limit}:${offset}`);
      return { total: 0, hits: [] };
    },
    problems: () => [],
    pause: () => void calls.push('pause'),
    resume: () => void calls.push('resume'),
    rescan: async () => void calls.push('rescan'),
    ...over,
  };
}

test('search validates its parameters and passes them on', async () => {
  const api = fakeApi();
  const app = buildServer(api);
  const ok = await app.inject({ url: '/api/v1/search?q=hello&limit=5&offset=10' });
  assert.equal(ok.statusCode, 200);
  assert.deepEqual(ok.json(), { total: 0, hits: [] });
  assert.deepEqual(api.calls, ['search:hello:5:10']);
  assert.equal(ok.headers['cache-control'], 'no-store');
  // The same bounds as `owlet search` (--limit 1-1000, --offset 0-100000).
  assert.equal((await app.inject({ url: '/api/v1/search?q=hello&limit=1000&offset=100000' })).statusCode, 200);
  for (const [url, re] of [
    ['/api/v1/search', /q/],
    ['/api/v1/search?q=x&limit=0', /limit/],
    ['/api/v1/search?q=x&limit=abc', /limit/],
    ['/api/v1/search?q=x&offset=-1', /offset/],
    ['/api/v1/search?q=x&bogus=1', /bogus/],
    [`/api/v1/search?q=${'a'.repeat(1001)}`, /1000/],
    ['/api/v1/search?q=x&limit=1001', /limit/],
    ['/api/v1/search?q=x&offset=100001', /offset/],
  ] as const) {
    const r = await app.inject({ url });
    assert.equal(r.statusCode, 400, url);
    assert.equal(r.json().error.code, 'OWL_ERR_ARG_INVALID');
    assert.match(r.json().error.message, re, url);
  }
});

test('a malformed query is a 400 with the parser message, never a 500', async () => {
  const app = buildServer(
    fakeApi({
      search: () => {
        throw new OwletError('OWL_ERR_QUERY_INVALID', 'unterminated quote at position 0');
      },
    }),
  );
  const r = await app.inject({ url: '/api/v1/search?q=%22x' });
  assert.equal(r.statusCode, 400);
  assert.deepEqual(r.json(), { error: { code: 'OWL_ERR_QUERY_INVALID', message: 'unterminated quote at position 0' } });
});

test('an unexpected failure is a 500 without internals', async () => {
  const app = buildServer(fakeApi({ status: () => { throw new Error('SQLITE_IOERR at /secret/path'); } }));
  const r = await app.inject({ url: '/api/v1/status' });
  assert.equal(r.statusCode, 500);
  assert.doesNotMatch(r.body, /secret|SQLITE|at /);
});

test('health: live always, ready only when the index is open', async () => {
  let ready = false;
  const app = buildServer(fakeApi({ isReady: () => ready }));
  assert.equal((await app.inject({ url: '/health/live' })).statusCode, 200);
  assert.equal((await app.inject({ url: '/health/ready' })).statusCode, 503);
  ready = true;
  assert.equal((await app.inject({ url: '/health/ready' })).statusCode, 200);
});

test('pause, resume and rescan are POST-only control endpoints', async () => {
  const api = fakeApi();
  const app = buildServer(api);
  assert.equal((await app.inject({ method: 'POST', url: '/api/v1/index/pause' })).json().paused, true);
  assert.equal((await app.inject({ method: 'POST', url: '/api/v1/index/resume' })).json().paused, false);
  assert.equal((await app.inject({ method: 'POST', url: '/api/v1/index/rescan' })).statusCode, 202);
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/index/pause' })).statusCode, 404);
  assert.deepEqual(api.calls, ['pause', 'resume', 'rescan']);
});

test('unknown endpoints are a JSON 404', async () => {
  const r = await buildServer(fakeApi()).inject({ url: '/nope?x=1' });
  assert.equal(r.statusCode, 404);
  assert.match(r.json().error.message, /GET \/nope$/);
});
