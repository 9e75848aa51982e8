import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { tmpDir } from '../../helpers/tmp.js';
import { runOwlet } from '../../helpers/cli.js';
import { FileAuditLog, HEAD_FILE, listAuditFiles, openAuditLog, verifyAuditLog, type AuditVerifyResult } from '../../../src/indexer/audit/log.js';
import { KeyFileSecretStore } from '../../../src/indexer/security/key-file.js';

const KEY = randomBytes(32);

/** A log of `n` entries spread over several files (small rotation size). */
function makeLog(n = 12): string {
  const dir = path.join(tmpDir('owlet-audit-'), 'audit');
  let t = Date.parse('2025-01-01T00:00:00Z');
  const log = new FileAuditLog({ dir, key: KEY, maxFileBytes: 700, now: () => (t += 1000) });
  for (let i = 1; i <= n; i++) log.append(i % 2 ? 'auth.login-failed' : 'service.start', { n: i, ip: '127.0.0.1' });
  return dir;
}

/** All lines of the log in order, with the file each came from. */
function lines(dir: string): { file: string; text: string }[] {
  return listAuditFiles(dir).flatMap((f) =>
    fs.readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean).map((text) => ({ file: f, text })),
  );
}

function rewrite(dir: string, all: { file: string; text: string }[]): void {
  for (const f of listAuditFiles(dir)) fs.writeFileSync(path.join(dir, f), '');
  for (const l of all) fs.appendFileSync(path.join(dir, l.file), l.text + '\n');
}

function brokenAt(r: AuditVerifyResult): { seq: number | null; expected: number; reason: string } {
  assert.equal(r.ok, false, 'tampering detected');
  return { seq: r.firstBroken!.seq, expected: r.firstBroken!.expectedSeq, reason: r.firstBroken!.reason };
}

test('an intact log verifies, across rotated files', () => {
  const dir = makeLog(12);
  const files = listAuditFiles(dir);
  assert.ok(files.length >= 3, `rotated into ${files.length} files`);
  const r = verifyAuditLog(dir, KEY);
  assert.deepEqual(r, { ok: true, entries: 12, files: files.length, lastSeq: 12, firstBroken: null });
  for (const f of [...files, HEAD_FILE]) assert.equal(fs.statSync(path.join(dir, f)).mode & 0o777, 0o600, f);
  assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
  assert.equal(verifyAuditLog(dir, randomBytes(32)).ok, false, 'another key does not verify it');
});

test('an edited entry is reported at that entry', () => {
  const dir = makeLog();
  const all = lines(dir);
  all[4] = { ...all[4]!, text: all[4]!.text.replace('"ip":"127.0.0.1"', '"ip":"10.0.0.9"') };
  rewrite(dir, all);
  const b = brokenAt(verifyAuditLog(dir, KEY));
  assert.equal(b.seq, 5);
  assert.match(b.reason, /entry 5 was altered/);
});

test('a deleted entry is reported where it is missing', () => {
  const dir = makeLog();
  const all = lines(dir);
  all.splice(6, 1); // entry 7
  rewrite(dir, all);
  const b = brokenAt(verifyAuditLog(dir, KEY));
  assert.deepEqual([b.seq, b.expected], [8, 7]);
  assert.match(b.reason, /entry 7 is missing/);
});

test('an inserted entry (a copy of a genuine one, or a forged one) is reported at the insertion', () => {
  const dir = makeLog();
  const all = lines(dir);
  all.splice(3, 0, all[1]!); // replay entry 2 after entry 3
  rewrite(dir, all);
  const b = brokenAt(verifyAuditLog(dir, KEY));
  assert.deepEqual([b.seq, b.expected], [2, 4]);
  assert.match(b.reason, /out of order or twice/);

  const dir2 = makeLog();
  const all2 = lines(dir2);
  const forged = JSON.parse(all2[2]!.text);
  all2.splice(3, 0, { file: all2[2]!.file, text: JSON.stringify({ ...forged, seq: 4, event: 'backup.restored', prev: forged.mac, mac: 'x'.repeat(43) }) });
  rewrite(dir2, all2);
  const b2 = brokenAt(verifyAuditLog(dir2, KEY));
  assert.equal(b2.seq, 4);
  assert.match(b2.reason, /altered or not written by Owlet/);
});

test('reordered entries are reported at the first one out of place', () => {
  const dir = makeLog();
  const all = lines(dir);
  // Entries 9 and 10 change places (each position keeps its file).
  [all[8], all[9]] = [{ ...all[8]!, text: all[9]!.text }, { ...all[9]!, text: all[8]!.text }];
  rewrite(dir, all);
  const b = brokenAt(verifyAuditLog(dir, KEY));
  assert.deepEqual([b.seq, b.expected], [10, 9]);
});

test('a truncated log (entries cut off the end) is detected through the head', () => {
  const dir = makeLog();
  const all = lines(dir);
  rewrite(dir, all.slice(0, 10));
  const b = brokenAt(verifyAuditLog(dir, KEY));
  assert.match(b.reason, /truncated: entries 11–12 are missing/);
  // Deleting the newest file entirely is truncation too.
  const dir2 = makeLog();
  fs.rmSync(path.join(dir2, listAuditFiles(dir2).at(-1)!));
  assert.match(brokenAt(verifyAuditLog(dir2, KEY)).reason, /truncated/);
  // …and so is removing or forging the head.
  const dir3 = makeLog();
  fs.rmSync(path.join(dir3, HEAD_FILE));
  assert.match(brokenAt(verifyAuditLog(dir3, KEY)).reason, /head\.json is missing/);
  const dir4 = makeLog();
  const head = JSON.parse(fs.readFileSync(path.join(dir4, HEAD_FILE), 'utf8'));
  fs.writeFileSync(path.join(dir4, HEAD_FILE), JSON.stringify({ ...head, seq: 10 }));
  assert.match(brokenAt(verifyAuditLog(dir4, KEY)).reason, /head\.json was altered/);
});

test('deleting a whole file in the middle breaks the chain at the next file', () => {
  const dir = makeLog();
  const files = listAuditFiles(dir);
  const firstOfThird = JSON.parse(fs.readFileSync(path.join(dir, files[2]!), 'utf8').split('\n')[0]!).seq as number;
  fs.rmSync(path.join(dir, files[1]!));
  const b = brokenAt(verifyAuditLog(dir, KEY));
  assert.equal(b.seq, firstOfThird);
  assert.match(b.reason, /missing/);
});

test('appending after truncation keeps the gap visible; a torn last line (crash mid-write) is repaired', () => {
  const dir = makeLog();
  rewrite(dir, lines(dir).slice(0, 10));
  new FileAuditLog({ dir, key: KEY, maxFileBytes: 700 }).append('service.start');
  const b = brokenAt(verifyAuditLog(dir, KEY));
  assert.match(b.reason, /entries 11–12 are missing/, 'new entries do not paper over the cut');

  const dir2 = makeLog(5);
  const last = path.join(dir2, listAuditFiles(dir2).at(-1)!);
  fs.appendFileSync(last, '{"seq":6,"ts":"2025-');
  assert.match(brokenAt(verifyAuditLog(dir2, KEY)).reason, /incomplete/);
  new FileAuditLog({ dir: dir2, key: KEY }).append('service.stop');
  const r = verifyAuditLog(dir2, KEY);
  assert.equal(r.ok, true, JSON.stringify(r.firstBroken));
  assert.equal(r.entries, 6);
});

test('a head one entry behind (crash between entry and head) is accepted', () => {
  const dir = makeLog(5);
  const oldHead = fs.readFileSync(path.join(dir, HEAD_FILE));
  new FileAuditLog({ dir, key: KEY }).append('service.stop');
  fs.writeFileSync(path.join(dir, HEAD_FILE), oldHead);
  assert.equal(verifyAuditLog(dir, KEY).ok, true);
});

test('concurrent appenders (several processes) keep one chain', async () => {
  const data = tmpDir('owlet-data-');
  const store = new KeyFileSecretStore(data);
  openAuditLog(data, store).append('service.start');
  const { spawn } = await import('node:child_process');
  const script = `
    import { openAuditLog } from ${JSON.stringify(path.resolve('src/indexer/audit/log.ts'))};
    import { KeyFileSecretStore } from ${JSON.stringify(path.resolve('src/indexer/security/key-file.ts'))};
    const log = openAuditLog(process.argv[1], new KeyFileSecretStore(process.argv[1]), { onError: (e) => { console.error(e); process.exit(3); } });
    for (let i = 0; i < 25; i++) log.append('config.changed', { i, pid: process.pid });
  `;
  const runs = [0, 1, 2].map(
    () =>
      new Promise<number | null>((resolve) => {
        const c = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, data], { stdio: ['ignore', 'inherit', 'inherit'] });
        const timer = setTimeout(() => c.kill('SIGKILL'), 30_000);
        c.on('exit', (code) => {
          clearTimeout(timer);
          resolve(code);
        });
      }),
  );
  assert.deepEqual(await Promise.all(runs), [0, 0, 0]);
  const r = verifyAuditLog(path.join(data, 'audit'), store.get('audit-key')!);
  assert.equal(r.ok, true, JSON.stringify(r.firstBroken));
  assert.equal(r.entries, 76);
});

test('owlet audit verify: OK with exit 0, the first broken entry with exit 1, --json', async () => {
  const data = tmpDir('owlet-data-');
  const empty = await runOwlet(['audit', 'verify', '--data-dir', data], { timeoutMs: 20_000 });
  assert.equal(empty.code, 0, empty.stderr);
  assert.match(empty.stdout, /OK: 0 entries/);
  const store = new KeyFileSecretStore(data);
  fs.writeFileSync(path.join(data, 'config.json'), JSON.stringify({ security: { secretStore: 'key-file' } }));
  const log = openAuditLog(data, store);
  for (let i = 0; i < 4; i++) log.append('auth.login', { i });
  const ok = await runOwlet(['audit', 'verify', '--data-dir', data], { timeoutMs: 20_000 });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^OK: 4 entries in 1 file, chain and head intact\./);
  const file = path.join(data, 'audit', listAuditFiles(path.join(data, 'audit'))[0]!);
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"i":2', '"i":7'));
  const bad = await runOwlet(['audit', 'verify', '--data-dir', data], { timeoutMs: 20_000 });
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /BROKEN at audit-000001\.jsonl line 3 \(entry 3\): entry 3 was altered/);
  const json = await runOwlet(['audit', 'verify', '--json', '--data-dir', data], { timeoutMs: 20_000 });
  assert.equal(json.code, 1);
  assert.equal(JSON.parse(json.stdout).firstBroken.seq, 3);
});
