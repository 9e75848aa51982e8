import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tmpDir } from '../../helpers/tmp.js';
import { saveConfig } from '../../../src/indexer/config/load.js';
import { defaultConfig } from '../../../src/indexer/config/schema.js';
import { loadOrRepairConfig, standingRestore, LAST_GOOD_FILE } from '../../../src/indexer/config/repair.js';

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
