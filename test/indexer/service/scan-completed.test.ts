import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { saveConfig } from '../../../src/indexer/config/load.js';
import { defaultConfig } from '../../../src/indexer/config/schema.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';
import { OwletService } from '../../../src/indexer/service/service.js';
import { tmpDir, writeTree } from '../../helpers/tmp.js';

/**
 * Recovery declares the index "back in step with the disk" only after a pass that ran to its end
 * (guardian.ts whenInStep): a pass that was stopped must not count.
 */
function setup(files: number): { data: string } {
  const base = tmpDir('owlet-scan-completed-');
  const root = path.join(base, 'docs');
  const data = path.join(base, 'data');
  const tree: Record<string, string> = {};
  for (let i = 0; i < files; i++) tree[`d${i}.txt`] = `document ${i} scanword${i}`;
  writeTree(root, tree);
  fs.mkdirSync(data, { recursive: true, mode: 0o700 });
  saveConfig(data, { ...defaultConfig(), roots: [root] });
  return { data };
}

test('a pass that ran to its end is completed; none has before the first, and one stopped midway is not', async () => {
  const { data } = setup(30);
  const svc = new OwletService({ dataDir: data, log: nullLogger, watch: false });
  try {
    assert.equal(await svc.scanned(), false, 'no pass yet');
    await svc.start();
    assert.equal(await svc.scanned(), true);
    assert.equal(await svc.scan(), true, 'a second pass');
    assert.equal(svc.search('scanword7', 10, 0).total, 1);
  } finally {
    await svc.stop();
  }
  const big = setup(400);
  const stopped = new OwletService({ dataDir: big.data, log: nullLogger, watch: false });
  await stopped.start();
  const pass = stopped.scanned();
  await stopped.stop();
  assert.equal(await pass, false, 'stopped midway');
  assert.equal(await stopped.scan(), false, 'none runs once stopping');
});
