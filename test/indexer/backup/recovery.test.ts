import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3-multiple-ciphers';
import { isVerified, listBackups } from '../../../src/indexer/backup/manifest.js';
import { trapCorruption } from '../../../src/indexer/store/corruption-trap.js';
import type { GuardianAlert } from '../../../src/indexer/recovery/plan.js';
import { applyKey, fileHeaderIsPlain, PLAIN_HEADER } from '../../../src/indexer/security/cipher.js';
import { tmpDir, waitFor, writeTree } from '../../helpers/tmp.js';
import { RECOVERY_KEEP } from '../../../src/indexer/backup/restore.js';
import { openSecretStore } from '../../../src/indexer/security/secrets.js';
import { rotateDataKey } from '../../../src/indexer/store/rekey.js';
import { openDatabase } from '../../../src/indexer/store/db.js';
import { corpusUnderGuard, damage, diskFiles, hits, indexedPaths, live, makeCorpus, openGuardian, settle, startAndSettle, writeConfig, type Damage } from './helpers.js';

/**
 * Damage the index the ways disks and people do, start again, and check the guardian detects it,
 * quarantines the damaged file, restores the newest verified backup, reconciles with the disk
 * (changes made after the backup included), and that the final index matches the disk.
 */
async function scenario(kind: Damage) {
  const setup = await corpusUnderGuard(`owlet-recover-${kind}-`, 18);
  const { root, data } = setup;
  let g = setup.g;
  const made = await g.create('manual');
  assert.equal(made.status, 'created');
  assert.ok(made.status === 'created' && isVerified(made.manifest), 'the backup is verified');
  const backupId = made.status === 'created' ? made.manifest.id : '';
  await g.stop();

  // Changes after the backup: the reconcile after the restore must pick them up.
  writeTree(root, { 'after/new.txt': 'added after the backup: kumquatword' });
  fs.appendFileSync(path.join(root, 'doc1.txt'), ' appended later: persimmonword');
  fs.rmSync(path.join(root, 'doc2.txt'));

  const file = path.join(data, 'index.db');
  const did = damage(file, kind);
  const alerts: GuardianAlert[] = [];
  const t0 = performance.now();
  // While the backup is unpacked the damaged file stays in place (a standby may be reading it); it
  // is set aside by the swap itself.
  let sawNoIndex = 0;
  let polls = 0;
  const poll = setInterval(() => {
    polls++;
    if (!fs.existsSync(file)) sawNoIndex++;
  }, 1);
  try {
    g = await openGuardian(data, { onAlert: (a) => alerts.push(a) });
  } finally {
    clearInterval(poll);
  }
  const readyMs = performance.now() - t0;
  if (kind !== 'delete') assert.equal(sawNoIndex, 0, `index.db was missing in ${sawNoIndex} of ${polls} looks during recovery`);
  try {
    const rec = g.lastRecovery;
    assert.ok(rec, `damage (${did}) was detected`);
    assert.equal(rec.action, 'restored', `restored from the backup after: ${did}`);
    assert.equal(rec.backupId, backupId);
    if (kind !== 'delete') {
      assert.ok(rec.quarantined, 'the damaged file was moved aside');
      assert.ok(fs.existsSync(path.join(data, rec.quarantined)), 'and kept, not deleted');
    }
    // Search answers from the restored index before the reconcile runs.
    assert.ok(g.service.isReady());
    assert.deepEqual(hits(g, 'uniq5word'), [path.join(root, 'doc5.txt')]);
    const status = g.service.status();
    assert.ok(status.degraded.some((d) => d.component === 'index-recovery'), 'status says the index is being brought up to date');
    await startAndSettle(g);
    assert.deepEqual(indexedPaths(g), diskFiles(root), 'after the reconcile the index matches the disk');
    assert.deepEqual(hits(g, 'kumquatword'), [path.join(root, 'after', 'new.txt')]);
    assert.deepEqual(hits(g, 'persimmonword'), [path.join(root, 'doc1.txt')]);
    assert.deepEqual(hits(g, 'uniq2word'), []);
    // The damage is announced, then each alert resolves once its situation is over: index-corrupt
    // when the index is repaired, index-recovered when it is back in step with the disk.
    assert.deepEqual(
      alerts.map((a) => `${a.id}${a.over ? ' over' : ''}`),
      // (index-rebuilding too: whichever recovery ran, nothing is left to catch up.)
      ['index-corrupt', 'index-corrupt over', 'index-recovered', 'index-recovered over', 'index-rebuilding over'],
    );
    assert.equal(alerts[0]!.severity, 'critical');
    assert.equal(g.service.status().degraded.filter((d) => d.component === 'index-recovery').length, 0);
    console.log(`# ${kind}: ${did}; ready after ${readyMs.toFixed(0)} ms (guardian: ${rec.readyMs} ms), reconciled after ${g.lastRecovery?.reconciledMs} ms`);
  } finally {
    await g.stop();
  }
}

for (const kind of ['garbage-pages', 'truncate', 'zeros', 'delete'] as const) {
  test(`index damage "${kind}" is detected and recovered from the newest verified backup; the index ends equal to the disk`, () => scenario(kind));
}

test('a corrupted backup (one flipped byte) fails verification and is never restored; an older good one is', async () => {
  const base = tmpDir('owlet-recover-badbackup-');
  const root = path.join(base, 'docs');
  const data = path.join(base, 'data');
  makeCorpus(root, 9);
  writeConfig(data, { roots: [root] });
  // The good backup is a day older: retention keeps one backup per day.
  let clock = Date.now() - 86_400_000;
  let g = await openGuardian(data, { now: () => clock });
  await startAndSettle(g);
  const good = await g.create('manual');
  clock += 86_400_000;
  writeTree(root, { 'later.txt': 'second backup has this: tamarindword' });
  await g.service.rescan();
  const bad = await g.create('manual');
  assert.ok(good.status === 'created' && bad.status === 'created');
  const dir = path.join(data, 'backups');
  const badFile = path.join(dir, `${bad.manifest.id}.owb`);
  const bytes = fs.readFileSync(badFile);
  bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
  fs.writeFileSync(badFile, bytes);
  const [v] = await g.verify(bad.manifest.id);
  assert.equal(v!.verification.ok, false, 'the flipped byte fails verification');
  assert.equal(v!.verification.checksum, false);
  assert.match(v!.verification.message ?? '', /checksum/);
  await g.stop();

  damage(path.join(data, 'index.db'), 'zeros');
  g = await openGuardian(data);
  try {
    assert.equal(g.lastRecovery?.action, 'restored');
    assert.equal(g.lastRecovery?.backupId, good.manifest.id, 'the older, intact backup was used');
    await startAndSettle(g);
    assert.deepEqual(indexedPaths(g), diskFiles(root));
    assert.deepEqual(hits(g, 'tamarindword'), [path.join(root, 'later.txt')], 'the reconcile indexed what the good backup lacked');
    const listed = listBackups(dir).find((b) => b.manifest.id === bad.manifest.id);
    assert.equal(listed?.manifest.verification?.ok, false);
  } finally {
    await g.stop();
  }
});

test('with no usable backup the index is rebuilt from the disk, with progress in status', async () => {
  const setup = await corpusUnderGuard('owlet-recover-nobackup-', 12);
  const { root, data } = setup;
  let g = setup.g;
  await g.stop();
  damage(path.join(data, 'index.db'), 'garbage-pages', 11);
  g = await openGuardian(data);
  try {
    assert.equal(g.lastRecovery?.action, 'rebuilt-from-disk');
    assert.equal(g.phase, 'rebuilding');
    const s = g.service.status();
    const msg = s.degraded.find((d) => d.component === 'index-recovery')?.message ?? '';
    assert.match(msg, /rebuilding it from your folders: \d+ of \d+ files done/);
    assert.equal(s.state, 'degraded');
    await startAndSettle(g);
    assert.deepEqual(indexedPaths(g), diskFiles(root));
    assert.deepEqual(hits(g, 'uniq7word'), [path.join(root, 'doc7.txt')]);
  } finally {
    await g.stop();
  }
});

/** The FTS index's pages, read through the index's own (keyed) connection. */
function ftsPages(g: Awaited<ReturnType<typeof openGuardian>>): number[] {
  return live(g).ctx.db.prepare("SELECT pageno FROM dbstat WHERE name = 'docs_fts_data' AND pagetype = 'leaf' ORDER BY pageno").pluck().all() as number[];
}

test('damage limited to the FTS index is repaired from the stored text, without a restore', async () => {
  const setup = await corpusUnderGuard('owlet-recover-fts-', 40);
  const { root, data } = setup;
  let g = setup.g;
  await g.create('manual');
  // Logical damage: garbage in the FTS segments (the rows and their b-trees are fine).
  const db = live(g).ctx.db;
  db.unsafeMode(true);
  db.prepare('UPDATE docs_fts_data SET block = randomblob(length(block)) WHERE id > 10').run();
  db.unsafeMode(false);
  await g.stop();
  g = await openGuardian(data);
  try {
    assert.equal(g.lastRecovery?.action, 'fts-rebuilt');
    assert.equal(g.lastRecovery?.backupId, null, 'no backup was restored');
    assert.equal(g.lastRecovery?.quarantined, null, 'repaired in place');
    assert.match(g.lastRecovery?.problems.join(' ') ?? '', /fts5/);
    assert.deepEqual(hits(g, 'uniq13word'), [path.join(root, 'doc13.txt')]);
    await startAndSettle(g);
    assert.deepEqual(indexedPaths(g), diskFiles(root));
    // Structural damage: pages of the FTS b-tree overwritten on disk.
    const pages = ftsPages(g).slice(0, 3);
    await g.stop();
    const fd = fs.openSync(path.join(data, 'index.db'), 'r+');
    for (const p of pages) fs.writeSync(fd, Buffer.alloc(4096, 0xa7), 0, 4096, (p - 1) * 4096);
    fs.closeSync(fd);
    g = await openGuardian(data);
    assert.equal(g.lastRecovery?.action, 'fts-rebuilt', `pages ${pages.join(', ')} of docs_fts_data overwritten`);
    assert.equal(g.lastRecovery?.backupId, null);
    assert.ok(g.lastRecovery?.quarantined, 'the damaged file is kept aside');
    assert.deepEqual(hits(g, 'uniq21word'), [path.join(root, 'sub', 'doc21.txt')]);
    await startAndSettle(g);
    assert.deepEqual(indexedPaths(g), diskFiles(root));
  } finally {
    await g.stop();
  }
});

test('damage found while serving (integrity check, index file deleted) is recovered without a restart', async () => {
  const base = tmpDir('owlet-recover-live-');
  const root = path.join(base, 'docs');
  const data = path.join(base, 'data');
  makeCorpus(root, 15);
  writeConfig(data, { roots: [root] });
  const g = await openGuardian(data);
  try {
    await startAndSettle(g);
    const made = await g.create('manual');
    assert.equal(made.status, 'created');
    const facade = g.service;
    const first = live(g).ctx;
    // 1. The periodic integrity check (recovery runs it in a worker) finds pages overwritten on disk.
    writeTree(root, { 'live1.txt': 'arrives while serving: quincewordone' });
    const file = path.join(data, 'index.db');
    // Everything into the main file first, so the damage reaches committed pages.
    live(g).ctx.db.pragma('wal_checkpoint(TRUNCATE)');
    damage(file, 'garbage-pages', 3);
    const r = await g.checkIntegrity();
    assert.equal(r.ok, false, 'the integrity check sees the damage');
    await g.settled();
    await settle(g);
    assert.notEqual(live(g).ctx, first, 'a new database connection serves');
    assert.equal(g.lastRecovery?.action, 'restored');
    assert.deepEqual(
      indexedPaths(facade),
      diskFiles(root),
      'the host others hold answers from the recovered index',
    );
    assert.deepEqual(hits(g, 'quincewordone'), [path.join(root, 'live1.txt')]);
    // 2. The file deleted under the running service.
    const second = live(g).ctx;
    writeTree(root, { 'live2.txt': 'arrives later: quincewordtwo' });
    fs.rmSync(file);
    g.checkFile();
    await g.settled();
    await settle(g);
    assert.notEqual(live(g).ctx, second);
    assert.deepEqual(indexedPaths(g), diskFiles(root));
    assert.deepEqual(hits(g, 'quincewordtwo'), [path.join(root, 'live2.txt')]);
  } finally {
    await g.stop();
  }
});

test('SQLITE_CORRUPT raised by any statement on a trapped connection is reported, and rethrown unchanged', () => {
  const base = tmpDir('owlet-trap-');
  const file = path.join(base, 'x.db');
  const key = Buffer.alloc(32, 7);
  let db = new Database(file);
  applyKey(db, key);
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
  const ins = db.prepare('INSERT INTO t (v) VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < 3000; i++) ins.run(`value ${i} `.repeat(20));
  })();
  db.close();
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, Buffer.alloc(4096 * 4, 0x55), 0, 4096 * 4, 4096 * 10);
  fs.closeSync(fd);
  db = new Database(file);
  applyKey(db, key);
  const seen: unknown[] = [];
  trapCorruption(db, (e) => seen.push(e));
  try {
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    assert.equal(seen.length, 0, 'healthy reads report nothing');
    assert.throws(() => db.prepare('SELECT sum(length(v)) FROM t').get(), (e: { code?: string }) => /^SQLITE_CORRUPT/.test(e.code ?? ''));
    assert.equal(seen.length, 1);
    assert.throws(() => [...db.prepare('SELECT v FROM t').iterate()], (e: { code?: string }) => /^SQLITE_CORRUPT/.test(e.code ?? ''));
    assert.equal(seen.length, 2, 'iterators are trapped too');
    assert.throws(() => db.transaction(() => db.prepare('UPDATE t SET v = v || 1').run()).immediate());
    // Seen by the statement and again by the transaction around it: the guardian acts once.
    assert.ok(seen.length >= 3, 'and statements inside transactions');
    const before = seen.length;
    assert.throws(() => db.prepare('SELECT nope FROM t').get(), /no such column/);
    assert.equal(seen.length, before, 'other errors are not reported');
  } finally {
    db.close();
  }
});

test('an encrypted index whose first 16 bytes read "SQLite format 3" is damage, not a legacy plaintext file: the verified backup is restored (#11.13)', async () => {
  const setup = await corpusUnderGuard('owlet-recover-plainheader-', 9);
  const { root, data } = setup;
  let g = setup.g;
  const made = await g.create('manual');
  assert.ok(made.status === 'created');
  await g.stop();

  const file = path.join(data, 'index.db');
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, PLAIN_HEADER, 0, PLAIN_HEADER.length, 0);
  fs.closeSync(fd);
  assert.equal(fileHeaderIsPlain(file), true, 'the header now reads like a plaintext database');

  const alerts: GuardianAlert[] = [];
  g = await openGuardian(data, { onAlert: (a) => alerts.push(a) });
  try {
    assert.equal(g.lastRecovery?.action, 'restored', 'the failed "migration" was treated as damage');
    assert.equal(g.lastRecovery?.backupId, made.manifest.id);
    assert.ok(g.lastRecovery?.quarantined && fs.existsSync(path.join(data, g.lastRecovery.quarantined)), 'the damaged file is kept aside');
    assert.equal(fileHeaderIsPlain(file), false, 'the live index is encrypted again');
    assert.equal(fs.existsSync(`${file}.plaintext`), false, 'no plaintext copy was left beside it');
    await startAndSettle(g);
    assert.deepEqual(indexedPaths(g), diskFiles(root));
    assert.deepEqual(hits(g, 'uniq4word'), [path.join(root, 'doc4.txt')]);
    assert.ok(alerts.some((a) => a.id === 'index-recovered'));
  } finally {
    await g.stop();
  }
});

test('after "owlet key rotate", damage is recovered from a backup made under the old key, re-keyed; with that key gone too, the index is rebuilt from the disk; the service comes up every time and recovery/ stays capped (#11.2)', async () => {
  const setup = await corpusUnderGuard('owlet-recover-rotated-', 9);
  const { root, data } = setup;
  let g = setup.g;
  const file = path.join(data, 'index.db');
  const made = await g.create('manual');
  assert.ok(made.status === 'created');
  await g.stop();
  const store = openSecretStore(data, 'key-file');
  const oldKey = store.get('data-key')!;
  rotateDataKey(file, store);
  const current = store.get('data-key')!;
  assert.equal(current.equals(oldKey), false);

  // 1. The only backup was written under the retired key: restored, and re-keyed to the current one.
  damage(file, 'garbage-pages');
  g = await openGuardian(data);
  try {
    assert.equal(g.lastRecovery?.action, 'restored');
    assert.equal(g.lastRecovery?.backupId, made.manifest.id);
    assert.ok(g.service.isReady(), 'the service is up on the restored index');
    assert.deepEqual(hits(g, 'uniq5word'), [path.join(root, 'doc5.txt')]);
  } finally {
    await g.stop();
  }
  const reopened = openDatabase(file, { key: current, readonly: true });
  try {
    assert.ok((reopened.prepare('SELECT count(*) AS n FROM documents').get() as { n: number }).n > 0, 'the restored file opens with the current key');
  } finally {
    reopened.close();
  }

  // 2. The retired key is lost as well: no backup can be read, so recovery rebuilds from the disk
  // instead of failing (the crash loop of the audit), again and again without filling recovery/.
  store.delete('data-key-retired');
  for (let round = 0; round < RECOVERY_KEEP + 2; round++) {
    damage(file, 'garbage-pages', 11 + round);
    g = await openGuardian(data);
    try {
      assert.equal(g.lastRecovery?.action, 'rebuilt-from-disk', `round ${round}: rebuilt, not a crash`);
      assert.ok(g.service.isReady());
      if (round === 0) {
        await startAndSettle(g);
        assert.deepEqual(indexedPaths(g), diskFiles(root), 'the rebuilt index equals the disk');
      }
    } finally {
      await g.stop();
    }
  }
  const setAside = fs.readdirSync(path.join(data, 'recovery')).filter((n) => /^index\.db\.\d{8}T\d{9}Z\.corrupt(\.\d+)?$/.test(n));
  assert.equal(setAside.length, RECOVERY_KEEP, 'recovery/ keeps only the newest damaged copies');
});

test('a start that finds the index sound resolves recovery alerts a killed predecessor left up: index-corrupt at once, index-recovered and index-rebuilding after the first scan', async () => {
  const base = tmpDir('owlet-recover-leftover-');
  const root = path.join(base, 'docs');
  const data = path.join(base, 'data');
  makeCorpus(root, 40);
  writeConfig(data, { roots: [root] });
  const alerts: GuardianAlert[] = [];
  const g = await openGuardian(data, { onAlert: (a) => alerts.push(a) });
  try {
    assert.equal(alerts.length, 0, 'nothing raised while opening a sound index');
    await g.start();
    assert.deepEqual(alerts.map((a) => `${a.id}${a.over ? ' over' : ''}`), ['index-corrupt over'], 'the index passed its checks: damage is not current');
    await settle(g);
    await waitFor(() => alerts.length === 3, 30_000, 'the scan to finish');
    assert.deepEqual(alerts.map((a) => `${a.id}${a.over ? ' over' : ''}`), ['index-corrupt over', 'index-recovered over', 'index-rebuilding over']);
    assert.deepEqual(indexedPaths(g), diskFiles(root));
  } finally {
    await g.stop();
  }
});

test('index-corrupt ends only on authority: a corruption error whose damage the reopening quick_check cannot find stays up until a full integrity check (asked for at once) passes; one found by the full check ends when the reopened file passes a full check', async () => {
  const base = tmpDir('owlet-recover-authority-');
  const root = path.join(base, 'docs');
  const data = path.join(base, 'data');
  makeCorpus(root, 12);
  writeConfig(data, { roots: [root] });
  const alerts: GuardianAlert[] = [];
  const checks: boolean[] = [];
  const g = await openGuardian(data, { onAlert: (a) => alerts.push(a), integrity: { hours: 24, minDelayMs: 3_600_000 } });
  g.pi.integrity.onDidCheck((r) => checks.push(r.ok));
  const seq = () => alerts.map((a) => `${a.id}${a.over ? ' over' : ''}`).filter((x) => x.startsWith('index-corrupt'));
  try {
    await startAndSettle(g);
    const before = seq().length; // the clean start's own "over"
    // A query reported SQLITE_CORRUPT, but the file is sound: quick_check on reopening finds nothing.
    g.pi.guardian.reportCorruption(new Error('database disk image is malformed'));
    await waitFor(() => checks.length >= 1, 30_000, 'the full check the guardian asks for');
    await g.settled();
    assert.deepEqual(seq().slice(before), ['index-corrupt', 'index-corrupt over'], 'raised, and ended by the passing full check');
    assert.equal(checks[0], true);
    // Reported by the full check itself: the reopened file gets a full check, which passes.
    g.pi.guardian.reportCorruption(new Error('row 3 missing from index documents_path'), { full: true });
    await waitFor(() => seq().length >= before + 4, 30_000, 'the second recovery');
    await g.settled();
    assert.deepEqual(seq().slice(before + 2), ['index-corrupt', 'index-corrupt over']);
    assert.equal(checks.length, 1, 'no extra check was needed');
    assert.deepEqual(indexedPaths(g), diskFiles(root));
  } finally {
    await g.stop();
  }
});
