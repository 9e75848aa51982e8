import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tmpDir } from '../../helpers/tmp.js';
import { saveConfig } from '../../../src/indexer/config/load.js';
import { defaultConfig } from '../../../src/indexer/config/schema.js';
import { loadOrRepairConfig, standingRestore, LAST_GOOD_FILE } from '../../../src/indexer/config/repair.js';
import { VERSION } from '../../../src/indexer/version.js';

/** A damaged config.json must not keep the service down; the damaged file is kept, never lost. */

test('a good configuration is remembered, and restored when config.json is later damaged', () => {
  const data = tmpDir();
  saveConfig(data, { ...defaultConfig(), roots: ['/home/me/Documents'] });
  assert.equal(loadOrRepairConfig(data).restored, null);
  assert.ok(fs.existsSync(path.join(data, LAST_GOOD_FILE)));

  fs.writeFileSync(path.join(data, 'config.json'), '{ "roots": [ "half a file');
  const r = loadOrRepairConfig(data, () => new Date('2026-12-02T10:00:00Z'));
  assert.deepEqual(r.config.roots, ['/home/me/Documents']);
  assert.ok(r.restored);
  assert.match(r.restored.reason, /not valid JSON/);
  assert.equal(fs.readFileSync(r.restored.brokenFile, 'utf8'), '{ "roots": [ "half a file', 'the user\'s damaged edit is kept');
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(data, 'config.json'), 'utf8')).roots, ['/home/me/Documents']);
  assert.ok(standingRestore(data), 'the restore stands (the alert fires) until config.json is saved again');
});

test('a schema error (a typo in a key) is repaired the same way', () => {
  const data = tmpDir();
  saveConfig(data, defaultConfig());
  loadOrRepairConfig(data);
  fs.writeFileSync(path.join(data, 'config.json'), JSON.stringify({ maxFileSizeMB: 3 }));
  const r = loadOrRepairConfig(data);
  assert.ok(r.restored);
  assert.match(r.restored.reason, /maxFileSizeMB/);
});

test('saving config.json again clears the standing restore', () => {
  const data = tmpDir();
  saveConfig(data, defaultConfig());
  loadOrRepairConfig(data);
  fs.writeFileSync(path.join(data, 'config.json'), 'not json');
  loadOrRepairConfig(data);
  assert.ok(standingRestore(data));
  saveConfig(data, defaultConfig());
  const later = new Date(Date.now() + 60_000);
  fs.utimesSync(path.join(data, 'config.json'), later, later);
  assert.equal(standingRestore(data), null);
});

test('with no good configuration to go back to, the original error stands', () => {
  const data = tmpDir();
  fs.writeFileSync(path.join(data, 'config.json'), 'not json');
  assert.throws(() => loadOrRepairConfig(data), (e: Error & { code?: string }) => e.code === 'OWL_ERR_CONFIG_INVALID');
  assert.equal(fs.readFileSync(path.join(data, 'config.json'), 'utf8'), 'not json', 'nothing is moved when nothing can replace it');
});

/** config.json as a newer Owlet writes it after a rollback: a channel this build does not offer, and a key it does not know. */
function fromNewerWithNewChoice(dir: string): string {
  const text = JSON.stringify({
    version: 1,
    writtenBy: '99.0.0',
    roots: ['/home/me/Work'],
    maxFileSizeMb: 12,
    backup: { hour: 4, cloud: 'eu-1' },
    monitoring: { sampleSeconds: 7, alerts: { routes: { warning: ['banner', 'sms'] } } },
  }, null, 2);
  fs.writeFileSync(path.join(dir, 'config.json'), text, { mode: 0o600 });
  return text;
}

test('a value a newer Owlet wrote that this build rejects is not damage: the file stays as it is, and that setting runs on the last good one', () => {
  const data = tmpDir();
  const good = { ...defaultConfig(), roots: ['/home/me/Documents'] };
  good.monitoring = { ...good.monitoring, sampleSeconds: 30 };
  saveConfig(data, good);
  loadOrRepairConfig(data);
  const lastGoodBefore = fs.readFileSync(path.join(data, LAST_GOOD_FILE), 'utf8');
  const written = fromNewerWithNewChoice(data);

  const r = loadOrRepairConfig(data);
  assert.equal(r.restored, null, 'not set aside as damaged');
  assert.equal(fs.readFileSync(path.join(data, 'config.json'), 'utf8'), written, 'config.json is neither rewritten nor moved');
  assert.deepEqual(fs.readdirSync(data).filter((f) => f.includes('broken')), []);
  assert.equal(standingRestore(data), null, 'no config-restored alert');
  assert.equal(fs.readFileSync(path.join(data, LAST_GOOD_FILE), 'utf8'), lastGoodBefore, 'a file that did not load as written is not remembered as good');
  // What this build can read of the newer file is used; the setting it cannot read runs on the last good one.
  assert.deepEqual(r.config.roots, ['/home/me/Work']);
  assert.equal(r.config.maxFileSizeMb, 12);
  assert.equal(r.config.backup.hour, 4);
  assert.equal(r.config.monitoring.sampleSeconds, 30, 'the whole monitoring section is the last good one');
  assert.deepEqual(r.newer?.unreadable.map((u) => [u.key, u.using]), [['monitoring', 'last-good']]);
  assert.match(r.newer!.unreadable[0]!.reason, /monitoring\.alerts\.routes\.warning\.1/);
  assert.deepEqual(r.newer?.keys.map((k) => k.path.join('.')), ['backup.cloud']);
});

test('with no last good configuration, the setting a newer Owlet wrote that this build rejects runs on its default', () => {
  const data = tmpDir();
  const written = fromNewerWithNewChoice(data);
  const r = loadOrRepairConfig(data);
  assert.equal(r.restored, null);
  assert.equal(fs.readFileSync(path.join(data, 'config.json'), 'utf8'), written);
  assert.deepEqual(r.config.monitoring, defaultConfig().monitoring);
  assert.deepEqual(r.config.roots, ['/home/me/Work']);
  assert.deepEqual(r.newer?.unreadable.map((u) => [u.key, u.using]), [['monitoring', 'defaults']]);
});

test('the same value in a file this build (or an older one) wrote is the user\'s mistake: set aside and restored, with the key named', () => {
  const data = tmpDir();
  saveConfig(data, defaultConfig());
  loadOrRepairConfig(data);
  for (const writtenBy of [VERSION, '0.0.1']) {
    fs.writeFileSync(path.join(data, 'config.json'), JSON.stringify({ writtenBy, monitoring: { alerts: { routes: { warning: ['banner', 'sms'] } } } }));
    const r = loadOrRepairConfig(data);
    assert.ok(r.restored, `written by ${writtenBy}`);
    assert.match(r.restored.reason, /monitoring\.alerts\.routes\.warning\.1/);
  }
});
