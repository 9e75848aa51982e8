import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { RECOVERY_KEEP, setAside } from '../../../src/indexer/backup/restore.js';
import { tmpDir } from '../../helpers/tmp.js';

test('recovery/ is capped: a crash loop that sets the index aside on every start keeps only the newest copies', () => {
  const data = tmpDir('owlet-recovery-cap-');
  const live = path.join(data, 'index.db');
  const t0 = Date.UTC(2026, 11, 2, 10, 0, 0);
  const kept: string[] = [];
  for (let i = 0; i < 8; i++) {
    fs.writeFileSync(live, Buffer.alloc(64 * 1024, i));
    fs.writeFileSync(`${live}-wal`, 'wal');
    kept.push(setAside(data, i % 2 ? 'corrupt' : 'pre-restore', t0 + i * 1000));
  }
  const left = fs.readdirSync(path.join(data, 'recovery')).filter((n) => n.startsWith('index.db.')).sort();
  const mains = left.filter((n) => !n.endsWith('-wal'));
  assert.equal(mains.length, RECOVERY_KEEP);
  assert.deepEqual(mains, kept.slice(-RECOVERY_KEEP).map((f) => path.basename(f)).sort(), 'the newest ones, the one just set aside included');
  assert.equal(left.length, 2 * RECOVERY_KEEP, 'their WAL files travel with them; the removed ones took theirs');
});
