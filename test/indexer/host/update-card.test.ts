// The dashboard's Updates card in a browser (#13, #12): GET /api/v1/update says what runs, what is
// available, what is under way, the kept previous version and the history (from the audit trail);
// from a source checkout, without a supervisor, or with updates disabled by policy it says why
// they are off, and the actions are refused with that reason. Apply and rollback are handed to
// `owlet run`'s supervisor over its real control socket (a stand-in server on that socket here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { serviceUpdateCard } from '../../../src/indexer/host/update-card.js';
import { buildServer } from '../../../src/indexer/http/server.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';
import { controlSocketPath } from '../../../src/indexer/update/control.js';
import { effectiveSettings, type PolicyInForce } from '../../../src/indexer/update/policy.js';
import { DEFAULT_UPDATE_CONFIG } from '../../../src/indexer/config/update-settings.js';
import { writeState } from '../../../src/indexer/update/state.js';
import { VERSION } from '../../../src/indexer/version.js';
import type { UpdateCardView } from '../../../src/shared/api.js';
import { quietApi } from '../../helpers/fake-api.js';
import { tmpDir, waitFor } from '../../helpers/tmp.js';

const noPolicy: PolicyInForce = { file: '/etc/owlet/policy.json', status: 'absent', policy: {} };
const withFeed = (p: PolicyInForce = noPolicy) => () => effectiveSettings({ ...DEFAULT_UPDATE_CONFIG, feedUrl: 'https://updates.example/owlet' }, p);

/** PREFIX/versions/<v>/bin/owlet.js for each version; returns the bin file of `running`. */
function installation(prefix: string, versions: string[], running: string): string {
  for (const v of versions) {
    fs.mkdirSync(path.join(prefix, 'versions', v, 'bin'), { recursive: true });
    fs.writeFileSync(path.join(prefix, 'versions', v, 'bin', 'owlet.js'), '');
  }
  return path.join(prefix, 'versions', running, 'bin', 'owlet.js');
}

function auditLines(dataDir: string, entries: { ts: string; event: string; fields: Record<string, unknown> }[]): void {
  fs.mkdirSync(path.join(dataDir, 'audit'), { recursive: true });
  const text = entries.map((e, i) => JSON.stringify({ seq: i + 1, ...e, prev: '', mac: '' })).join('\n') + '\n{"seq":99,"ts":"2026-12-03T00:00:00Z","event":"update.ins';
  fs.writeFileSync(path.join(dataDir, 'audit', 'audit-000001.jsonl'), text);
}

async function call(app: ReturnType<typeof buildServer>, method: 'GET' | 'POST', url: string) {
  const r = await app.inject({ method, url });
  return { status: r.statusCode, body: r.json() as UpdateCardView & { error?: { code: string; message: string }; started?: string; version?: string } };
}

test('from a source checkout the card says updates are off and why, and every action is refused with that reason', async () => {
  const dataDir = tmpDir('owlet-card-');
  const app = buildServer(quietApi(), { updateCard: serviceUpdateCard({ dataDir, binFile: path.resolve('bin/owlet.js'), settings: withFeed(), log: nullLogger }) });
  const v = (await call(app, 'GET', '/api/v1/update')).body;
  assert.equal(v.running, VERSION);
  assert.equal(v.off?.kind, 'not-installed');
  assert.ok(v.off!.message.startsWith(`This Owlet runs from ${path.resolve('.')}, not from an installation`), v.off!.message);
  assert.match(v.off!.message, /cannot replace itself\. Install a release to get updates\.$/);
  for (const a of ['check', 'apply', 'rollback']) {
    const r = await call(app, 'POST', `/api/v1/update/${a}`);
    assert.equal(r.status, 409, a);
    assert.equal(r.body.error?.code, 'OWL_ERR_UPDATE_REFUSED');
    assert.match(r.body.error!.message, /not from an installation/);
  }
  await app.close();
});

test('an installed service: running, available, the kept previous version and the history newest first; without a supervisor the actions are off', async () => {
  const dataDir = tmpDir('owlet-card-');
  const prefix = tmpDir('owlet-prefix-');
  const bin = installation(prefix, ['1.0.0', '1.1.0'], '1.1.0');
  writeState(prefix, {
    version: 1,
    highestInstalled: '1.1.0',
    bad: [{ version: '1.0.5', at: '2026-11-20T10:00:00.000Z', reason: '1.0.5 crashed within its first 300 s (exit, code 1)' }],
    stagingId: 'x',
    pending: null,
    lastCheck: { at: '2026-12-02T09:00:00.000Z', result: 'available 1.2.0' },
    lastResult: null,
  });
  auditLines(dataDir, [
    { ts: '2026-11-20T10:05:00.000Z', event: 'update.rolled-back', fields: { from: '1.0.0', to: '1.0.5', reason: 'crashed' } },
    { ts: '2026-11-21T08:00:00.000Z', event: 'update.started', fields: { from: '1.0.0', to: '1.1.0' } },
    { ts: '2026-11-21T08:01:00.000Z', event: 'update.installed', fields: { from: '1.0.0', to: '1.1.0', downtimeMs: 900 } },
    { ts: '2026-12-01T07:00:00.000Z', event: 'update.refused', fields: { from: '1.1.0', to: null, reason: 'expired', message: 'the manifest expired on 2026-11-30' } },
  ]);
  const app = buildServer(quietApi(), { updateCard: serviceUpdateCard({ dataDir, binFile: bin, settings: withFeed(), log: nullLogger, platform: 'linux' }) });
  const v = (await call(app, 'GET', '/api/v1/update')).body;
  assert.deepEqual([v.host, v.running, v.available, v.previous, v.channel], ['service', '1.1.0', '1.2.0', '1.0.0', 'latest']);
  assert.deepEqual(
    v.history.map((h) => [h.outcome, h.from, h.to, h.reason]),
    [
      ['refused', '1.1.0', null, 'expired'],
      ['installed', '1.0.0', '1.1.0', null],
      ['rolled-back', '1.0.0', '1.0.5', 'crashed'],
    ],
    'update.started is a step, not history; a line being written is skipped',
  );
  assert.equal(v.history[0]!.message, 'the manifest expired on 2026-11-30');
  assert.deepEqual(v.bad.map((b) => b.version), ['1.0.5']);
  assert.equal(v.off?.kind, 'no-supervisor', 'owlet serve alone cannot swap itself');
  assert.equal((await call(app, 'POST', '/api/v1/update/apply')).status, 409);

  // Policy: locked, with the policy's file as the reason.
  const locked = buildServer(quietApi(), { updateCard: serviceUpdateCard({ dataDir, binFile: bin, settings: withFeed({ file: '/etc/owlet/policy.json', status: 'ok', policy: { updatesDisabled: true } }), log: nullLogger }) });
  const lv = (await call(locked, 'GET', '/api/v1/update')).body;
  assert.deepEqual(lv.off, { kind: 'policy', message: 'Updates are turned off by the machine policy: /etc/owlet/policy.json.' });
  const refused = await call(locked, 'POST', '/api/v1/update/check');
  assert.equal(refused.status, 409);
  assert.match(refused.body.error!.message, /machine policy/);
  await Promise.all([app.close(), locked.close()]);
});

test('with the supervisor on its control socket: check answers the new view; apply and rollback are handed over (202) and followed through the pending phase', { skip: process.platform === 'win32' ? 'the control channel is a named pipe on Windows; the socket stand-in is POSIX only' : false }, async () => {
  const dataDir = tmpDir('owlet-card-');
  const prefix = tmpDir('owlet-prefix-');
  const bin = installation(prefix, ['1.0.0', '1.1.0'], '1.1.0');
  const asked: string[] = [];
  const supervisor = http.createServer((req, res) => {
    asked.push(`${req.method} ${req.url}`);
    if (req.url === '/check') writeState(prefix, { version: 1, highestInstalled: '1.1.0', bad: [], stagingId: 'x', pending: null, lastCheck: { at: new Date().toISOString(), result: 'available 1.2.0' }, lastResult: null });
    if (req.url === '/apply') writeState(prefix, { version: 1, highestInstalled: '1.1.0', bad: [], stagingId: 'x', pending: { version: '1.2.0', previous: '1.1.0', phase: 'downloading', startedAt: new Date().toISOString(), backupId: null, schemaChanged: false }, lastCheck: { at: new Date().toISOString(), result: 'available 1.2.0' }, lastResult: null });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ outcome: 'installed' }));
  });
  await new Promise<void>((r) => supervisor.listen(controlSocketPath(dataDir), r));
  const app = buildServer(quietApi(), { updateCard: serviceUpdateCard({ dataDir, binFile: bin, settings: withFeed(), log: nullLogger }) });
  try {
    let v = (await call(app, 'GET', '/api/v1/update')).body;
    assert.deepEqual([v.off, v.available, v.lastCheck], [null, null, null]);
    const checked = await call(app, 'POST', '/api/v1/update/check');
    assert.equal(checked.status, 200);
    assert.equal(checked.body.available, '1.2.0');

    const roll = await call(app, 'POST', '/api/v1/update/rollback');
    assert.deepEqual([roll.status, roll.body.started, roll.body.version], [202, 'rollback', '1.0.0']);
    const apply = await call(app, 'POST', '/api/v1/update/apply');
    assert.deepEqual([apply.status, apply.body.started, apply.body.version], [202, 'apply', '1.2.0']);
    await waitFor(() => asked.includes('POST /apply') && asked.includes('POST /rollback'), 5000, 'the supervisor asked');
    v = (await call(app, 'GET', '/api/v1/update')).body;
    assert.deepEqual(v.progress, { version: '1.2.0', phase: 'downloading', percent: null });
    const again = await call(app, 'POST', '/api/v1/update/apply');
    assert.equal(again.status, 409, 'one update at a time');
    assert.match(again.body.error!.message, /already under way \(downloading\)/);
  } finally {
    await app.close();
    await new Promise<void>((r) => supervisor.close(() => r()));
  }
});
