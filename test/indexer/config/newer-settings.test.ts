import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, loadConfigFile, parseConfigFile, saveConfig } from '../../../src/indexer/config/load.js';
import { loadOrRepairConfig } from '../../../src/indexer/config/repair.js';
import { ConfigSchema, defaultConfig } from '../../../src/indexer/config/schema.js';
import { z } from 'zod';
import { VERSION } from '../../../src/indexer/version.js';
import { isOwletError } from '../../../src/shared/errors.js';
import { runOwlet, startOwlet, waitExit } from '../../helpers/cli.js';
import { tmpDir } from '../../helpers/tmp.js';

/**
 * A rollback hazard: `owlet index` and `owlet serve` write the whole config.json, so a file a newer
 * Owlet wrote holds settings an older one does not know. The older one must load it, use what it
 * knows, and keep the rest; a typo in a file it wrote itself must still be refused by name.
 */

const invalid = (re: RegExp) => (e: unknown) => isOwletError(e) && e.code === 'OWL_ERR_CONFIG_INVALID' && re.test(e.message);

/** What a later release might write: its own settings beside ours, at the top and nested. */
function fromNewer(extra: Record<string, unknown> = {}) {
  return {
    version: 1,
    writtenBy: '99.0.0',
    roots: ['/r'],
    maxFileSizeMb: 10,
    cloudSync: { enabled: true, provider: 'x' },
    backup: { hour: 5, cloud: 'eu-1' },
    monitoring: { alerts: { rules: [{ id: 'own', metric: 'queue_depth', op: '>', threshold: 9, summary: 's', labels: ['ops'] }] } },
    ...extra,
  };
}

function writeJson(dir: string, v: unknown): void {
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(v, null, 2), { mode: 0o600 });
}

function readJson(dir: string): Record<string, any> {
  return JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
}

/** Paths of the objects in a zod schema that do not refuse unknown keys (zod 4 internals: a strict object's catchall is never). */
function lenientObjects(schema: z.ZodType): string[] {
  const out: string[] = [];
  const walk = (s: unknown, p: string): void => {
    const def = (s as { _zod?: { def?: Record<string, any> } })?._zod?.def;
    if (!def) return;
    if (def.type === 'object') {
      if (def.catchall?._zod?.def?.type !== 'never') out.push(p || '(top level)');
      for (const [k, v] of Object.entries(def.shape as Record<string, unknown>)) walk(v, p ? `${p}.${k}` : k);
      return;
    }
    for (const k of ['innerType', 'element', 'in', 'out']) if (def[k]) walk(def[k], k === 'element' ? `${p}[]` : p);
    for (const o of def.options ?? []) walk(o, p);
  };
  walk(schema, '');
  return out;
}

test('every object in the schema refuses unknown keys, so none is ever dropped silently: a typo is refused, a newer Owlet\'s key kept', () => {
  assert.deepEqual(lenientObjects(z.object({ a: z.object({ b: z.number() }).default({ b: 1 }), c: z.array(z.object({}).strict()) }).strict()), ['a'], 'the walk sees a lenient object inside a default');
  assert.deepEqual(lenientObjects(ConfigSchema), []);
});

test('a config.json written by a newer Owlet loads: the settings this build knows are used, the others are named and set aside', () => {
  const { config, newer } = parseConfigFile(fromNewer(), 'cfg.json', '1.0.0');
  assert.equal(config.maxFileSizeMb, 10);
  assert.equal(config.backup.hour, 5);
  assert.deepEqual(config.roots, ['/r']);
  assert.equal(config.monitoring.alerts.rules[0]!.threshold, 9);
  assert.equal(newer?.writtenBy, '99.0.0');
  assert.deepEqual(
    newer?.keys.map((k) => k.path.join('.')).sort(),
    ['backup.cloud', 'cloudSync', 'monitoring.alerts.rules.0.labels'],
  );
  assert.deepEqual(newer?.keys.find((k) => k.path[0] === 'cloudSync')?.value, { enabled: true, provider: 'x' });
});

test('saved by the older build, the newer settings stay in the file untouched, still marked as the newer version\'s', () => {
  const dir = tmpDir();
  writeJson(dir, fromNewer());
  const c = loadConfig(dir, '1.0.0');
  saveConfig(dir, { ...c, roots: [...c.roots, '/s'] }, '1.0.0');
  const onDisk = readJson(dir);
  assert.deepEqual(onDisk.roots, ['/r', '/s'], 'the older build\'s own change is written');
  assert.equal(onDisk.writtenBy, '99.0.0', 'the file still says a newer Owlet set keys in it');
  assert.deepEqual(onDisk.cloudSync, { enabled: true, provider: 'x' });
  assert.equal(onDisk.backup.cloud, 'eu-1');
  assert.equal(onDisk.backup.hour, 5);
  assert.deepEqual(onDisk.monitoring.alerts.rules[0].labels, ['ops']);
  // …and it loads again the same way (a second write changes nothing it does not own).
  saveConfig(dir, loadConfig(dir, '1.0.0'), '1.0.0');
  assert.deepEqual(readJson(dir), onDisk);
  assert.equal(loadOrRepairConfig(dir).restored, null, 'never moved aside as damaged');
});

test('keys a newer Owlet set on alert rules stay on the same rules after this build reorders them, and leave with a rule it removes', () => {
  const dir = tmpDir();
  const rule = (id: string, labels: string[]) => ({ id, metric: 'queue_depth', op: '>', threshold: 9, summary: id, labels });
  writeJson(dir, fromNewer({ monitoring: { alerts: { rules: [rule('a', ['for-a']), rule('b', ['for-b']), rule('c', ['for-c'])] } } }));
  const c = loadConfig(dir, '1.0.0');
  const [a, , rc] = c.monitoring.alerts.rules;
  // The dashboard of the older build: rule c moved to the top, rule b deleted.
  saveConfig(dir, { ...c, monitoring: { ...c.monitoring, alerts: { ...c.monitoring.alerts, rules: [rc!, a!] } } }, '1.0.0');
  const rules = readJson(dir).monitoring.alerts.rules as { id: string; labels?: string[] }[];
  assert.deepEqual(rules.map((r) => [r.id, r.labels]), [['c', ['for-c']], ['a', ['for-a']]]);
  assert.equal(readJson(dir).writtenBy, '99.0.0');
  // A rule with no newer key left and nothing else from the newer version: the file is this build's again.
  writeJson(dir, { writtenBy: '99.0.0', monitoring: { alerts: { rules: [rule('b', ['for-b'])] } } });
  saveConfig(dir, { ...c, monitoring: { ...c.monitoring, alerts: { ...c.monitoring.alerts, rules: [] } } }, '1.0.0');
  assert.deepEqual(readJson(dir).monitoring.alerts.rules, []);
  assert.equal(readJson(dir).writtenBy, '1.0.0', 'no key of the newer version is left in the file');
});

test('a hand-edited typo is still refused with the key named, in a file this build or an older one wrote', () => {
  const dir = tmpDir();
  saveConfig(dir, { ...defaultConfig(), roots: ['/r'] });
  assert.equal(readJson(dir).writtenBy, VERSION, 'the writer records its version');
  const edited = { ...readJson(dir), maxFileSizeMB: 5 };
  writeJson(dir, edited);
  assert.throws(() => loadConfig(dir), invalid(/maxFileSizeMB/));
  assert.throws(() => parseConfigFile({ ...edited, writtenBy: '0.0.1' }, 'cfg.json', '1.0.0'), invalid(/maxFileSizeMB/));
  assert.throws(() => parseConfigFile({ backup: { houre: 3 } }, 'cfg.json', '1.0.0'), invalid(/backup.*houre/), 'no writtenBy: strict');
  assert.throws(() => parseConfigFile({ writtenBy: '1.0.0', backup: { houre: 3 } }, 'cfg.json', '1.0.0'), invalid(/backup.*houre/), 'written by this very version: strict');
});

test('a value a newer Owlet wrote that this build rejects is named, and that setting runs on the last good value or the default; a writtenBy that is not a version is refused', () => {
  const { config, newer } = parseConfigFile(fromNewer({ maxFileSizeMb: -1, exclude: 'now a string' }), 'cfg.json', '1.0.0');
  assert.equal(config.maxFileSizeMb, defaultConfig().maxFileSizeMb);
  assert.deepEqual(config.exclude, defaultConfig().exclude);
  assert.equal(config.backup.hour, 5, 'the rest of the file is used');
  assert.deepEqual(newer?.unreadable.map((u) => [u.key, u.using]).sort(), [['exclude', 'defaults'], ['maxFileSizeMb', 'defaults']]);
  assert.match(newer!.unreadable.find((u) => u.key === 'maxFileSizeMb')!.reason, /^maxFileSizeMb: /);
  const lastGood = { ...defaultConfig(), maxFileSizeMb: 3, exclude: ['*.iso'] };
  const withGood = parseConfigFile(fromNewer({ maxFileSizeMb: -1, exclude: 'now a string' }), 'cfg.json', '1.0.0', () => lastGood).config;
  assert.deepEqual([withGood.maxFileSizeMb, withGood.exclude], [3, ['*.iso']]);
  assert.throws(() => parseConfigFile({ writtenBy: 'tomorrow', roots: [] }, 'cfg.json', '1.0.0'), invalid(/writtenBy: .*version/));
  assert.throws(() => parseConfigFile({ writtenBy: 7 }, 'cfg.json', '1.0.0'), invalid(/writtenBy/));
});

test('a setting this build could not read goes back into the file as the newer Owlet wrote it, unless it is changed here', () => {
  const dir = tmpDir();
  const routes = { warning: ['banner', 'sms'] };
  writeJson(dir, fromNewer({ monitoring: { sampleSeconds: 7, alerts: { routes } } }));
  const c = loadConfig(dir, '1.0.0');
  assert.equal(c.monitoring.sampleSeconds, defaultConfig().monitoring.sampleSeconds, 'runs on the default in its place');
  // A root added (owlet serve --root, the dashboard): the rest is saved as it ran.
  saveConfig(dir, { ...c, roots: [...c.roots, '/s'] }, '1.0.0');
  let onDisk = readJson(dir);
  assert.deepEqual(onDisk.roots, ['/r', '/s']);
  assert.deepEqual(onDisk.monitoring, { sampleSeconds: 7, alerts: { routes } }, 'the newer version\'s monitoring, untouched');
  assert.equal(onDisk.writtenBy, '99.0.0');
  assert.equal(onDisk.backup.cloud, 'eu-1');
  // The person sets monitoring here: that is a choice, and it is written.
  const again = loadConfig(dir, '1.0.0');
  saveConfig(dir, { ...again, monitoring: { ...again.monitoring, sampleSeconds: 10 } }, '1.0.0');
  onDisk = readJson(dir);
  assert.equal(onDisk.monitoring.sampleSeconds, 10);
  assert.deepEqual(onDisk.monitoring.alerts.routes.warning, ['banner', 'log', 'tray']);
  assert.equal(loadConfigFile(dir, '1.0.0').newer?.unreadable.length ?? 0, 0);
});

test('a file in a format this build does not know (another version) runs on the last good configuration and is never written over', () => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'config.last-good.json'), JSON.stringify({ ...defaultConfig(), roots: ['/good'] }));
  writeJson(dir, { version: 2, writtenBy: '99.0.0', roots: [{ path: '/r', depth: 3 }] });
  const before = fs.readFileSync(path.join(dir, 'config.json'), 'utf8');
  const { config, newer } = loadConfigFile(dir, '1.0.0');
  assert.deepEqual(config.roots, ['/good'], 'nothing from the file is used, not even what would parse');
  assert.deepEqual(newer?.unreadable.map((u) => [u.key, u.using]), [['(all)', 'last-good']]);
  assert.throws(() => saveConfig(dir, { ...config, roots: ['/good', '/s'] }, '1.0.0'), invalid(/Owlet 99\.0\.0 wrote it in a form this Owlet \(1\.0\.0\) cannot read or write/));
  assert.equal(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'), before);
});

test('once no newer setting is left, the file is this build\'s again and strict', () => {
  const dir = tmpDir();
  writeJson(dir, { writtenBy: '99.0.0', roots: ['/r'] });
  assert.equal(loadConfigFile(dir, '1.0.0').newer, null);
  saveConfig(dir, loadConfig(dir, '1.0.0'), '1.0.0');
  assert.equal(readJson(dir).writtenBy, '1.0.0');
});

test('owlet index (the real CLI) indexes with a newer Owlet\'s config.json, keeps its settings, and doctor names them', async () => {
  const data = tmpDir('owlet-data-');
  const root = tmpDir('owlet-root-');
  fs.writeFileSync(path.join(root, 'note.txt'), 'the word zanzibarite is searchable');
  fs.mkdirSync(data, { recursive: true, mode: 0o700 });
  writeJson(data, fromNewer({ roots: [], maxFileSizeMb: 1 }));
  const idx = await runOwlet(['index', '--root', root, '--data-dir', data]);
  assert.equal(idx.code, 0, idx.stderr);
  const hits = JSON.parse((await runOwlet(['search', 'zanzibarite', '--json', '--data-dir', data])).stdout) as { total: number };
  assert.equal(hits.total, 1, 'indexed with the configuration it read');
  const onDisk = readJson(data);
  assert.deepEqual(onDisk.roots, [fs.realpathSync(root)], 'the root given on the command line is remembered');
  assert.equal(onDisk.maxFileSizeMb, 1);
  assert.deepEqual(onDisk.cloudSync, { enabled: true, provider: 'x' });
  assert.equal(onDisk.backup.cloud, 'eu-1');
  assert.equal(onDisk.writtenBy, '99.0.0');
  const doc = await runOwlet(['doctor', '--data-dir', data]);
  const said = doc.stdout.split('\n').find((l) => l.includes('set by Owlet 99.0.0')) ?? '';
  assert.match(said, new RegExp(`ignored by this one \\(${VERSION.replace(/\./g, '\\.')}\\) and kept in config\\.json: `), doc.stdout);
  for (const k of ['cloudSync', 'backup.cloud', 'monitoring.alerts.rules.0.labels']) assert.ok(said.includes(k), `doctor names ${k}: ${said}`);
  assert.doesNotMatch(doc.stdout, /FAILED +Configuration/);
});

test('owlet doctor (the real CLI) names a value from a newer Owlet it cannot read, says what runs instead, and does not call the configuration failed', async () => {
  const data = tmpDir('owlet-data-');
  fs.mkdirSync(data, { recursive: true, mode: 0o700 });
  writeJson(data, fromNewer({ roots: [], monitoring: { alerts: { routes: { warning: ['banner', 'sms'] } } } }));
  const before = fs.readFileSync(path.join(data, 'config.json'), 'utf8');
  const doc = await runOwlet(['doctor', '--json', '--data-dir', data]);
  const report = JSON.parse(doc.stdout) as { checks: { id: string; status: string; message: string; remedy?: string }[] };
  assert.equal(report.checks.find((c) => c.id === 'config')?.status, 'ok', doc.stdout);
  const newer = report.checks.find((c) => c.id === 'config-newer');
  assert.equal(newer?.status, 'degraded', 'this version does not run as configured');
  assert.match(newer!.message, /cannot read, kept in config\.json as written: monitoring \(monitoring\.alerts\.routes\.warning\.1: .*runs on the default value\)/);
  assert.match(newer!.message, /cloudSync/, 'the unknown keys are still named');
  assert.ok(newer!.remedy);
  assert.equal(fs.readFileSync(path.join(data, 'config.json'), 'utf8'), before, 'the doctor leaves the file alone');
});

test('owlet serve starts on a newer Owlet\'s config.json, even with a value it cannot read, leaves the file as written and logs what it ignores and replaces', async () => {
  const data = tmpDir('owlet-data-');
  fs.mkdirSync(data, { recursive: true, mode: 0o700 });
  const newer = fromNewer({ roots: [] });
  writeJson(data, { ...newer, monitoring: { alerts: { ...newer.monitoring.alerts, routes: { warning: ['banner', 'sms'] } } } });
  const written = fs.readFileSync(path.join(data, 'config.json'), 'utf8');
  const child = startOwlet(['serve', '--data-dir', data, '--port', '0']);
  const log = path.join(data, 'logs', 'service.log');
  const deadline = Date.now() + 30_000;
  let line: string | undefined;
  let unreadable: string | undefined;
  while (Date.now() < deadline && !(line && unreadable) && child.exitCode === null) {
    await new Promise((r) => setTimeout(r, 100));
    const lines = (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '').split('\n');
    line = lines.find((l) => l.includes('settings from a newer Owlet'));
    unreadable = lines.find((l) => l.includes('values from a newer Owlet'));
  }
  const running = child.exitCode === null;
  child.kill('SIGTERM');
  await waitExit(child, 15_000);
  assert.ok(running, `the service started\n${child.output()}`);
  assert.ok(line, `the warning is logged\n${child.output()}`);
  const entry = JSON.parse(line!);
  assert.equal(entry.writtenBy, '99.0.0');
  assert.match(entry.keys, /cloudSync/);
  assert.ok(unreadable, `the value it cannot read is logged\n${child.output()}`);
  assert.match(JSON.parse(unreadable!).settings, /^monitoring \(monitoring\.alerts\.routes\.warning\.1: /);
  assert.equal(fs.readFileSync(path.join(data, 'config.json'), 'utf8'), written, 'neither set aside nor rewritten');
  assert.deepEqual(fs.readdirSync(data).filter((f) => f.includes('broken')), []);
});
