import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tmpDir, waitFor, writeTree } from '../../helpers/tmp.js';
import { runOwlet } from '../../helpers/cli.js';
import { loadConfig, saveConfig } from '../../../src/indexer/config/load.js';
import { defaultConfig } from '../../../src/indexer/config/schema.js';
import { OwletService } from '../../../src/indexer/service/service.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';

/**
 * Issue #11 point 10: a root removed from the configuration must not stay searchable (preview
 * already refused its documents, but search returned their snippets). Its documents are kept,
 * hidden, and come back when the root is added again.
 */

test('#11.10: a root removed from config.json is not searchable (service and CLI), and is again once re-added', async () => {
  const keep = tmpDir('owlet-keep-');
  const gone = tmpDir('owlet-gone-');
  const data = path.join(tmpDir('owlet-rr-'), 'data');
  fs.mkdirSync(data, { mode: 0o700 });
  writeTree(keep, { 'k.txt': 'ordinary harbourword notes' });
  writeTree(gone, { 'secret.txt': 'confidential harbourword salary list' });
  saveConfig(data, { ...defaultConfig(), roots: [keep, gone], security: { ...defaultConfig().security, secretStore: 'key-file' } });
  const r = await runOwlet(['index', '--data-dir', data], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  const cliHits = async () => {
    const s = await runOwlet(['search', '--json', '--data-dir', data, 'harbourword'], { timeoutMs: 30_000 });
    assert.equal(s.code, 0, s.stderr);
    return (JSON.parse(s.stdout) as { hits: { path: string; snippet: string }[] }).hits;
  };
  assert.equal((await cliHits()).length, 2, 'control: both roots searchable');

  saveConfig(data, { ...loadConfig(data), roots: [keep] });
  const hits = await cliHits();
  assert.deepEqual(hits.map((h) => h.path), [path.join(keep, 'k.txt')]);
  assert.ok(!JSON.stringify(hits).includes('salary'), 'no snippet of the removed root');
  // The service answers the same (what the dashboard and the HTTP API use).
  const service = new OwletService({ dataDir: data, log: nullLogger, watch: false });
  try {
    await service.start();
    await waitFor(() => service.isReady(), 30_000, 'service ready');
    const res = service.search('salary OR harbourword', 10, 0);
    assert.deepEqual(res.hits.map((h) => h.path), [path.join(keep, 'k.txt')]);
    assert.equal(res.total, 1);
  } finally {
    await service.stop();
  }

  saveConfig(data, { ...loadConfig(data), roots: [keep, gone] });
  assert.equal((await cliHits()).length, 2, 'added back: found again (documents were kept)');
});
