// The app shell's small parts (#13), against fakes of Electron's app and BrowserWindow: the
// dashboard opener, one instance per user, start at login (on by default, persisted), and quit
// holding the app until the indexer has drained (or the deadline passed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { DashboardOpener, type DashboardWindowLike } from '../../src/main/dashboard.js';
import { claimSingleInstance } from '../../src/main/single-instance.js';
import { autostartEntry, HIDDEN_ARG, LoginItem } from '../../src/main/login-item.js';
import { installQuitDrain } from '../../src/main/quit.js';
import { tmpDir } from '../helpers/tmp.js';

class FakeWindow implements DashboardWindowLike {
  destroyed = false;
  minimized = false;
  calls: string[] = [];
  readonly webContents = new EventEmitter();
  constructor(readonly loginUrl: string) {}
  isDestroyed() {
    return this.destroyed;
  }
  isMinimized() {
    return this.minimized;
  }
  restore() {
    this.minimized = false;
    this.calls.push('restore');
  }
  show() {
    this.calls.push('show');
  }
  focus() {
    this.calls.push('focus');
  }
  async loadURL(url: string) {
    this.calls.push(`load:${url}`);
  }
}

function opener(origin: string | null = 'http://127.0.0.1:4000') {
  const windows: FakeWindow[] = [];
  let links = 0;
  const o = new DashboardOpener({
    create: (url) => (windows.push(new FakeWindow(url)), windows.at(-1)!),
    client: { loginLink: async () => `http://127.0.0.1:4000/login?code=c${++links}` },
    origin: () => origin ?? undefined,
  });
  return { o, windows };
}

test('the dashboard opens once with a sign-in link, then the same window is brought forward', async () => {
  const { o, windows } = opener();
  await o.open();
  assert.equal(windows.length, 1);
  assert.equal(windows[0]!.loginUrl, 'http://127.0.0.1:4000/login?code=c1');
  windows[0]!.minimized = true;
  await o.open('alert=disk-low-1-aa');
  assert.equal(windows.length, 1, 'no second window');
  assert.deepEqual(windows[0]!.calls, ['restore', 'show', 'focus', 'load:http://127.0.0.1:4000/#alert=disk-low-1-aa']);
  // Closed by the user: the next open signs in a new window, and goes to the place asked for once loaded.
  windows[0]!.destroyed = true;
  await o.open('search');
  assert.equal(windows.length, 2);
  assert.equal(windows[1]!.loginUrl, 'http://127.0.0.1:4000/login?code=c2');
  windows[1]!.webContents.emit('did-finish-load');
  assert.deepEqual(windows[1]!.calls, ['load:http://127.0.0.1:4000/#search']);
  await assert.rejects(opener(null).o.open(), /not running yet/);
});

class FakeApp extends EventEmitter {
  lock = true;
  quits = 0;
  exits: number[] = [];
  loginSettings: unknown[] = [];
  requestSingleInstanceLock() {
    return this.lock;
  }
  quit() {
    this.quits++;
    // Electron emits before-quit on quit(); a prevented event stops the quit.
    const e = { prevented: false, preventDefault() {
      this.prevented = true;
    } };
    this.emit('before-quit', e);
    if (!e.prevented) this.emit('quitted');
  }
  exit(code = 0) {
    this.exits.push(code);
  }
  setLoginItemSettings(s: unknown) {
    this.loginSettings.push(s);
  }
}

test('a second launch quits at once and the first instance brings its dashboard forward', () => {
  const first = new FakeApp();
  let focused = 0;
  assert.equal(claimSingleInstance(first, () => focused++), true);
  const second = new FakeApp();
  second.lock = false;
  assert.equal(claimSingleInstance(second, () => assert.fail('the second instance does nothing')), false);
  assert.equal(second.quits, 1, 'the second instance quits');
  // Electron tells the first instance about the second launch.
  first.emit('second-instance', {}, ['owlet'], '/');
  assert.equal(focused, 1);
});

test('start at login is on by default, switched off and on from the menu, and the choice survives a restart', () => {
  const dir = tmpDir('owlet-login-');
  const prefsFile = path.join(dir, 'userData', 'preferences.json');
  const app = new FakeApp();
  const log = { warn: () => {} };
  const item = new LoginItem({ app, prefsFile, platform: 'win32', log });
  assert.equal(item.enabled, true);
  item.apply();
  assert.deepEqual(app.loginSettings, [{ openAtLogin: true, args: [HIDDEN_ARG] }]);
  item.set(false);
  assert.deepEqual(app.loginSettings.at(-1), { openAtLogin: false, args: [HIDDEN_ARG] });
  const again = new LoginItem({ app, prefsFile, platform: 'darwin', log });
  assert.equal(again.enabled, false, 'read back after a restart');
  assert.equal((fs.statSync(prefsFile).mode & 0o077), 0, 'the preferences file is private');

  // A damaged file keeps the default (on) and says so.
  fs.writeFileSync(prefsFile, '{"startAtLogin": "maybe"}');
  const warnings: unknown[] = [];
  assert.equal(new LoginItem({ app, prefsFile, platform: 'win32', log: { warn: (m) => void warnings.push(m) } }).enabled, true);
  assert.equal(warnings.length, 1);
});

test('on Linux, start at login is an XDG autostart entry for the AppImage, removed when switched off', () => {
  const dir = tmpDir('owlet-autostart-');
  const autostartDir = path.join(dir, '.config', 'autostart');
  const exec = '/home/u/Apps/Owlet "beta" $1.AppImage';
  const item = new LoginItem({ app: new FakeApp(), prefsFile: path.join(dir, 'prefs.json'), platform: 'linux', linux: { autostartDir, exec }, log: { warn: () => {} } });
  item.apply();
  const file = path.join(autostartDir, 'owlet.desktop');
  const text = fs.readFileSync(file, 'utf8');
  assert.equal(text, autostartEntry(exec));
  assert.match(text, /^Exec="\/home\/u\/Apps\/Owlet \\"beta\\" \\\$1\.AppImage" --hidden$/m, 'quoted per the desktop entry spec');
  item.set(false);
  assert.equal(fs.existsSync(file), false);
  item.set(true);
  assert.equal(fs.existsSync(file), true);
});

test('quit holds the app until the indexer has drained, then quits once; a stuck drain exits at the deadline', async () => {
  const app = new FakeApp();
  const stops: string[] = [];
  let finishStop: () => void = () => {};
  const logs: string[] = [];
  const log = { info: (m: string) => void logs.push(m), warn: (m: string) => void logs.push(m) };
  let cleaned = 0;
  const q = installQuitDrain({ app, stop: (r) => (stops.push(r), new Promise<void>((res) => (finishStop = res))), deadlineMs: 5_000, beforeDrain: () => cleaned++, log });
  let quitted = 0;
  app.on('quitted', () => quitted++);
  app.quit();
  assert.equal(quitted, 0, 'the first quit is held');
  assert.equal(q.draining, true);
  app.quit(); // the user clicks Quit again while it drains
  assert.deepEqual(stops, ['app quit'], 'one drain');
  assert.equal(cleaned, 1);
  finishStop();
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(quitted, 1, 'quit for real after the drain');
  assert.deepEqual(app.exits, []);
  assert.ok(logs.includes('indexer drained; quitting'));

  const stuck = new FakeApp();
  installQuitDrain({ app: stuck, stop: () => new Promise<void>(() => {}), deadlineMs: 50, log });
  stuck.quit();
  await new Promise((r) => setTimeout(r, 150));
  assert.deepEqual(stuck.exits, [0], 'exited at the deadline');
});

test('kept installers: the newest versions stay for a rollback, older ones are removed, a missing one is null', async () => {
  const { createInstallerStore } = await import('../../src/main/installers.js');
  const dir = tmpDir('owlet-installers-');
  const src = tmpDir('owlet-dl-');
  const ran: string[] = [];
  const store = createInstallerStore({ dir: path.join(dir, 'installers'), run: async (f) => void ran.push(f) });
  for (const v of ['1.0.0', '1.1.0', '1.2.0']) {
    const f = path.join(src, `Owlet-${v}.AppImage`);
    fs.writeFileSync(f, `installer ${v}`);
    store.keep(v, f);
  }
  assert.equal(store.find('1.0.0'), null, 'only the newest two are kept');
  const kept = store.find('1.1.0')!;
  assert.equal(fs.readFileSync(kept, 'utf8'), 'installer 1.1.0');
  assert.equal(store.find('../../etc'), null);
  await store.reinstall(kept);
  assert.deepEqual(ran, [kept]);
  assert.throws(() => store.keep('latest', kept), /not a version/);
});

test('Check for updates tells the user what the signed check found, and a refusal fails the action with its reason', async () => {
  const { checkForUpdatesAction } = await import('../../src/main/update-check.js');
  const base = { currentVersion: '1.0.0', version: null, percent: null, message: null, reason: null };
  const toasts: string[] = [];
  const toast = (t: string, b: string) => void toasts.push(`${t} | ${b}`);
  await checkForUpdatesAction(() => ({ check: async () => ({ ...base, state: 'available' as const, version: '1.1.0' }) }), toast);
  await checkForUpdatesAction(() => ({ check: async () => ({ ...base, state: 'up-to-date' as const }) }), toast);
  assert.deepEqual(toasts, ['Owlet update available | Owlet 1.1.0 can be installed: open Owlet to download it.', 'Owlet is up to date | You have the newest version, 1.0.0.']);
  await assert.rejects(
    checkForUpdatesAction(() => ({ check: async () => ({ ...base, state: 'refused' as const, reason: 'bad-signature', message: 'the manifest signature does not verify' }) }), toast),
    (e: unknown) => (e as Error).message === 'the manifest signature does not verify' && (e as { code: string }).code === 'bad-signature',
  );
  await assert.rejects(
    checkForUpdatesAction(() => {
      throw new Error('cannot read /app/trusted-keys.json');
    }, toast),
    /trusted-keys/,
  );
  assert.equal(toasts.length, 2, 'a refusal is not announced as a result');
});
