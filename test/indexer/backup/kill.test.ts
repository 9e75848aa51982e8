import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { keysForBackups } from '../../../src/indexer/backup/local.js';
import { listBackups } from '../../../src/indexer/backup/manifest.js';
import { verifiedBackups } from '../../../src/indexer/backup/restore.js';
import { runOwlet, startOwlet, waitExit } from '../../helpers/cli.js';
import { tmpDir } from '../../helpers/tmp.js';
import { makeCorpus } from './helpers.js';

/**
 * Issue 16 (and 6): a backup killed at any moment leaves nothing half-made. A real `owlet backup
 * create` process is SIGKILLed at the moments a backup passes through (its file being written
 * under the temporary name; the file in place, its manifest unverified, while the verification
 * restores it), seen from outside by the names in the backup folder. Nothing it leaves is ever
 * offered as a restore point, and the next backups clean up and succeed.
 */

const MOMENTS: { name: string; seen: (names: string[]) => boolean }[] = [
  { name: 'while its file is written under the temporary name', seen: (names) => names.some((n) => n.endsWith('.owb.partial')) },
  { name: 'while it is verified (its file in place, its manifest not yet verified)', seen: (names) => names.some((n) => n.startsWith('.tmp-verify-')) },
];

function namesIn(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

test('a backup process killed at any moment leaves no usable half backup; the next backup cleans up and succeeds', async () => {
  const base = tmpDir('owlet-backup-kill-');
  const root = path.join(base, 'docs');
  const data = path.join(base, 'data');
  const dir = path.join(data, 'backups');
  makeCorpus(root, 600);
  const indexed = await runOwlet(['index', '--root', root, '--data-dir', data, '--json'], { timeoutMs: 180_000 });
  assert.equal(indexed.code, 0, indexed.stderr);
  const keys = keysForBackups(data);

  for (const moment of MOMENTS) {
    const child = startOwlet(['backup', 'create', '--data-dir', data]);
    const deadline = Date.now() + 120_000;
    let seen = false;
    while (!seen && child.exitCode === null && child.signalCode === null && Date.now() < deadline) {
      seen = moment.seen(namesIn(dir));
      if (!seen) await new Promise((r) => setTimeout(r, 1));
    }
    child.kill('SIGKILL');
    const exit = await waitExit(child, 30_000);
    assert.ok(seen, `the backup passed ${moment.name} before it ended (exit ${exit.code}): ${child.output()}`);
    assert.equal(exit.signal, 'SIGKILL');
    assert.deepEqual(verifiedBackups(dir, keys), [], `killed ${moment.name}: nothing is a restore point`);
    assert.ok(listBackups(dir, keys).every((b) => b.manifest.verification?.ok !== true), 'no manifest says verified');
  }
  // A manifest being written when the process died (writePrivateFile's temporary name).
  fs.writeFileSync(path.join(dir, '.20261203T000000Z-dead.json.4242.0badf00d.tmp'), '{"format":');

  const next = await runOwlet(['backup', 'create', '--data-dir', data, '--json'], { timeoutMs: 180_000 });
  assert.equal(next.code, 0, next.stderr);
  const made = verifiedBackups(dir, keys);
  assert.equal(made.length, 1, 'the next backup is a restore point');
  const pairs = (ids: string[]) => ids.flatMap((id) => [`${id}.json`, `${id}.owb`]).sort();
  const unverified = listBackups(dir, keys).filter((b) => b.manifest.verification?.ok !== true).map((b) => b.manifest.id);
  // The one killed while verifying is whole (renamed only once complete) but unproven: never a
  // restore point, and, as a manual backup, removed one pruning after a newer point exists.
  assert.ok(unverified.length <= 1, `at most the backup killed while verifying is left: ${unverified.join(', ')}`);
  assert.deepEqual(namesIn(dir).filter((n) => n !== '.lock').sort(), pairs([made[0]!.id, ...unverified]), 'no temporary file, no half backup');
  const again = await runOwlet(['backup', 'create', '--data-dir', data, '--json'], { timeoutMs: 180_000 });
  assert.equal(again.code, 0, again.stderr);
  const points = verifiedBackups(dir, keys).map((m) => m.id);
  assert.deepEqual(namesIn(dir).filter((n) => n !== '.lock').sort(), pairs(points), 'the unproven leftover is gone');
});
