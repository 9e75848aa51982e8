import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { OwletService } from '../../../src/indexer/service/service.js';
import { saveConfig } from '../../../src/indexer/config/load.js';
import { loadOrRepairConfig } from '../../../src/indexer/config/repair.js';
import { defaultConfig } from '../../../src/indexer/config/schema.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';
import { tmpDir, writeTree } from '../../helpers/tmp.js';

/**
 * Found by the chaos run: a service start validates config.json (restoring the last good one if it
 * is damaged), then opened the index, which read config.json again without that repair. A file
 * broken between the two reads (a sync tool, a hand edit, the chaos run's bad-config fault 6 s
 * after a kill) failed the start as a configuration error, and the supervisor does not restart
 * those: the service stayed down for good. Real SQLite, real files.
 */
test('a config.json damaged after the start validated it: the service opens on the last good configuration and keeps the damaged file beside it', async () => {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  writeTree(root, { 'a.txt': 'alphaword' });
  saveConfig(data, { ...defaultConfig(), roots: [root] });
  // The start's own check: config.json loads and is remembered as the last good one.
  assert.equal(loadOrRepairConfig(data).restored, null);
  // Then, before the index is opened, the file breaks.
  fs.writeFileSync(path.join(data, 'config.json'), '{ "roots": [ "half a file');
  const svc = new OwletService({ dataDir: data, log: nullLogger, watch: false });
  try {
    await svc.indexOnce();
    assert.equal(svc.search('alphaword', 10, 0).total, 1, 'it runs on the last good configuration (its root)');
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(data, 'config.json'), 'utf8')).roots, [root], 'config.json holds the last good configuration again');
    assert.equal(fs.readdirSync(data).filter((f) => f.startsWith('config.json.broken-')).length, 1, 'the damaged file is kept beside it');
  } finally {
    await svc.stop();
  }
});
