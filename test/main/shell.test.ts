import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { utilityServiceLauncher, type UtilityProcessApi } from '../../src/main/utility-launcher.js';
import { SERVICE_MALLOC_TUNABLES } from '../../src/indexer/host/launcher.js';
import { WINDOW_OPTIONS, dashboardWindowOptions, isAllowedUrl, lockNavigation } from '../../src/main/window.js';
import { trayView } from '../../src/main/tray-state.js';
import type { StatusReport } from '../../src/shared/api.js';

/** The Electron glue, exercised with small fakes (the Electron binary is not available here). */

class FakeUtility extends EventEmitter {
  pid = 4242;
  sent: unknown[] = [];
  killed = false;
  postMessage(m: unknown) {
    this.sent.push(m);
  }
  kill() {
    this.killed = true;
    return true;
  }
}

test('the utilityProcess launcher adapts Electron\'s child to the supervisor\'s ChildHandle with a scrubbed environment', async () => {
  const forks: { modulePath: string; args?: string[]; options?: { env?: NodeJS.ProcessEnv; serviceName?: string } }[] = [];
  const child = new FakeUtility();
  const api = {
    fork(modulePath: string, args?: string[], options?: { env?: NodeJS.ProcessEnv }) {
      forks.push({ modulePath, args, options });
      return child;
    },
  } as unknown as UtilityProcessApi;
  const handle = utilityServiceLauncher(api, { env: { PATH: '/bin', AWS_SECRET_ACCESS_KEY: 'x', NODE_OPTIONS: '--inspect' } })({ modulePath: '/app/entry.js', args: ['serve'], execArgv: [] });
  assert.equal(forks[0]!.modulePath, '/app/entry.js');
  assert.deepEqual(forks[0]!.args, ['serve']);
  assert.deepEqual(forks[0]!.options!.env, { PATH: '/bin', GLIBC_TUNABLES: SERVICE_MALLOC_TUNABLES }, 'secrets and NODE_OPTIONS never reach the indexer; the service malloc settings do');
  assert.equal(handle.pid, 4242);
  const got: unknown[] = [];
  handle.onMessage((m) => got.push(m));
  child.emit('message', { type: 'ready' });
  assert.deepEqual(got, [{ type: 'ready' }]);
  handle.send({ type: 'ping', seq: 1 });
  assert.deepEqual(child.sent, [{ type: 'ping', seq: 1 }]);
  const exits: unknown[] = [];
  handle.onExit((code, signal) => exits.push([code, signal]));
  child.emit('exit', 9);
  child.emit('exit', 9);
  assert.deepEqual(exits, [[9, null]], 'exit reported exactly once');
  handle.send({ type: 'ping', seq: 2 });
  assert.equal(child.sent.length, 1, 'nothing is sent to a dead child');
  handle.kill();
  assert.equal(child.killed, false);
  const late: unknown[] = [];
  handle.onExit((c) => late.push(c));
  await new Promise((r) => setImmediate(r));
  assert.equal(late.length, 1, 'a listener added after the exit still hears of it');
});

test('the dashboard window has no Node access and cannot navigate away from the service', () => {
  const wp = WINDOW_OPTIONS.webPreferences!;
  assert.equal(wp.contextIsolation, true);
  assert.equal(wp.sandbox, true);
  assert.equal(wp.nodeIntegration, false);
  assert.equal(wp.preload, undefined);
  // The preload is the only addition, and it changes none of the isolation.
  const withPreload = dashboardWindowOptions('/app/dist/main/preload.cjs').webPreferences!;
  assert.deepEqual(withPreload, { ...wp, preload: '/app/dist/main/preload.cjs' });
  const origin = 'http://127.0.0.1:4321';
  assert.ok(isAllowedUrl('http://127.0.0.1:4321/search?q=x', origin));
  assert.ok(!isAllowedUrl('http://127.0.0.1:9999/', origin));
  assert.ok(!isAllowedUrl('https://evil.example/', origin));
  assert.ok(!isAllowedUrl('not a url', origin));
  const handlers = new Map<string, (e: { preventDefault(): void }, url: string) => void>();
  let openHandler: (() => { action: string }) | undefined;
  const contents = {
    on: (ev: string, fn: (e: { preventDefault(): void }, url: string) => void) => handlers.set(ev, fn),
    setWindowOpenHandler: (fn: () => { action: string }) => (openHandler = fn),
  };
  lockNavigation(contents as never, origin);
  let prevented = 0;
  const ev = { preventDefault: () => prevented++ };
  handlers.get('will-navigate')!(ev, 'https://evil.example/');
  handlers.get('will-navigate')!(ev, `${origin}/`);
  handlers.get('will-redirect')!(ev, 'http://localhost:1/');
  assert.equal(prevented, 2);
  assert.deepEqual(openHandler!(), { action: 'deny' });
});

test('the tray shows one colour per service state', () => {
  const base = { state: 'idle', degraded: [], progress: { done: 1, queued: 0 }, counts: { indexed: 10 } } as unknown as StatusReport;
  assert.equal(trayView(null, 'starting').level, 'indexing');
  assert.equal(trayView(null, 'crash-loop').level, 'failed');
  assert.equal(trayView(base, 'running').level, 'ok');
  assert.match(trayView(base, 'running').tooltip, /10 documents/);
  assert.equal(trayView({ ...base, state: 'indexing' }, 'running').level, 'indexing');
  const d = trayView({ ...base, state: 'degraded', degraded: [{ component: 'disk', message: 'disk almost full' }] }, 'running');
  assert.deepEqual(d, { level: 'degraded', tooltip: 'Owlet: disk almost full' });
});
