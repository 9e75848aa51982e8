import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { runOwlet, startOwlet, waitExit } from '../../helpers/cli.js';
import { tmpDir } from '../../helpers/tmp.js';
import { saveConfig } from '../../../src/indexer/config/load.js';
import { defaultConfig } from '../../../src/indexer/config/schema.js';
import { openIndex } from '../../../src/indexer/service/context.js';
import { KeyFileSecretStore } from '../../../src/indexer/security/key-file.js';
import { openKeyedDatabase } from '../../../src/indexer/store/data-key.js';
import { closeDatabase } from '../../../src/indexer/store/db.js';
import { verifyAuditLog } from '../../../src/indexer/audit/log.js';

const DOCS = 2500;

test('owlet key rotate killed with SIGKILL at random moments, repeatedly: always openable with the old or the new key, nothing lost', async () => {
  const data = tmpDir('owlet-data-');
  saveConfig(data, { ...defaultConfig(), security: { ...defaultConfig().security, secretStore: 'key-file' } });
  const store = new KeyFileSecretStore(data);
  const ctx = openIndex(data, { secrets: store });
  const rootId = ctx.store.ensureRoot('/r');
  ctx.db.transaction(() => {
    // Random words do not compress: a database of a few MB, so a rotation takes a while.
    for (let i = 0; i < DOCS; i++) ctx.store.putIndexed({ path: `/r/d${i}.txt`, rootId, ext: 'txt', size: i, mtimeMs: i, fileId: null, hash: 'h', title: null, extractor: 'text', text: randomBytes(600).toString('base64') });
  })();
  ctx.close();
  const file = path.join(data, 'index.db');
  console.log(`database: ${(fs.statSync(file).size / 1048576).toFixed(1)} MB, ${DOCS} documents`);

  const t0 = Date.now();
  const clean = await runOwlet(['key', 'rotate', '--json', '--data-dir', data], { timeoutMs: 60_000 });
  const wall = Date.now() - t0;
  assert.equal(clean.code, 0, clean.stderr);
  const inside = JSON.parse(clean.stdout).ms as number;
  console.log(`uninterrupted rotation: ${inside} ms inside, ${wall} ms for the whole command`);
  // Kill times spread over the rotation itself (after the process has started up), plus a margin.
  const from = Math.max(0, wall - inside - 60);

  const outcomes: string[] = [];
  for (let i = 0; i < 10; i++) {
    const before = store.get('data-key')!;
    const child = startOwlet(['key', 'rotate', '--data-dir', data]);
    const delay = Math.floor(from + Math.random() * (inside + 120));
    await new Promise((r) => setTimeout(r, delay));
    child.kill('SIGKILL');
    const exit = await waitExit(child, 10_000);
    const { db, key, events } = openKeyedDatabase(file, store);
    try {
      assert.equal(db.pragma('quick_check', { simple: true }), 'ok');
      assert.equal((db.prepare('SELECT count(*) AS n FROM documents').get() as { n: number }).n, DOCS);
    } finally {
      closeDatabase(db);
    }
    const which = key!.equals(before) ? 'old key' : 'new key';
    outcomes.push(`${delay} ms: ${exit.signal === 'SIGKILL' ? 'killed' : 'finished'}, opened with the ${which}${events.length ? ` (${events.join(', ')})` : ''}`);
  }
  console.log(`kills:\n  ${outcomes.join('\n  ')}`);
  assert.deepEqual(fs.readdirSync(data).filter((f) => f.startsWith('index.db') && f !== 'index.db' && !f.endsWith('-wal') && !f.endsWith('-shm')), [], 'no leftovers after the last open');
  // Every completed rotation is in the audit log, and the log is intact.
  const audit = verifyAuditLog(path.join(data, 'audit'), store.get('audit-key')!);
  assert.equal(audit.ok, true, JSON.stringify(audit.firstBroken));
  assert.ok(audit.entries >= 1);
});
