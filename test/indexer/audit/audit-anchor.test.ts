import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tmpDir } from '../../helpers/tmp.js';
import { runOwlet } from '../../helpers/cli.js';
import { AUDIT_DIR, CHECKPOINT_FILE, checkAuditTrail, listAuditFiles, openAuditLog, verifyAuditLog, secretAnchorStore } from '../../../src/indexer/audit/log.js';
import { KeyFileSecretStore } from '../../../src/indexer/security/key-file.js';
import { saveConfig } from '../../../src/indexer/config/load.js';
import { defaultConfig } from '../../../src/indexer/config/schema.js';
import { runDoctor } from '../../../src/indexer/health/doctor.js';

/**
 * Issue #11 points 7 and 8 (retention): the audit head is anchored outside the audit folder, key
 * and log must come together, and old files are pruned behind a MAC-ed checkpoint.
 */

function dataWithLog(n: number, opts: { maxFileBytes?: number; keepFiles?: number } = {}): { data: string; store: KeyFileSecretStore; dir: string } {
  const data = path.join(tmpDir('owlet-anchor-'), 'data');
  fs.mkdirSync(data, { mode: 0o700 });
  saveConfig(data, { ...defaultConfig(), security: { ...defaultConfig().security, secretStore: 'key-file' } });
  const store = new KeyFileSecretStore(data);
  const log = openAuditLog(data, store, opts);
  for (let i = 1; i <= n; i++) log.appendOrThrow('auth.login-failed', { n: i });
  return { data, store, dir: path.join(data, AUDIT_DIR) };
}

const space = async () => ({ free: 50 * 2 ** 30, total: 100 * 2 ** 30 });

test('#11.7: the whole audit/ folder deleted is BROKEN (not "OK: 0 entries"), and the next entries keep the gap visible', async () => {
  const { data, store, dir } = dataWithLog(5);
  assert.equal(checkAuditTrail(data, store).ok, true);
  fs.rmSync(dir, { recursive: true });
  const r = checkAuditTrail(data, store);
  assert.equal(r.ok, false);
  assert.match(r.firstBroken!.reason, /audit log is gone: the key store records 5 entries/);
  // The CLI says so with exit 1.
  const cli = await runOwlet(['audit', 'verify', '--data-dir', data], { timeoutMs: 30_000 });
  assert.equal(cli.code, 1);
  assert.match(cli.stdout, /BROKEN/);
  assert.doesNotMatch(cli.stdout, /OK: 0 entries/);
  // A service that starts now continues after the anchor instead of starting a fresh chain at 1.
  openAuditLog(data, store).appendOrThrow('service.start', {});
  const after = checkAuditTrail(data, store);
  assert.equal(after.ok, false);
  assert.match(after.firstBroken!.reason, /entries 1–5 are missing/);
});

test('#11.7: log and head deleted together, or cut off the end with a matching forged-free head, are caught by the anchor', () => {
  const { data, store, dir } = dataWithLog(6, { maxFileBytes: 400 });
  // Remove the newest file and rewrite nothing else: head.json now points past the log.
  for (const f of listAuditFiles(dir).slice(-1)) fs.rmSync(path.join(dir, f));
  fs.rmSync(path.join(dir, 'head.json'));
  const r = checkAuditTrail(data, store);
  assert.equal(r.ok, false);
  assert.match(r.firstBroken!.reason, /truncated: it ends at entry \d+, the key store records entry 6/);
});

test('#11.7: "key present, log missing" and "log present, key missing" are both broken; doctor fails its audit check', async () => {
  // Key present, no log, no anchor (an audit folder emptied before anchoring existed).
  const a = dataWithLog(3);
  fs.rmSync(a.dir, { recursive: true });
  secretAnchorStore(a.store).set(Buffer.from('')); // no usable anchor
  fs.rmSync(path.join(a.data, 'keys', 'audit-anchor.key'), { force: true });
  assert.match(checkAuditTrail(a.data, a.store).firstBroken!.reason, /audit key exists .* but the audit log is gone/);
  // Log present, key deleted.
  const b = dataWithLog(3);
  b.store.delete('audit-key');
  const rb = checkAuditTrail(b.data, b.store);
  assert.equal(rb.ok, false);
  assert.match(rb.firstBroken!.reason, /audit key is missing/);
  const doc = await runDoctor(b.data, { fix: false }, { space });
  const check = doc.checks.find((c) => c.id === 'audit');
  assert.equal(check?.status, 'failed', 'doctor no longer says ok');
  assert.match(check!.message, /audit key is missing/);
  // An intact trail is ok in doctor too.
  const c = dataWithLog(2);
  assert.equal((await runDoctor(c.data, { fix: false }, { space })).checks.find((x) => x.id === 'audit')?.status, 'ok');
});

test('#11.7: a forged anchor (altered in the key store) is detected', () => {
  const { data, store } = dataWithLog(3);
  const v = JSON.parse(store.get('audit-anchor')!.toString('utf8'));
  store.set('audit-anchor', Buffer.from(JSON.stringify({ ...v, seq: 1 })));
  assert.match(checkAuditTrail(data, store).firstBroken!.reason, /anchor in the key store was altered/);
});

test('#11.8: retention keeps a bounded number of files and the chain stays verifiable through a signed checkpoint', () => {
  const { data, store, dir } = dataWithLog(400, { maxFileBytes: 2000, keepFiles: 3 });
  const files = listAuditFiles(dir);
  assert.ok(files.length <= 4, `at most keepFiles (+ the one being written): ${files.length}`);
  assert.ok(fs.existsSync(path.join(dir, CHECKPOINT_FILE)));
  const r = checkAuditTrail(data, store);
  assert.equal(r.ok, true, JSON.stringify(r.firstBroken));
  assert.equal(r.lastSeq, 400);
  assert.ok(r.entries < 400, 'the pruned entries are gone');
  // The checkpoint cannot be forged or dropped to hide more deletions.
  const cpFile = path.join(dir, CHECKPOINT_FILE);
  const cp = JSON.parse(fs.readFileSync(cpFile, 'utf8'));
  fs.writeFileSync(cpFile, JSON.stringify({ ...cp, seq: cp.seq + 5 }));
  assert.match(checkAuditTrail(data, store).firstBroken!.reason, /checkpoint\.json was altered/);
  fs.writeFileSync(cpFile, JSON.stringify(cp));
  fs.rmSync(path.join(dir, listAuditFiles(dir)[0]!));
  assert.equal(checkAuditTrail(data, store).ok, false, 'deleting the oldest kept file is still a break');
  fs.rmSync(cpFile);
  assert.match(verifyAuditLog(dir, store.get('audit-key')!).firstBroken!.reason, /missing/, 'no checkpoint: the cut shows');
});
