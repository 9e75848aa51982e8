import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchSupervisor } from '../../../src/indexer/host/supervisor-launcher.js';
import { layoutOf } from '../../../src/indexer/update/layout.js';
import { tmpDir } from '../../helpers/tmp.js';
import { isAlive, waitFor, within } from './helpers.js';

/**
 * The installed launcher moves the service from one supervisor to the next (an update, a
 * rollback). Real child processes run test/fixtures/fake-supervisor.mjs from fake install trees.
 */

const FAKE = fileURLToPath(new URL('../../fixtures/fake-supervisor.mjs', import.meta.url));

/** A tree as a release unpacks it, whose bin/owlet.js is the fake supervisor configured by `fake`. */
function tree(dir: string, fake: Record<string, unknown>): string {
  fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');
  fs.writeFileSync(path.join(dir, 'bin', 'owlet.js'), `import ${JSON.stringify(FAKE)};\n`);
  fs.writeFileSync(path.join(dir, 'fake.json'), JSON.stringify(fake));
  return dir;
}

/** An installation whose current supervisor (1.0.0) moves to 2.0.0, whose standby says it is `reports`. */
function moveTo2(reports: string) {
  const prefix = tmpDir('owlet-prefix-');
  const dataDir = tmpDir('owlet-data-');
  const layout = layoutOf(prefix);
  const v2 = tree(path.join(layout.versionsDir, '2.0.0'), { version: '2.0.0', reports });
  tree(path.join(layout.versionsDir, '1.0.0'), { version: '1.0.0', moveTo: { version: '2.0.0', root: v2 } });
  fs.symlinkSync(path.join(layout.versionsDir, '1.0.0'), layout.current);
  const events = () =>
    fs.existsSync(path.join(dataDir, 'events.log'))
      ? fs.readFileSync(path.join(dataDir, 'events.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { ev: string; pid: number; tree: string; standbyVersion?: string; version?: string })
      : [];
  const out: string[] = [];
  const run = () => within(launchSupervisor({ layout, dataDir, out: (l) => out.push(l), signals: new EventEmitter() as never }), 20_000, 'the launcher');
  return { run, events, out };
}

test('a standby that reports the expected version is told to go, and the move needs no cold start', async () => {
  const m = moveTo2('2.0.0');
  assert.equal(await m.run(), 0);
  const ev = m.events();
  assert.deepEqual(ev.find((e) => e.ev === 'proceed')?.standbyVersion, '2.0.0', 'the old supervisor hears the standby loaded');
  assert.deepEqual(ev.filter((e) => e.ev === 'go').map((e) => [e.tree, e.version]), [['2.0.0', '2.0.0']]);
  assert.ok(!ev.some((e) => e.ev === 'cold'), m.out.join('\n'));
});

test('a standby that reports another version is stopped, never told to go; the old supervisor hears none loaded and the move starts cold', async () => {
  const m = moveTo2('9.9.9');
  assert.equal(await m.run(), 0);
  const ev = m.events();
  const standby = ev.find((e) => e.ev === 'standby');
  assert.ok(standby, 'the standby was started and reported');
  assert.deepEqual(ev.filter((e) => e.ev === 'go'), [], 'the wrong version never gets the service');
  const proceed = ev.find((e) => e.ev === 'proceed');
  assert.ok(proceed, 'the old supervisor was told to proceed');
  assert.equal(proceed.standbyVersion, undefined, 'as if no standby had loaded: the update falls back');
  assert.ok(ev.some((e) => e.ev === 'cold'), `the next supervisor starts cold from current\n${m.out.join('\n')}`);
  await waitFor(() => !isAlive(standby.pid), 5_000, 'the wrong standby to be gone');
});
