import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { buildServer, type ServiceApi } from '../../../src/indexer/http/server.js';
import type { ProblemsApi } from '../../../src/indexer/http/contract.js';
import { ConfigEditor } from '../../../src/indexer/service/config-editor.js';
import { loadConfig, saveConfig } from '../../../src/indexer/config/load.js';
import { defaultConfig, type Config } from '../../../src/indexer/config/schema.js';
import { policyLocks, readPolicy } from '../../../src/indexer/update/policy.js';
import type { AuditEventName, AuditFields } from '../../../src/indexer/audit/types.js';
import type { ProblemFile } from '../../../src/shared/api.js';
import { tmpDir } from '../../helpers/tmp.js';
import { quietApi } from '../../helpers/fake-api.js';

const api: ServiceApi = quietApi();

function setup(o: { policy?: unknown } = {}) {
  const data = tmpDir('owlet-data-');
  const home = tmpDir('owlet-home-');
  for (const d of ['Documents', 'Downloads']) fs.mkdirSync(path.join(home, d));
  const audit: { event: AuditEventName; fields?: AuditFields }[] = [];
  const applied: Config[] = [];
  const policyFile = path.join(tmpDir('owlet-policy-'), 'policy.json');
  if (o.policy !== undefined) fs.writeFileSync(policyFile, JSON.stringify(o.policy));
  const editor = new ConfigEditor({
    dataDir: data,
    home,
    env: {},
    apply: async (c) => void applied.push(c),
    audit: { append: (event, fields) => void audit.push({ event, fields }) },
    locks: () => policyLocks(readPolicy(policyFile)),
  });
  const app = buildServer(api, { config: editor });
  const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, payload: payload as object });
  return { data, home, audit, applied, app, post };
}

test('first run: no folders, and the welcome offers the Documents and Downloads folders that exist (no Desktop here)', async () => {
  const { app, home } = setup();
  const r = await app.inject({ url: '/api/v1/roots' });
  assert.equal(r.statusCode, 200);
  assert.deepEqual(r.json().roots, []);
  assert.deepEqual(r.json().suggestions, [
    { name: 'Documents', path: path.join(home, 'Documents') },
    { name: 'Downloads', path: path.join(home, 'Downloads') },
  ]);
});

test('adding a folder validates it, saves it to config.json, audits it and applies it to the running service', async () => {
  const { app, post, data, home, audit, applied } = setup();
  const docs = path.join(home, 'Documents');
  const r = await post('/api/v1/roots', { path: docs });
  assert.equal(r.statusCode, 201, r.body);
  assert.equal(r.json().added, docs);
  assert.deepEqual(r.json().roots, [docs]);
  assert.deepEqual(r.json().suggestions.map((s: { name: string }) => s.name), ['Downloads'], 'an added folder is no longer suggested');
  assert.deepEqual(loadConfig(data).roots, [docs]);
  assert.deepEqual(applied.at(-1)?.roots, [docs]);
  assert.deepEqual(audit, [{ event: 'root.added', fields: { path: docs, replaced: 0 } }]);
  // The same folder, or one inside it, again: refused with the reason.
  const again = await post('/api/v1/roots', { path: docs + '/' });
  assert.equal(again.statusCode, 400);
  assert.equal(again.json().error.code, 'OWL_ERR_ROOT_REFUSED');
  assert.match(again.json().error.message, /already indexed/);
  fs.mkdirSync(path.join(docs, 'inner'));
  assert.match((await post('/api/v1/roots', { path: path.join(docs, 'inner') })).json().error.message, /already indexed as part of/);
  // The parent replaces the folder it holds.
  const parent = await post('/api/v1/roots', { path: home });
  assert.equal(parent.statusCode, 201, parent.body);
  assert.deepEqual(loadConfig(data).roots, [home]);
  // Removing it stops indexing it.
  const rm = await post('/api/v1/roots/remove', { path: home });
  assert.equal(rm.statusCode, 200);
  assert.deepEqual(loadConfig(data).roots, []);
  assert.equal(audit.at(-1)?.event, 'root.removed');
  assert.equal((await post('/api/v1/roots/remove', { path: home })).statusCode, 404);
  assert.equal((await app.inject({ url: '/api/v1/roots' })).json().roots.length, 0);
});

test('folders outside the user\'s reach are refused with a reason and nothing is saved', async () => {
  const { post, data, audit, home } = setup();
  const file = path.join(home, 'a-file.txt');
  fs.writeFileSync(file, 'x');
  const cases: [unknown, number, string, RegExp][] = [
    [{ path: 'relative/folder' }, 400, 'OWL_ERR_ROOT_REFUSED', /not a full path/],
    [{ path: path.join(home, 'missing') }, 400, 'OWL_ERR_ROOT_MISSING', /does not exist/],
    [{ path: file }, 400, 'OWL_ERR_ROOT_MISSING', /not a folder/],
    [{ path: '/' }, 400, 'OWL_ERR_ROOT_REFUSED', /far more than documents/],
    [{ path: '/etc' }, 400, 'OWL_ERR_ROOT_REFUSED', /system folder/],
    [{ path: '/usr/share' }, 400, 'OWL_ERR_ROOT_REFUSED', /system folder/],
    [{ path: '/proc' }, 400, 'OWL_ERR_ROOT_REFUSED', /system folder/],
    [{ path: data }, 400, 'OWL_ERR_ROOT_REFUSED', /data folder/],
    [{ path: '' }, 400, 'OWL_ERR_ARG_INVALID', /path/],
    [{ path: 'x'.repeat(5000) }, 400, 'OWL_ERR_ARG_INVALID', /4096/],
    [{ folder: home }, 400, 'OWL_ERR_ARG_INVALID', /folder|path/],
  ];
  for (const [body, status, code, re] of cases) {
    const r = await post('/api/v1/roots', body);
    assert.equal(r.statusCode, status, JSON.stringify(body));
    assert.equal(r.json().error.code, code, JSON.stringify(body));
    assert.match(r.json().error.message, re, JSON.stringify(body));
  }
  if (process.getuid?.() !== 0) {
    // Root reads everything: the permission check can only be shown as a normal user.
    const locked = path.join(home, 'locked');
    fs.mkdirSync(locked, { mode: 0o000 });
    assert.match((await post('/api/v1/roots', { path: locked })).json().error.message, /cannot open/);
  } else console.log('running as root: the unreadable-folder case is not observable (root reads every folder)');
  assert.deepEqual(audit, []);
  assert.equal(fs.existsSync(path.join(data, 'config.json')), false, 'nothing was written');
});

test('a folder that holds the data folder is accepted with the data folder excluded', async () => {
  const home = tmpDir('owlet-home-');
  const data = path.join(home, '.local', 'share', 'owlet');
  fs.mkdirSync(data, { recursive: true, mode: 0o700 });
  const audit: AuditEventName[] = [];
  const editor = new ConfigEditor({ dataDir: data, home, apply: async () => {}, audit: { append: (e) => void audit.push(e) } });
  const app = buildServer(api, { config: editor });
  const r = await app.inject({ method: 'POST', url: '/api/v1/roots', payload: { path: home } });
  assert.equal(r.statusCode, 201, r.body);
  assert.equal(r.json().excluded, '.local/share/owlet');
  assert.ok(loadConfig(data).exclude.includes('.local/share/owlet'));
  assert.deepEqual(audit, ['root.added', 'exclusion.added']);
});

test('exclusions are added and removed, saved and audited', async () => {
  const { post, data, audit, applied } = setup();
  const r = await post('/api/v1/exclusions', { pattern: '*.log' });
  assert.equal(r.statusCode, 200, r.body);
  assert.ok(loadConfig(data).exclude.includes('*.log'));
  assert.ok(applied.at(-1)?.exclude.includes('*.log'));
  assert.equal((await post('/api/v1/exclusions', { pattern: '*.log' })).json().error.message, '"*.log" is already excluded');
  assert.equal((await post('/api/v1/exclusions/remove', { pattern: '*.log' })).statusCode, 200);
  assert.ok(!loadConfig(data).exclude.includes('*.log'));
  assert.equal((await post('/api/v1/exclusions/remove', { pattern: '*.log' })).statusCode, 404);
  assert.deepEqual(audit.map((a) => a.event), ['exclusion.added', 'exclusion.removed']);
});

test('settings are validated against the config schema; live ones apply now, the rest say they need a restart', async () => {
  const { app, post, data, audit, applied } = setup();
  const list = (await app.inject({ url: '/api/v1/settings' })).json().settings as { key: string; value: unknown; locked: string | null }[];
  assert.equal(list.find((s) => s.key === 'resilience.cpuShare')?.value, 1);
  assert.equal(list.find((s) => s.key === 'backup.hour')?.value, 3);
  assert.ok(list.every((s) => s.locked === null));
  const r = await post('/api/v1/settings', { changes: { 'resilience.cpuShare': 0.5, 'backup.hour': 4, 'monitoring.alerts.routes.warning': ['banner', 'log'] } });
  assert.equal(r.statusCode, 200, r.body);
  assert.deepEqual(r.json().restartNeeded, ['backup.hour', 'monitoring.alerts.routes.warning']);
  const saved = loadConfig(data);
  assert.equal(saved.resilience.cpuShare, 0.5);
  assert.equal(saved.backup.hour, 4);
  assert.deepEqual(saved.monitoring.alerts.routes.warning, ['banner', 'log']);
  assert.equal(applied.at(-1)?.resilience.cpuShare, 0.5);
  assert.deepEqual(audit.at(-1), { event: 'settings.changed', fields: { keys: 'resilience.cpuShare,backup.hour,monitoring.alerts.routes.warning' } });
  for (const [changes, re] of [
    [{ 'resilience.cpuShare': 2 }, /resilience\.cpuShare/],
    [{ 'backup.hour': 'three' }, /backup\.hour/],
    [{ 'monitoring.alerts.routes.warning': ['pager'] }, /monitoring\.alerts\.routes\.warning/],
    [{ 'server.host': '0.0.0.0' }, /cannot be changed here/],
    [{ 'updates.channel': 'Not A Channel' }, /updates\.channel/],
  ] as const) {
    const bad = await post('/api/v1/settings', { changes });
    assert.equal(bad.statusCode, 400, JSON.stringify(changes));
    assert.equal(bad.json().error.code, 'OWL_ERR_ARG_INVALID');
    assert.match(bad.json().error.message, re);
  }
  assert.equal((await post('/api/v1/settings', { changes: {} })).statusCode, 400);
  assert.equal(loadConfig(data).resilience.cpuShare, 0.5, 'a refused change loses nothing and changes nothing');
});

test('the memory/speed trade-off is a dashboard setting: fewer extraction workers, or one PDF lane, from the next start', async () => {
  const { app, post, data } = setup();
  const list = (await app.inject({ url: '/api/v1/settings' })).json().settings as { key: string; value: unknown; group: string }[];
  assert.deepEqual(
    list.filter((s) => s.key.startsWith('extractors.')).map((s) => [s.key, s.value, s.group]),
    [
      ['extractors.workers', 2, 'Indexing'],
      ['extractors.heavyWorkers', 0, 'Indexing'],
    ],
  );
  const r = await post('/api/v1/settings', { changes: { 'extractors.workers': 1, 'extractors.heavyWorkers': 1 } });
  assert.equal(r.statusCode, 200, r.body);
  assert.deepEqual(r.json().restartNeeded, ['extractors.workers', 'extractors.heavyWorkers']);
  assert.deepEqual([loadConfig(data).extractors.workers, loadConfig(data).extractors.heavyWorkers], [1, 1]);
  const bad = await post('/api/v1/settings', { changes: { 'extractors.workers': 0 } });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.json().error.message, /extractors\.workers/);
  assert.equal(loadConfig(data).extractors.workers, 1, 'a refused change loses nothing');
});

test('a setting fixed by the machine policy is shown locked with the reason and cannot be changed', async () => {
  const { app, post, data } = setup({ policy: { channel: 'stable', autoApply: false } });
  saveConfig(data, defaultConfig());
  const list = (await app.inject({ url: '/api/v1/settings' })).json().settings as { key: string; locked: string | null }[];
  assert.match(list.find((s) => s.key === 'updates.channel')?.locked ?? '', /machine policy \(.*policy\.json\)/);
  assert.match(list.find((s) => s.key === 'updates.autoApply')?.locked ?? '', /machine policy/);
  assert.equal(list.find((s) => s.key === 'updates.checkHours')?.locked, null);
  const r = await post('/api/v1/settings', { changes: { 'updates.channel': 'beta' } });
  assert.equal(r.statusCode, 403);
  assert.equal(r.json().error.code, 'OWL_ERR_SETTING_LOCKED');
  assert.match(r.json().error.message, /updates\.channel is fixed by the machine policy/);
  assert.equal(loadConfig(data).updates.channel, 'latest');
  // A policy that disables updates locks every update setting; an unreadable one fails closed.
  assert.equal(policyLocks({ file: '/p.json', status: 'ok', policy: { updatesDisabled: true } })['updates.checkHours'], 'the machine policy (/p.json)');
  assert.match(policyLocks({ file: '/p.json', status: 'invalid', policy: { updatesDisabled: true }, error: 'bad' })['updates.channel'] ?? '', /unusable/);
});

test('problems are grouped by reason with what each means and what to do; retry tries files again', async () => {
  const files: ProblemFile[] = [
    { path: '/r/a.pdf', status: 'failed', reason: 'parse-error', message: 'bad xref', size: 1, mtime: '2026-01-01T00:00:00.000Z' },
    { path: '/r/b.bin', status: 'skipped', reason: 'binary', message: 'binary', size: 1, mtime: '2026-01-01T00:00:00.000Z' },
  ];
  const retried: string[][] = [];
  const problems: ProblemsApi = {
    problemGroups: () => [{ status: 'failed', reason: 'parse-error', count: 1 }, { status: 'skipped', reason: 'binary', count: 1 }],
    problemsWithReason: (reason) => files.filter((f) => f.reason === reason),
    problems: () => files,
    retry: (paths) => {
      retried.push([...paths]);
      return paths.filter((p) => !files.some((f) => f.path === p));
    },
  };
  const app = buildServer(api, { problems });
  const r = (await app.inject({ url: '/api/v1/problems?reason=parse-error' })).json();
  assert.deepEqual(r.groups[0], { status: 'failed', reason: 'parse-error', count: 1, meaning: 'damaged, or uses features the extractor cannot read', remedy: 'Open and re-save the file in its application, or try again after an update.' });
  assert.deepEqual(r.files.map((f: ProblemFile) => f.path), ['/r/a.pdf']);
  assert.equal((await app.inject({ url: '/api/v1/problems?reason=NOT%20A%20REASON' })).statusCode, 400);
  const ok = await app.inject({ method: 'POST', url: '/api/v1/problems/retry', payload: { paths: ['/r/a.pdf', '/r/nope'] } });
  assert.equal(ok.statusCode, 202);
  assert.deepEqual(ok.json(), { retrying: 1, unknown: ['/r/nope'] });
  const none = await app.inject({ method: 'POST', url: '/api/v1/problems/retry', payload: { paths: ['/r/nope'] } });
  assert.equal(none.statusCode, 404);
  assert.equal((await app.inject({ method: 'POST', url: '/api/v1/problems/retry', payload: { paths: [] } })).statusCode, 400);
  assert.deepEqual(retried, [['/r/a.pdf', '/r/nope'], ['/r/nope']]);
});
