// The dashboard's fetch helper (src/renderer/api.ts) and the read-only standby: an answer
// 503 OWL_ERR_STANDBY means nothing was done and a new connection may reach the primary, so the
// helper retries it; every other error is the caller's, at once. fetch is replaced by a script of
// answers (the real standby and its 503 are tested in test/indexer/host/standby.test.ts).
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, ApiError, STANDBY_RETRY_DELAYS_MS } from '../../src/renderer/api.js';

const realFetch = globalThis.fetch;
afterEach(() => {
  globalThis.fetch = realFetch;
});

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const standby = () => json(503, { error: { code: 'OWL_ERR_STANDBY', message: 'reached the standby', remedy: 'retry' } });

function script(answers: (() => Response)[]): { calls: number } {
  const seen = { calls: 0 };
  globalThis.fetch = (async () => {
    const next = answers[Math.min(seen.calls, answers.length - 1)]!;
    seen.calls++;
    return next();
  }) as typeof fetch;
  return seen;
}

test('503 OWL_ERR_STANDBY is retried until the primary answers', async () => {
  const seen = script([standby, standby, () => json(200, { total: 1 })]);
  assert.deepEqual(await api<{ total: number }>('/api/v1/status'), { total: 1 });
  assert.equal(seen.calls, 3);
});

test('other 503s are not retried: the caller shows them', async () => {
  const seen = script([() => json(503, { error: { code: 'OWL_ERR_NOT_READY', message: 'the index is being recovered' } })]);
  await assert.rejects(api('/api/v1/status'), (e: unknown) => e instanceof ApiError && e.code === 'OWL_ERR_NOT_READY' && e.status === 503);
  assert.equal(seen.calls, 1);
});

test('the retries are bounded: a standby that keeps answering is reported as its error', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const seen = script([standby]);
  const p = api('/api/v1/status');
  const settled = p.then(
    () => 'resolved',
    (e: unknown) => e,
  );
  for (let i = 0; i < STANDBY_RETRY_DELAYS_MS.length + 2; i++) {
    await new Promise((r) => setImmediate(r));
    t.mock.timers.tick(10_000);
  }
  const e = await settled;
  assert.ok(e instanceof ApiError && e.code === 'OWL_ERR_STANDBY', String(e));
  assert.equal(seen.calls, STANDBY_RETRY_DELAYS_MS.length + 1);
});
