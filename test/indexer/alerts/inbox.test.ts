import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { drainEventAlerts, INBOX_FILE, postEventAlert } from '../../../src/indexer/alerts/inbox.js';
import { tmpDir } from '../../helpers/tmp.js';

test('posted event alerts are drained once, in order; the file is private and gone afterwards', () => {
  const data = tmpDir('owlet-inbox-');
  assert.deepEqual(drainEventAlerts(data), [], 'no inbox: nothing');
  postEventAlert(data, { id: 'update-rolled-back', severity: 'warning', message: 'one' });
  postEventAlert(data, { id: 'backup-budget', severity: 'critical', message: 'two', remedy: 'raise backup.maxBytes' });
  if (process.platform !== 'win32') assert.equal(fs.statSync(path.join(data, INBOX_FILE)).mode & 0o077, 0);
  assert.deepEqual(drainEventAlerts(data), [
    { id: 'update-rolled-back', severity: 'warning', message: 'one' },
    { id: 'backup-budget', severity: 'critical', message: 'two', remedy: 'raise backup.maxBytes' },
  ]);
  assert.deepEqual(drainEventAlerts(data), []);
  assert.deepEqual(fs.readdirSync(data), []);
});

test('torn, foreign and malformed lines are skipped; the inbox never grows past its bound', () => {
  const data = tmpDir('owlet-inbox-bad-');
  const file = path.join(data, INBOX_FILE);
  fs.writeFileSync(file, ['{"id":"ok-one","severity":"info","message":"fine"}', '{"id":"../../etc","severity":"info","message":"x"}', '{"id":"x","severity":"fatal","message":"x"}', 'not json', '{"id":"torn","sev'].join('\n'), { mode: 0o600 });
  assert.deepEqual(drainEventAlerts(data), [{ id: 'ok-one', severity: 'info', message: 'fine' }]);
  for (let i = 0; i < 2000; i++) postEventAlert(data, { id: 'backup-failed', severity: 'warning', message: 'x'.repeat(100) });
  assert.ok(fs.statSync(file).size < 70 * 1024, 'bounded');
  assert.ok(drainEventAlerts(data).length > 100);
});

test('a symlink planted at the inbox path is refused, not followed', { skip: process.platform === 'win32' ? 'O_NOFOLLOW is POSIX' : false }, () => {
  const data = tmpDir('owlet-inbox-link-');
  const target = path.join(tmpDir('owlet-inbox-target-'), 'victim');
  fs.writeFileSync(target, 'untouched');
  fs.symlinkSync(target, path.join(data, INBOX_FILE));
  assert.throws(() => postEventAlert(data, { id: 'backup-failed', severity: 'warning', message: 'x' }), /ELOOP|symbolic/);
  assert.equal(fs.readFileSync(target, 'utf8'), 'untouched');
});
