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
