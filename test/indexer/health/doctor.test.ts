import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { OwletService } from '../../../src/indexer/service/service.js';
import { serviceAuditLog } from '../../../src/indexer/audit/service-audit.js';
import { saveConfig } from '../../../src/indexer/config/load.js';
import { defaultConfig } from '../../../src/indexer/config/schema.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';
import { openIndex } from '../../../src/indexer/service/context.js';
import { runDoctor, updatesFinding, type DoctorReport } from '../../../src/indexer/health/doctor.js';
import { formatDoctor } from '../../../src/indexer/cli/commands/doctor.js';
import { openMetricsDb, readIntegrity } from '../../../src/indexer/store/metrics-db.js';
import { closeDatabase } from '../../../src/indexer/store/db.js';
import { parseQuery } from '../../../src/indexer/search/query.js';
import { runOwlet } from '../../helpers/cli.js';
import { tmpDir, writeTree } from '../../helpers/tmp.js';

const space = async () => ({ free: 50 * 1024 ** 3, total: 100 * 1024 ** 3 });

/** An indexed data directory (real worker processes, real encrypted index). */
async function indexed(files: Record<string, string> = { 'a.txt': 'alpha one', 'b.md': '# Beta\nalpha two', 'c.txt': 'gamma three' }) {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  fs.chmodSync(data, 0o700);
  writeTree(root, files);
  saveConfig(data, { ...defaultConfig(), roots: [root] });
  // As `owlet index` leaves it: the audit trail (and its private folder) included.
  const svc = new OwletService({ dataDir: data, log: nullLogger, watch: false, openAudit: serviceAuditLog });
  try {
    await svc.indexOnce();
  } finally {
    await svc.stop();
  }
  return { root, data };
}

function withIndex<T>(data: string, fn: (ctx: ReturnType<typeof openIndex>) => T): T {
  const ctx = openIndex(data);
  try {
    return fn(ctx);
  } finally {
    ctx.close();
  }
}

const find = (r: DoctorReport, id: string) => r.checks.find((c) => c.id === id);

test('a healthy install: every check ok, nothing to fix, the integrity verdict is recorded for the service', async () => {
  const { data, root } = await indexed();
  const r = await runDoctor(data, { fix: false }, { space });
  assert.equal(r.status, 'ok', formatDoctor(r).join('\n'));
  for (const id of ['datadir', 'config', 'service', 'database', 'integrity', 'fts', `root:${root}`, 'disk', 'backup']) assert.equal(find(r, id)?.status, 'ok', id);
  assert.equal(r.fixed.length, 0);
  assert.match(formatDoctor(r)[0]!, /Owlet doctor: ok/);
  const key = withIndex(data, (c) => c.key);
  const mdb = openMetricsDb(data, key);
  try {
    assert.equal(readIntegrity(mdb)?.by, 'doctor');
    assert.equal(readIntegrity(mdb)?.ok, true);
  } finally {
    closeDatabase(mdb);
  }
});

test('doctor --fix (the real CLI) rebuilds a damaged full-text index and search works again', async () => {
  const { data } = await indexed();
  withIndex(data, (ctx) => {
    ctx.db.unsafeMode(true);
    ctx.db.prepare('UPDATE docs_fts_data SET block = randomblob(length(block)) WHERE id > 10').run();
    ctx.db.unsafeMode(false);
  });
  const broken = await runOwlet(['search', 'alpha', '--json', '--data-dir', data]);
  assert.notEqual(broken.code, 0, 'searching the damaged index fails');

  const check = await runOwlet(['doctor', '--json', '--data-dir', data]);
  assert.equal(check.code, 1, check.stderr);
  const before = JSON.parse(check.stdout) as DoctorReport;
  assert.equal(before.status, 'failed');
  assert.match(find(before, 'integrity')!.message, /full-text index is damaged/);
  assert.match(find(before, 'integrity')!.fix!, /rebuild/);

  const fixed = await runOwlet(['doctor', '--fix', '--data-dir', data]);
  console.log(fixed.stdout);
  assert.equal(fixed.code, 0, fixed.stdout + fixed.stderr);
  assert.match(fixed.stdout, /done {2}rebuild the full-text index from the stored text: rebuilt the full-text index from the stored text \(3 documents\)/);
  assert.match(fixed.stdout, /Owlet doctor: ok/);
  const search = await runOwlet(['search', 'alpha', '--json', '--data-dir', data]);
  assert.equal(search.code, 0, search.stderr);
  assert.equal(JSON.parse(search.stdout).total, 2);
  const title = await runOwlet(['search', 'beta', '--json', '--data-dir', data]);
  assert.equal(JSON.parse(title.stdout).total, 1, 'titles are back in the title column');
});

test('documents missing from the full-text index are found and restored by the rebuild', async () => {
  const { data } = await indexed();
  withIndex(data, (ctx) => ctx.db.prepare('DELETE FROM docs_fts WHERE rowid IN (SELECT id FROM documents WHERE path LIKE ?)').run('%a.txt'));
  const r = await runDoctor(data, { fix: false }, { space });
  assert.equal(find(r, 'fts')?.status, 'failed');
  assert.match(find(r, 'fts')!.message, /1 indexed document\(s\) are missing/);
  const f = await runDoctor(data, { fix: true }, { space });
  assert.equal(f.fixed.length, 1);
  assert.ok(f.fixed[0]!.ok);
  assert.equal(find(f, 'fts')?.status, 'ok');
  assert.equal(withIndex(data, (ctx) => (ctx.db.prepare(`SELECT count(*) AS n FROM docs_fts WHERE docs_fts MATCH 'alpha'`).get() as { n: number }).n), 2);
});

test('a stale service.json from a crashed service is removed, a live one never', async () => {
  const { data } = await indexed();
  const file = path.join(data, 'service.json');
  // A pid that cannot be alive: larger than any pid_max.
  fs.writeFileSync(file, JSON.stringify({ url: 'http://127.0.0.1:9', pid: 2 ** 22 + 17, port: 9, version: '0', startedAt: new Date().toISOString() }));
  const r = await runDoctor(data, { fix: false }, { space });
  assert.equal(find(r, 'service')?.status, 'degraded');
  assert.match(find(r, 'service')!.message, /left over from a service that died/);
  const f = await runDoctor(data, { fix: true }, { space });
  assert.equal(fs.existsSync(file), false);
  assert.equal(find(f, 'service')?.status, 'ok');
  assert.match(f.fixed[0]!.message, /removed service\.json/);
});

test('a data directory open to other users is restricted to its owner (#11.15: every folder in it, not just the top)', async () => {
  const { data } = await indexed();
  fs.chmodSync(data, 0o755);
  fs.mkdirSync(path.join(data, 'logs'), { recursive: true });
  fs.chmodSync(path.join(data, 'logs'), 0o777);
  fs.mkdirSync(path.join(data, 'audit', 'deeper'), { recursive: true });
  fs.chmodSync(path.join(data, 'audit', 'deeper'), 0o750);
  const r = await runDoctor(data, { fix: false }, { space });
  assert.equal(find(r, 'datadir')?.status, 'failed', 'the service refuses such a folder, so doctor says failed');
  assert.match(find(r, 'datadir')!.remedy!, /chmod 700/);
  assert.equal(find(r, 'datadir:logs')?.status, 'failed');
  assert.match(find(r, 'datadir:logs')!.message, /mode 777/);
  assert.equal(find(r, `datadir:${path.join('audit', 'deeper')}`)?.status, 'failed');
  const f = await runDoctor(data, { fix: true }, { space });
  for (const d of [data, path.join(data, 'logs'), path.join(data, 'audit', 'deeper')]) assert.equal(fs.statSync(d).mode & 0o777, 0o700, d);
  assert.equal(find(f, 'datadir')?.status, 'ok');
  assert.equal(find(f, 'datadir:logs'), undefined);
});

test('a root marked offline but reachable again is rescanned: its new files become searchable', async () => {
  const { data, root } = await indexed();
  withIndex(data, (ctx) => ctx.db.prepare(`UPDATE roots SET state = 'offline'`).run());
  writeTree(root, { 'd.txt': 'delta while away' });
  const r = await runDoctor(data, { fix: false }, { space });
  assert.equal(find(r, `root:${root}`)?.status, 'degraded');
  assert.match(find(r, `root:${root}`)!.message, /marked offline, but it is reachable/);
  const f = await runDoctor(data, { fix: true }, { space });
  assert.deepEqual(f.fixed.map((x) => [x.ok, x.message]), [[true, 'rescanned 1 folder(s)']]);
  assert.equal(find(f, `root:${root}`)?.status, 'ok');
  assert.equal(withIndex(data, (ctx) => ctx.search.search(parseQuery('delta'), { limit: 5, offset: 0 }).total), 1);
});

test('an invalid configuration is a failed finding naming the key; an unreadable metrics.db is moved aside', async () => {
  const { data } = await indexed();
  fs.writeFileSync(path.join(data, 'config.json'), JSON.stringify({ monitoring: { alerts: { rules: [{ id: 'x', metric: 'no_such_signal', op: '>', threshold: 1, summary: 's' }] } } }));
  fs.writeFileSync(path.join(data, 'metrics.db'), 'this is not a database at all, just text that is long enough to have a header');
  const r = await runDoctor(data, { fix: false }, { space });
  assert.equal(r.status, 'failed');
  assert.match(find(r, 'config')!.message, /monitoring\.alerts\.rules\.0\.metric/);
  assert.equal(find(r, 'metrics')?.status, 'degraded');
  const f = await runDoctor(data, { fix: true }, { space });
  assert.ok(f.fixed.some((x) => /moved metrics\.db to metrics\.db\.broken-/.test(x.message)));
  assert.ok(fs.readdirSync(data).some((n) => n.startsWith('metrics.db.broken-')));
  assert.equal(f.status, 'failed', 'configuration is never rewritten automatically');
  const cli = await runOwlet(['doctor', '--data-dir', data]);
  assert.equal(cli.code, 1);
  assert.match(cli.stdout, /FAILED +Configuration: invalid configuration/);
  assert.match(cli.stdout, /Index database: not checked: the configuration must be valid first/);
});

test('no data directory at all: one failed finding that says how to start', async () => {
  const r = await runDoctor(path.join(tmpDir(), 'nothing-here'), { fix: true }, { space });
  assert.equal(r.status, 'failed');
  assert.equal(r.checks.length, 1);
  assert.match(r.checks[0]!.remedy!, /owlet index --root/);
});

test('the doctor reports the update policy in force: none, one that turns updates off, one that pins, and an unusable one', async () => {
  const dir = tmpDir('owlet-policy-');
  const file = path.join(dir, 'policy.json');
  const config = { ...defaultConfig(), updates: { ...defaultConfig().updates, feedUrl: 'https://updates.example.org/owlet' } };
  let f = updatesFinding(config, file);
  assert.equal(f.status, 'ok');
  assert.match(f.message, new RegExp(`no machine policy \\(${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\); channel latest from https://updates.example.org/owlet, installed automatically`));
  fs.writeFileSync(file, JSON.stringify({ updatesDisabled: true }));
  f = updatesFinding(config, file);
  assert.match(f.message, /sets updatesDisabled; updates off: policy /);
  fs.writeFileSync(file, JSON.stringify({ pinnedVersion: '1.4.x', channel: 'beta', autoApply: false }));
  f = updatesFinding(config, file);
  assert.match(f.message, /sets pinnedVersion, channel, autoApply; channel beta from https:\/\/updates\.example\.org\/owlet, installed on request, pinned to 1\.4\.x/);
  fs.writeFileSync(file, '{"updatesDisabled": tru');
  f = updatesFinding(config, file);
  assert.equal(f.status, 'degraded');
  assert.match(f.message, /unusable, so updates are off/);
  assert.ok(f.remedy);
  assert.match(updatesFinding({ ...config, updates: defaultConfig().updates }, path.join(dir, 'absent.json')).message, /updates off: no feed configured/);

  // In the report: every finding names its runbook, and the human form prints it under a problem.
  const { data } = await indexed();
  const r = await runDoctor(data, { fix: false }, { space, policyFile: file });
  assert.equal(find(r, 'updates')?.status, 'degraded');
  for (const c of r.checks) assert.equal(c.runbook, `docs/operations/runbooks/doctor/${c.id.split(':')[0]}.md`, c.id);
  assert.ok(formatDoctor(r).some((l) => l.includes('runbook: docs/operations/runbooks/doctor/updates.md')));
});
