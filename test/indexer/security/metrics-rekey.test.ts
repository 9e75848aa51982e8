import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tmpDir, writeTree } from '../../helpers/tmp.js';
import { runOwlet } from '../../helpers/cli.js';
import { saveConfig } from '../../../src/indexer/config/load.js';
import { defaultConfig } from '../../../src/indexer/config/schema.js';
import { KeyFileSecretStore } from '../../../src/indexer/security/key-file.js';
import { candidateKeys } from '../../../src/indexer/store/data-key.js';
import { rotateDataKey } from '../../../src/indexer/store/rekey.js';
import { kvGet, kvSet, METRICS_FILE, openMetricsDb } from '../../../src/indexer/store/metrics-db.js';
import { closeDatabase, openDatabase } from '../../../src/indexer/store/db.js';
import { isOwletError } from '../../../src/shared/errors.js';

/** Issue #11 point 6: `key rotate` must carry metrics.db (and its history) to the new key. */

async function indexedWithMetrics(): Promise<{ data: string; store: KeyFileSecretStore }> {
  const root = tmpDir('owlet-mr-root-');
  const data = path.join(tmpDir('owlet-mr-'), 'data');
  fs.mkdirSync(data, { mode: 0o700 });
  writeTree(root, { 'a.txt': 'alpha document', 'b.txt': 'beta document' });
  saveConfig(data, { ...defaultConfig(), security: { ...defaultConfig().security, secretStore: 'key-file' } });
  const r = await runOwlet(['index', '--root', root, '--data-dir', data], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  const store = new KeyFileSecretStore(data);
  const db = openMetricsDb(data, store.get('data-key'));
  kvSet(db, 'history', 'ninety days of samples');
  closeDatabase(db);
  return { data, store };
}

function opensWith(file: string, key: Buffer | null): boolean {
  try {
    closeDatabase(openDatabase(file, { key: key!, readonly: true }));
    return true;
  } catch (e) {
    if (isOwletError(e) && e.code === 'OWL_ERR_DB_KEY') return false;
    throw e;
  }
}

test('#11.6: owlet key rotate re-keys metrics.db in the same procedure; its history survives the next start', async () => {
  const { data, store } = await indexedWithMetrics();
  const oldKey = store.get('data-key')!;
  const r = await runOwlet(['key', 'rotate', '--data-dir', data], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  const newKey = store.get('data-key')!;
  assert.ok(!newKey.equals(oldKey));
  const file = path.join(data, METRICS_FILE);
  assert.equal(opensWith(file, newKey), true, 'metrics.db opens with the new key');
  assert.equal(opensWith(file, oldKey), false, 'and no longer with the old one');
  // What the next service start does: open with the current key (nothing moved aside).
  const db = openMetricsDb(data, newKey, candidateKeys(store));
  assert.equal(kvGet(db, 'history'), 'ninety days of samples');
  closeDatabase(db);
  assert.deepEqual(fs.readdirSync(data).filter((f) => f.includes('broken')), []);
});

test('#11.6: a rotation interrupted before metrics.db was swapped: the next open re-keys it from the retired key', async () => {
  const { data, store } = await indexedWithMetrics();
  const oldKey = store.get('data-key')!;
  // The index alone is rotated (as if killed between the two swaps).
  rotateDataKey(path.join(data, 'index.db'), store);
  const newKey = store.get('data-key')!;
  const file = path.join(data, METRICS_FILE);
  assert.equal(opensWith(file, oldKey), true, 'precondition: metrics.db still under the old key');
  const db = openMetricsDb(data, newKey, candidateKeys(store));
  assert.equal(kvGet(db, 'history'), 'ninety days of samples');
  closeDatabase(db);
  assert.equal(opensWith(file, newKey), true);
  assert.equal(opensWith(file, oldKey), false);
});
