import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { runOwlet } from '../../helpers/cli.js';
import { tmpDir } from '../../helpers/tmp.js';
import { assertPrivateDataDir, inspectDataDir } from '../../../src/indexer/security/data-dir-guard.js';
import { ensureApiToken, readApiToken, TokenSource } from '../../../src/indexer/security/token.js';
import { readServiceInfo, writeServiceInfo } from '../../../src/indexer/service/service-file.js';
import { createRotatingFileSink } from '../../../src/indexer/log/rotating-sink.js';
import { saveConfig, loadConfig } from '../../../src/indexer/config/load.js';
import { defaultConfig } from '../../../src/indexer/config/schema.js';

/**
 * Issue #11 point 3: a data folder someone else controls. Another local user (played here by
 * chown to uid 1000, which needs root; CI runs as root) plants a token, swaps logs/ for a symlink
 * into the victim's shell startup file, or forges service.json to collect the bearer token.
 */

const OTHER = 1000;
const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const needsRoot = asRoot ? false : 'playing "another user" needs root to chown (CI runs as root); the same checks on mode and symlinks are covered below';

function dataDir(): string {
  const d = path.join(tmpDir('owlet-df-'), 'data');
  fs.mkdirSync(d, { mode: 0o700 });
  return d;
}

test('#11.3: serve refuses a data folder owned by another user, naming the path and the fix', { skip: needsRoot }, async () => {
  const data = dataDir();
  fs.chownSync(data, OTHER, OTHER);
  const r = await runOwlet(['serve', '--data-dir', data, '--port', '0'], { timeoutMs: 30_000 });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, new RegExp(`${data.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} belongs to user ${OTHER}`));
  assert.match(r.stderr, /chown -R/);
  assert.equal(fs.existsSync(path.join(data, 'api-token')), false, 'nothing was written into it');
});

test('#11.3: a planted api-token (another user\'s file) is refused by the service and by clients', { skip: needsRoot }, async () => {
  const data = dataDir();
  const planted = path.join(data, 'api-token');
  fs.writeFileSync(planted, 'K'.repeat(43) + '\n', { mode: 0o600 });
  fs.chownSync(planted, OTHER, OTHER);
  const r = await runOwlet(['serve', '--data-dir', data, '--port', '0'], { timeoutMs: 30_000 });
  assert.notEqual(r.code, 0, 'serve does not start with a token it did not write');
  assert.match(r.stderr, /api-token belongs to user 1000/);
  assert.throws(() => readApiToken(data), /belongs to user 1000/);
  assert.throws(() => ensureApiToken(data), /belongs to user 1000/);
});

test('#11.3: a token swapped under a running service for a foreign or symlinked file is not adopted', { skip: needsRoot }, () => {
  const data = dataDir();
  const source = new TokenSource(data);
  const good = source.current();
  const file = path.join(data, 'api-token');
  fs.rmSync(file);
  fs.writeFileSync(file, 'K'.repeat(43) + '\n', { mode: 0o600 });
  fs.chownSync(file, OTHER, OTHER);
  assert.equal(source.current(), good);
  fs.rmSync(file);
  const elsewhere = path.join(path.dirname(data), 'attacker-token');
  fs.writeFileSync(elsewhere, 'L'.repeat(43) + '\n', { mode: 0o600 });
  fs.symlinkSync(elsewhere, file);
  assert.equal(source.current(), good);
});

test('#11.3: a token others could read is replaced, not trusted', () => {
  const data = dataDir();
  const first = ensureApiToken(data);
  fs.chmodSync(path.join(data, 'api-token'), 0o644);
  const second = ensureApiToken(data);
  assert.notEqual(second, first);
  assert.equal(fs.statSync(path.join(data, 'api-token')).mode & 0o777, 0o600);
});

test('#11.3: logs/ replaced by a symlink to ~/.bashrc: serve refuses, and nothing is ever written through the link', async () => {
  const data = dataDir();
  const home = tmpDir('owlet-victim-home-');
  const bashrc = path.join(home, '.bashrc');
  fs.writeFileSync(bashrc, '# victim bashrc\n');
  const attackerDir = tmpDir('owlet-attacker-');
  fs.symlinkSync(bashrc, path.join(attackerDir, 'service.log'));
  fs.symlinkSync(attackerDir, path.join(data, 'logs'));
  const r = await runOwlet(['serve', '--data-dir', data, '--port', '0'], { timeoutMs: 30_000 });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /logs is a symbolic link/);
  assert.match(r.stderr, /Fix: rm /);
  // Requests that would be refused and logged never got a chance; the file is untouched.
  assert.equal(fs.readFileSync(bashrc, 'utf8'), '# victim bashrc\n');
  // The same trick one level down (a real logs/ folder, the log file a symlink) is refused too.
  fs.rmSync(path.join(data, 'logs'));
  fs.mkdirSync(path.join(data, 'logs'), { mode: 0o700 });
  fs.symlinkSync(bashrc, path.join(data, 'logs', 'service.log'));
  assert.throws(() => assertPrivateDataDir(data), /service\.log is a symbolic link/);
  assert.throws(() => createRotatingFileSink({ file: path.join(data, 'logs', 'service.log'), maxBytes: 1e6, maxFiles: 2 }), /ELOOP/);
  assert.equal(fs.readFileSync(bashrc, 'utf8'), '# victim bashrc\n');
});

test('#11.3: a world-writable data folder, a loose subfolder or a symlinked data folder is refused at start', async () => {
  const data = dataDir();
  fs.chmodSync(data, 0o777);
  let r = await runOwlet(['index', '--data-dir', data, '--root', tmpDir()], { timeoutMs: 30_000 });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /is open to other users \(mode 777\).*chmod 700/);
  fs.chmodSync(data, 0o700);
  fs.mkdirSync(path.join(data, 'audit'), { mode: 0o700 });
  fs.chmodSync(path.join(data, 'audit'), 0o755);
  assert.match(inspectDataDir(data).map((p) => p.message).join('\n'), /audit is open to other users \(mode 755\)/);
  r = await runOwlet(['serve', '--data-dir', data, '--port', '0'], { timeoutMs: 30_000 });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /audit is open to other users/);
  fs.chmodSync(path.join(data, 'audit'), 0o700);
  const link = path.join(path.dirname(data), 'link-to-data');
  fs.symlinkSync(data, link);
  r = await runOwlet(['index', '--data-dir', link, '--root', tmpDir()], { timeoutMs: 30_000 });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /link-to-data is a symbolic link/);
  assert.deepEqual(inspectDataDir(data), [], 'the real folder, fixed, is accepted');
});

test('#11.3: a forged service.json never receives the token: owlet open and backup create refuse it', { skip: needsRoot }, async () => {
  const data = dataDir();
  ensureApiToken(data);
  // The attacker's listener on loopback, counting every connection (and any bearer token sent).
  const seen: string[] = [];
  const trap = net.createServer((s) => s.on('data', (d) => seen.push(String(d))));
  await new Promise<void>((r) => trap.listen(0, '127.0.0.1', r));
  const port = (trap.address() as net.AddressInfo).port;
  try {
    const forged = { url: `http://127.0.0.1:${port}`, pid: process.pid, port, version: '9', startedAt: new Date().toISOString() };
    fs.writeFileSync(path.join(data, 'service.json'), JSON.stringify(forged), { mode: 0o600 });
    fs.chownSync(path.join(data, 'service.json'), OTHER, OTHER);
    for (const args of [['open', '--no-browser'], ['backup', 'create'], ['status']]) {
      const r = await runOwlet([...args, '--data-dir', data], { timeoutMs: 30_000 });
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.stderr, /service\.json belongs to user 1000/, args.join(' '));
    }
    // The same file written by us but left writable by others is not trusted either.
    fs.chownSync(path.join(data, 'service.json'), process.getuid!(), process.getgid!());
    fs.chmodSync(path.join(data, 'service.json'), 0o666);
    assert.throws(() => readServiceInfo(data), /^OwletError: no usable Owlet data directory at .*: service\.json is writable by other users \(mode 0?66[46]\), so it is not trusted\. Fix: chmod 600 '/);
    // Nor a service.json pointing anywhere but loopback.
    fs.rmSync(path.join(data, 'service.json'));
    writeServiceInfo(data, { ...forged, url: 'http://192.0.2.1:80' });
    assert.equal(readServiceInfo(data), null);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(seen, [], 'the attacker\'s listener got nothing');
  } finally {
    trap.close();
  }
});

test('#11.3: files are created with O_EXCL under random names: a symlink planted at the old predictable temp name is never followed', () => {
  const data = dataDir();
  const victim = path.join(path.dirname(data), 'victim.txt');
  fs.writeFileSync(victim, 'precious\n');
  for (const name of [`config.json.${process.pid}.tmp`, `service.json.${process.pid}.tmp`]) fs.symlinkSync(victim, path.join(data, name));
  saveConfig(data, { ...defaultConfig(), roots: ['/r'] });
  writeServiceInfo(data, { url: 'http://127.0.0.1:1', pid: process.pid, port: 1, version: 'x', startedAt: 'now' });
  assert.equal(fs.readFileSync(victim, 'utf8'), 'precious\n');
  assert.deepEqual(loadConfig(data).roots, ['/r']);
  // And a config.json that is itself a symlink is not read through.
  fs.rmSync(path.join(data, 'config.json'));
  fs.symlinkSync(victim, path.join(data, 'config.json'));
  assert.throws(() => loadConfig(data), /symbolic link/);
});
