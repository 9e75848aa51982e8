// electron-log for main (#13), with the real electron-log file transport (`electron-log/node` is
// the same transport as `electron-log/main`, which needs the Electron binary): the same JSON lines
// and the same rotation as logs/service.log, and the service's forwarded records written through it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import electronLog from 'electron-log/node';
import { createMainLogger, type ElectronLogLike } from '../../src/main/logging.js';
import { tmpDir } from '../helpers/tmp.js';

function freshElectronLog(id: string): ElectronLogLike {
  return (electronLog as unknown as { create(o: { logId: string }): ElectronLogLike }).create({ logId: id });
}

test('main.log holds one JSON object per line with the service log\'s fields, private, with document text redacted', () => {
  const dir = tmpDir('owlet-mainlog-');
  const log = createMainLogger(freshElectronLog('fields'), { dir });
  log.info('tray ready', { level0: 1, port: 4321 });
  log.child('service').warn('alert firing: disk low', { childPid: 77, snippet: 'secret document words' });
  log.error('boom', { code: 'OWL_ERR_X' });
  const file = path.join(dir, 'main.log');
  const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
  assert.equal(lines.length, 3);
  const recs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(recs.map((r) => [r.level, r.component, r.msg]), [
    ['info', 'main', 'tray ready'],
    ['warn', 'service', 'alert firing: disk low'],
    ['error', 'main', 'boom'],
  ]);
  for (const r of recs) {
    assert.match(String(r.time), /^\d{4}-\d\d-\d\dT/);
    assert.equal(r.pid, process.pid);
  }
  assert.equal(recs[1]!.childPid, 77);
  assert.ok(!lines[1]!.includes('secret document words'), 'document text never reaches the log');
  assert.equal(fs.statSync(file).mode & 0o077, 0, 'readable by the user only');
});

test('main.log rotates by size into main.log.1 … main.log.N like service.log, never more files', () => {
  const dir = tmpDir('owlet-mainlog-rot-');
  const log = createMainLogger(freshElectronLog('rotation'), { dir, maxBytes: 2048, maxFiles: 3 });
  for (let i = 0; i < 200; i++) log.info('line', { i, pad: 'x'.repeat(60) });
  const files = fs.readdirSync(dir).sort();
  assert.deepEqual(files, ['main.log', 'main.log.1', 'main.log.2', 'main.log.3']);
  for (const f of files) {
    assert.ok(fs.statSync(path.join(dir, f)).size <= 2048 + 200, `${f} stays near the limit`);
    for (const l of fs.readFileSync(path.join(dir, f), 'utf8').trimEnd().split('\n')) JSON.parse(l);
  }
  // The newest lines are in main.log, the one before in main.log.1.
  const last = (f: string) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8').trimEnd().split('\n').at(-1)!).i as number;
  assert.equal(last('main.log'), 199);
  assert.ok(last('main.log.1') < last('main.log') && last('main.log.2') < last('main.log.1'));
});

test('the service\'s forwarded records, its start-up error and its raw stderr reach main.log through electron-log', async () => {
  const { EventEmitter } = await import('node:events');
  const { PassThrough } = await import('node:stream');
  const { createAppIndexerHost } = await import('../../src/main/app-host.js');
  const dir = tmpDir('owlet-mainlog-fwd-');
  const data = tmpDir('owlet-mainlog-data-');
  const log = createMainLogger(freshElectronLog('forward'), { dir });
  const child = Object.assign(new EventEmitter(), { pid: 4321, stdout: new PassThrough(), stderr: new PassThrough(), postMessage: (m: { type: string }) => {
    if (m.type !== 'key') return;
    setImmediate(() => {
      child.stderr.write('Error: Cannot find module better_sqlite3.node\n');
      child.emit('message', { type: 'log', record: { time: '2026-12-02T10:00:00.000Z', level: 'error', component: 'service', msg: 'start-up failed', fields: { code: 'OWL_ERR_DB_OPEN' } } });
      child.emit('message', { type: 'fatal', kind: 'config', phase: 'startup', error: { code: 'OWL_ERR_DB_OPEN', message: 'the index cannot be opened' } });
      child.emit('exit', 78);
    });
  }, kill: () => {} });
  const host = createAppIndexerHost({
    dataDir: data,
    entry: { modulePath: '/app/entry.js' },
    utilityProcess: { fork: () => child as never },
    safeStorage: { isEncryptionAvailable: () => true, encryptString: (s: string) => Buffer.from(s), decryptString: (b: Buffer) => b.toString(), getSelectedStorageBackend: () => 'gnome_libsecret' } as never,
    log,
  });
  host.start();
  const deadline = Date.now() + 10_000;
  const read = () => (fs.existsSync(path.join(dir, 'main.log')) ? fs.readFileSync(path.join(dir, 'main.log'), 'utf8') : '');
  while (!/"msg":"start-up failed"/.test(read()) || !/Cannot find module/.test(read()) || host.state !== 'failed') {
    if (Date.now() > deadline) assert.fail(`main.log lacks the forwarded lines; state ${host.state}:\n${read()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const recs = read().trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const fwd = recs.find((r) => r.msg === 'start-up failed')!;
  assert.deepEqual([fwd.level, fwd.component, fwd.childPid, fwd.code, fwd.childTime], ['error', 'service', 4321, 'OWL_ERR_DB_OPEN', '2026-12-02T10:00:00.000Z']);
  const raw = recs.find((r) => String(r.msg).includes('Cannot find module'))!;
  assert.equal(raw.level, 'warn');
  assert.equal(raw.childComponent, 'service-stderr');
  assert.match(String(recs.find((r) => r.msg === 'supervisor failed')?.message), /the index cannot be opened/);
  await host.stop('test');
});
