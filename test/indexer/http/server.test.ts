import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { buildServer, type ServiceApi } from '../../../src/indexer/http/server.js';
import { routeTable } from '../../../src/indexer/http/route-table.js';
import { instrument } from '../../../src/indexer/http/instrument.js';
import { ErrorCodes, OwletError } from '../../../src/shared/errors.js';
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
  assert.deepEqual(r.json(), { error: { code: 'OWL_ERR_QUERY_INVALID', message: 'unterminated quote at position 0', remedy: ErrorCodes.OWL_ERR_QUERY_INVALID.remedy } });
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

test('a third-party error code never reaches a client: library 4xx keep their status under a catalog code, the rest is OWL_ERR_INTERNAL', async () => {
  const thirdParty = Object.assign(new Error('SQLITE_CORRUPT: database disk image is malformed at /home/u/.owlet/index.db'), { code: 'SQLITE_CORRUPT' });
  const app = buildServer(fakeApi({ status: () => { throw thirdParty; } }), { bodyLimit: 64 });
  const internal = await app.inject({ url: '/api/v1/status' });
  assert.equal(internal.statusCode, 500);
  assert.deepEqual(internal.json(), { error: { code: 'OWL_ERR_INTERNAL', message: 'internal error; see the service log', remedy: ErrorCodes.OWL_ERR_INTERNAL.remedy } });

  // fastify answers these itself with FST_ERR_… codes; the client sees catalog codes instead.
  const tooLarge = await app.inject({ method: 'POST', url: '/api/v1/index/pause', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ pad: 'x'.repeat(200) }) });
  assert.equal(tooLarge.statusCode, 413);
  assert.equal(tooLarge.json().error.code, 'OWL_ERR_HTTP_TOO_LARGE');
  const badJson = await app.inject({ method: 'POST', url: '/api/v1/index/pause', headers: { 'content-type': 'application/json' }, payload: '{nope' });
  assert.equal(badJson.statusCode, 400);
  assert.equal(badJson.json().error.code, 'OWL_ERR_ARG_INVALID');
  const badType = await app.inject({ method: 'POST', url: '/api/v1/index/pause', headers: { 'content-type': 'application/x-nope' }, payload: 'x' });
  assert.equal(badType.statusCode, 415);
  assert.equal(badType.json().error.code, 'OWL_ERR_ARG_INVALID');
  for (const r of [tooLarge, badJson, badType]) assert.doesNotMatch(r.body, /FST_/);
});

test('the route table is the only source of endpoints: every row is served, and only the health probes, /login and the icons are public', async () => {
  const features = {
    api: fakeApi(),
    observability: { enabled: true } as never,
    backups: {} as never,
    auth: { sessions: {} as never, audit: { append: () => {} } },
    preview: () => ({}) as never,
    config: {} as never,
    problems: {} as never,
    // The page's own folder (not dist/, which may or may not be built): its icons are public.
    dashboardDir: fileURLToPath(new URL('../../../src/renderer', import.meta.url)),
  };
  const table = routeTable(features);
  const app = buildServer(features.api, { observability: features.observability, backups: features.backups, preview: features.preview, config: features.config, problems: features.problems, dashboardDir: features.dashboardDir });
  await app.ready();
  for (const r of routeTable({ ...features, auth: undefined })) assert.ok(app.hasRoute({ method: r.method, url: r.url }), `${r.method} ${r.url}`);
  assert.deepEqual(
    table.filter((r) => r.access === 'public').map((r) => `${r.method} ${r.url}`).sort(),
    // The icons: the sign-in page (no session yet) shows them, and browsers fetch /favicon.ico by themselves.
    ['GET /favicon.ico', 'GET /favicon.svg', 'GET /health/live', 'GET /health/ready', 'GET /login'],
  );
  for (const url of ['/api/v1/roots', '/api/v1/settings', '/api/v1/problems']) assert.ok(table.some((r) => r.url === url && r.access === 'authenticated'), `${url} needs a sign-in`);
  assert.equal(new Set(table.map((r) => `${r.method} ${r.url}`)).size, table.length, 'no endpoint is declared twice');
});

test('instrument() times every search and classifies its outcome; without an observer the service is used as is', () => {
  const seen: string[] = [];
  const observer = { enabled: true, observeSearch: (ms: number, outcome: string) => void seen.push(`${outcome}:${ms >= 0}`) };
  let fail: Error | null = null;
  const api = fakeApi({
    search: () => {
      if (fail) throw fail;
      return { total: 0, hits: [] };
    },
  });
  const timed = instrument(api, observer);
  timed.search('a', 1, 0);
  fail = new OwletError('OWL_ERR_QUERY_INVALID', 'bad');
  assert.throws(() => timed.search('"', 1, 0));
  fail = new Error('boom');
  assert.throws(() => timed.search('b', 1, 0));
  assert.deepEqual(seen, ['ok:true', 'invalid:true', 'error:true']);
  assert.equal(instrument(api, undefined), api);
  assert.equal(instrument(api, { ...observer, enabled: false }), api);
});
