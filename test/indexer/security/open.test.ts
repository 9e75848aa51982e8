import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { spawn } from 'node:child_process';
import { hasDisplay, systemBrowserLauncher } from '../../../src/indexer/cli/commands/open-login.js';

/** A spawn stand-in: records the command and then reports either 'spawn' or an error. */
function fakeSpawn(outcome: 'spawn' | 'error', calls: string[][]): typeof spawn {
  return ((cmd: string, args: string[]) => {
    calls.push([cmd, ...args]);
    const child = Object.assign(new EventEmitter(), { unref: () => {} });
    setImmediate(() => (outcome === 'spawn' ? child.emit('spawn') : child.emit('error', new Error('ENOENT'))));
    return child;
  }) as unknown as typeof spawn;
}

test('owlet open: the browser is opened only where a display exists, and a failure never fails the command', async () => {
  assert.equal(hasDisplay('linux', {}), false);
  assert.equal(hasDisplay('linux', { WAYLAND_DISPLAY: 'wayland-0' }), true);
  assert.equal(hasDisplay('darwin', {}), true);
  const url = 'http://127.0.0.1:1/login?code=x';
  const calls: string[][] = [];
  assert.equal(await systemBrowserLauncher('linux', {}, fakeSpawn('spawn', calls))(url), false, 'headless: only printed');
  assert.deepEqual(calls, []);
  assert.equal(await systemBrowserLauncher('linux', { DISPLAY: ':0' }, fakeSpawn('spawn', calls))(url), true);
  assert.equal(await systemBrowserLauncher('linux', { DISPLAY: ':0' }, fakeSpawn('error', calls))(url), false, 'no xdg-open: false, no throw');
  assert.equal(await systemBrowserLauncher('darwin', {}, fakeSpawn('spawn', calls))(url), true);
  assert.equal(await systemBrowserLauncher('win32', {}, fakeSpawn('spawn', calls))(url), true);
  assert.deepEqual(calls, [['xdg-open', url], ['xdg-open', url], ['open', url], ['cmd', '/c', 'start', '""', url]]);
});
