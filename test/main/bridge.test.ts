// window.owlet (#13): the preload exposes exactly pickFolder/openPath/showInFolder, and main
// refuses a foreign sender and any path the service does not vouch for as a document of the index.
// ipcMain, dialog, shell and the window are fakes; the service is real HTTP on 127.0.0.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Module, { createRequire } from 'node:module';
import { registerBridge, registerUpdateBridge, type CardUpdater, type IpcEventLike } from '../../src/main/bridge-main.js';
import type { UpdateCardView } from '../../src/shared/api.js';
import { createServiceClient } from '../../src/main/service-client.js';
import { BRIDGE_CHANNELS } from '../../src/shared/bridge.js';
import { startFakeService, TOKEN, type FakeService } from './fake-service.js';

function setup(svc: FakeService) {
  const registered = new Map<string, (e: IpcEventLike, ...a: unknown[]) => unknown>();
  const mainFrame = { url: `${svc.url}/`, processId: 4, routingId: 1 };
  const win = { webContents: { mainFrame } };
  const opened: string[] = [];
  const shown: string[] = [];
  const warnings: Record<string, unknown>[] = [];
  let dialogAnswer = { canceled: false, filePaths: ['/home/u/Documents'] };
  const handlers = registerBridge({
    ipcMain: { handle: (ch, l) => void registered.set(ch, l) },
    window: () => win,
    serviceOrigin: () => svc.url,
    client: createServiceClient({ baseUrl: () => svc.url, token: () => TOKEN }),
    dialog: { showOpenDialog: async () => dialogAnswer },
    shell: { openPath: async (p) => (opened.push(p), ''), showItemInFolder: (p) => void shown.push(p) },
    log: { warn: (msg, fields) => void warnings.push({ msg, ...fields }) },
  });
  const fromPage: IpcEventLike = { sender: win.webContents, senderFrame: mainFrame };
  return { registered, handlers, win, mainFrame, opened, shown, warnings, fromPage, setDialog: (a: typeof dialogAnswer) => (dialogAnswer = a) };
}

test('main registers exactly the bridge channels: three for files and five for the Updates card (the sixth is main → page)', async () => {
  const svc = await startFakeService();
  try {
    const { registered } = setup(svc);
    registerUpdateBridge({ ipcMain: { handle: (ch, l) => void registered.set(ch, l as never) }, window: () => null, serviceOrigin: () => svc.url, updater: () => ({ unavailable: 'dev' }), version: '1.0.0', log: { warn: () => {} } });
    assert.deepEqual([...registered.keys()].sort(), Object.values(BRIDGE_CHANNELS).filter((c) => c !== BRIDGE_CHANNELS.updateChanged).sort());
  } finally {
    await svc.close();
  }
});

test('openPath and showInFolder act only on a document the service vouches for', async () => {
  const svc = await startFakeService();
  try {
    const { handlers, opened, shown, fromPage, warnings } = setup(svc);
    svc.documents.add('/home/u/Documents/report.pdf');
    assert.deepEqual(await handlers.openPath(fromPage, '/home/u/Documents/report.pdf'), { ok: true });
    assert.deepEqual(await handlers.showInFolder(fromPage, '/home/u/Documents/report.pdf'), { ok: true });
    assert.deepEqual(opened, ['/home/u/Documents/report.pdf']);
    assert.deepEqual(shown, ['/home/u/Documents/report.pdf']);
    const check = svc.seen.find((r) => r.url.startsWith('/api/v1/preview'))!;
    assert.equal(check.auth, `Bearer ${TOKEN}`, 'main asks with its own token');

    for (const bad of ['/usr/bin/gnome-terminal', '/home/u/.bashrc', 'relative.pdf', '', 42, null, 'x'.repeat(5000)]) {
      const r = await handlers.openPath(fromPage, bad);
      assert.equal(r.ok, false, String(bad));
      const s = await handlers.showInFolder(fromPage, bad);
      assert.equal(s.ok, false, String(bad));
    }
    assert.deepEqual(opened, ['/home/u/Documents/report.pdf'], 'nothing else was opened');
    assert.deepEqual(shown, ['/home/u/Documents/report.pdf']);
    const r = await handlers.openPath(fromPage, '/usr/bin/gnome-terminal');
    assert.deepEqual(r, { ok: false, code: 'OWL_ERR_NOT_FOUND', message: 'not a document of the index: path: no such indexed document' });
    assert.ok(warnings.length > 0 && warnings.every((w) => !JSON.stringify(w).includes('gnome-terminal')), 'refusals are logged without the path');
  } finally {
    await svc.close();
  }
});

test('a foreign sender, a frame inside the page, or a page of another origin is refused before the service is asked', async () => {
  const svc = await startFakeService();
  try {
    const { handlers, opened, win, mainFrame } = setup(svc);
    svc.documents.add('/home/u/a.txt');
    const otherWindow = { mainFrame: { url: `${svc.url}/` } };
    const cases: [string, IpcEventLike][] = [
      ['another window', { sender: otherWindow, senderFrame: otherWindow.mainFrame }],
      ['an iframe', { sender: win.webContents, senderFrame: { url: `${svc.url}/`, processId: 4, routingId: 7 } }],
      ['a frame of another renderer', { sender: win.webContents, senderFrame: { url: `${svc.url}/`, processId: 9, routingId: 1 } }],
      ['no frame', { sender: win.webContents, senderFrame: null }],
    ];
    for (const [what, ev] of cases) {
      const r = await handlers.openPath(ev, '/home/u/a.txt');
      assert.equal(r.ok, false, what);
      assert.equal((r as { code: string }).code, 'OWL_ERR_BRIDGE_SENDER', what);
      assert.equal(await handlers.pickFolder(ev), null, `${what}: no folder dialog`);
    }
    // The window navigated away from the service (the navigation lock failing, say).
    mainFrame.url = 'https://evil.example/';
    const r = await handlers.showInFolder({ sender: win.webContents, senderFrame: mainFrame }, '/home/u/a.txt');
    assert.equal((r as { code: string }).code, 'OWL_ERR_BRIDGE_SENDER');
    assert.deepEqual(opened, []);
    assert.equal(svc.seen.filter((x) => x.url.startsWith('/api/v1/preview')).length, 0, 'the service was never asked');
  } finally {
    await svc.close();
  }
});

test('the main frame is recognised by identity or by its process and routing ids (Electron may hand out a new WebFrameMain object)', async () => {
  const svc = await startFakeService();
  try {
    const { handlers, win, opened } = setup(svc);
    svc.documents.add('/home/u/a.txt');
    const sameFrameNewObject = { url: `${svc.url}/`, processId: 4, routingId: 1 };
    assert.deepEqual(await handlers.openPath({ sender: win.webContents, senderFrame: sameFrameNewObject }, '/home/u/a.txt'), { ok: true });
    assert.deepEqual(opened, ['/home/u/a.txt']);
  } finally {
    await svc.close();
  }
});

test('pickFolder shows the native folder dialog and answers null when cancelled', async () => {
  const svc = await startFakeService();
  try {
    const { handlers, fromPage, setDialog } = setup(svc);
    assert.equal(await handlers.pickFolder(fromPage), '/home/u/Documents');
    setDialog({ canceled: true, filePaths: [] });
    assert.equal(await handlers.pickFolder(fromPage), null);
  } finally {
    await svc.close();
  }
});

test('the preload exposes one frozen window.owlet with the three calls and the updates object on the channels main handles', () => {
  const exposed: Record<string, unknown> = {};
  const invoked: unknown[][] = [];
  const listeners = new Map<string, ((e: unknown, v: unknown) => void)[]>();
  const fakeElectron = {
    contextBridge: { exposeInMainWorld: (k: string, v: unknown) => void (exposed[k] = v) },
    ipcRenderer: {
      invoke: (...a: unknown[]) => (invoked.push(a), Promise.resolve(null)),
      on: (ch: string, l: (e: unknown, v: unknown) => void) => void listeners.set(ch, [...(listeners.get(ch) ?? []), l]),
      removeListener: (ch: string, l: (e: unknown, v: unknown) => void) => void listeners.set(ch, (listeners.get(ch) ?? []).filter((x) => x !== l)),
    },
  };
  const M = Module as unknown as { _load: (req: string, parent: unknown, isMain: boolean) => unknown };
  const orig = M._load;
  M._load = function (req, parent, isMain) {
    return req === 'electron' ? fakeElectron : orig.call(this, req, parent, isMain);
  };
  try {
    createRequire(import.meta.url)('../../src/main/preload.cts');
  } finally {
    M._load = orig;
  }
  assert.deepEqual(Object.keys(exposed), ['owlet']);
  const owlet = exposed.owlet as Record<string, (...a: unknown[]) => unknown>;
  assert.deepEqual(Object.keys(owlet).sort(), ['openPath', 'pickFolder', 'showInFolder', 'updates']);
  assert.ok(Object.isFrozen(owlet));
  void owlet.pickFolder!();
  void owlet.openPath!('/a');
  void owlet.showInFolder!({ toString: () => '/b' });
  assert.deepEqual(invoked, [[BRIDGE_CHANNELS.pickFolder], [BRIDGE_CHANNELS.openPath, '/a'], [BRIDGE_CHANNELS.showInFolder, '/b']]);

  const updates = owlet.updates as unknown as Record<string, (...a: unknown[]) => unknown>;
  assert.deepEqual(Object.keys(updates).sort(), ['check', 'download', 'onState', 'restart', 'rollback', 'state']);
  assert.ok(Object.isFrozen(updates));
  invoked.length = 0;
  // Arguments from the page are never passed on: each call is the channel alone.
  for (const k of ['state', 'check', 'download', 'restart', 'rollback']) void updates[k]!('--evil');
  assert.deepEqual(invoked, [[BRIDGE_CHANNELS.updateState], [BRIDGE_CHANNELS.updateCheck], [BRIDGE_CHANNELS.updateDownload], [BRIDGE_CHANNELS.updateRestart], [BRIDGE_CHANNELS.updateRollback]]);
  const seen: unknown[] = [];
  const off = updates.onState!((v: unknown) => seen.push(v)) as () => void;
  for (const l of listeners.get(BRIDGE_CHANNELS.updateChanged) ?? []) l({ sender: 'main' }, { running: '1.0.0' });
  assert.deepEqual(seen, [{ running: '1.0.0' }], 'the page gets the view, never the event');
  off();
  assert.equal(listeners.get(BRIDGE_CHANNELS.updateChanged)?.length, 0, 'unsubscribed');
});

/** A TrayUpdater stand-in: records calls, answers a view, fires changes on demand. */
function fakeCardUpdater() {
  const calls: string[] = [];
  const listeners = new Set<() => void>();
  let state = 'idle';
  const u: CardUpdater & { calls: string[]; fire(s: string): void } = {
    calls,
    view: () => ({ host: 'app', running: '1.0.0', off: null, channel: 'latest', available: state === 'idle' ? null : '1.1.0', lastCheck: null, progress: null, readyToRestart: state === 'ready', previous: null, problem: null, history: [], bad: [] }) as UpdateCardView,
    check: async () => void (calls.push('check'), (state = 'available')),
    download: async () => void (calls.push('download'), (state = 'ready')),
    install: async () => void calls.push('install'),
    rollback: async () => void calls.push('rollback'),
    onDidChange: (l) => (listeners.add(l), () => void listeners.delete(l)),
    fire: (s) => {
      state = s;
      for (const l of listeners) l();
    },
  };
  return u;
}

test('window.owlet.updates: main checks the sender, drives its updater and answers the card\'s view; changes are pushed to the dashboard only', async () => {
  const registered = new Map<string, (e: IpcEventLike) => Promise<UpdateCardView>>();
  const origin = 'http://127.0.0.1:4567';
  const mainFrame = { url: `${origin}/`, processId: 4, routingId: 1 };
  const sent: [string, unknown][] = [];
  const win = { webContents: { mainFrame, send: (ch: string, v: unknown) => void sent.push([ch, v]) } };
  const warnings: Record<string, unknown>[] = [];
  const u = fakeCardUpdater();
  const { push } = registerUpdateBridge({
    ipcMain: { handle: (ch, l) => void registered.set(ch, l as never) },
    window: () => win,
    serviceOrigin: () => origin,
    updater: () => u,
    version: '1.0.0',
    log: { warn: (msg, f) => void warnings.push({ msg, ...f }) },
  });
  const call = (ch: string, ev: IpcEventLike = { sender: win.webContents, senderFrame: mainFrame }) => registered.get(ch)!(ev);

  assert.equal((await call(BRIDGE_CHANNELS.updateState)).available, null);
  assert.equal((await call(BRIDGE_CHANNELS.updateCheck)).available, '1.1.0');
  assert.equal((await call(BRIDGE_CHANNELS.updateDownload)).readyToRestart, true);
  await call(BRIDGE_CHANNELS.updateRestart);
  await call(BRIDGE_CHANNELS.updateRollback);
  assert.deepEqual(u.calls, ['check', 'download', 'install', 'rollback']);

  // Another window, an iframe, a navigated-away page: refused (rejects), the updater untouched.
  const other = { mainFrame: { url: `${origin}/` }, send: () => {} };
  for (const ev of [
    { sender: other, senderFrame: other.mainFrame },
    { sender: win.webContents, senderFrame: { url: `${origin}/`, processId: 4, routingId: 9 } },
    { sender: win.webContents, senderFrame: null },
  ] as IpcEventLike[]) {
    await assert.rejects(call(BRIDGE_CHANNELS.updateRollback, ev), /only the/);
    await assert.rejects(call(BRIDGE_CHANNELS.updateRestart, ev), /only the/);
  }
  assert.deepEqual(u.calls, ['check', 'download', 'install', 'rollback'], 'no refused call reached the updater');
  assert.ok(warnings.some((w) => w.call === 'updates.rollback' && w.code === 'OWL_ERR_BRIDGE_SENDER'));

  const stop = push();
  u.fire('downloading');
  assert.equal(sent.length, 1);
  assert.equal(sent[0]![0], BRIDGE_CHANNELS.updateChanged);
  assert.equal((sent[0]![1] as UpdateCardView).available, '1.1.0');
  mainFrame.url = 'https://evil.example/';
  u.fire('ready');
  assert.equal(sent.length, 1, 'a page of another origin is not told');
  stop();
  mainFrame.url = `${origin}/`;
  u.fire('ready');
  assert.equal(sent.length, 1, 'unsubscribed');
});

test('window.owlet.updates without an updater (a build without trusted keys) answers a card that says updates are off and why', async () => {
  const registered = new Map<string, (e: IpcEventLike) => Promise<UpdateCardView>>();
  const mainFrame = { url: 'http://127.0.0.1:4567/' };
  const win = { webContents: { mainFrame, send: () => {} } };
  registerUpdateBridge({ ipcMain: { handle: (ch, l) => void registered.set(ch, l as never) }, window: () => win, serviceOrigin: () => 'http://127.0.0.1:4567', updater: () => ({ unavailable: 'no trusted-keys.json in this build' }), version: '1.0.0', log: { warn: () => {} } });
  const v = await registered.get(BRIDGE_CHANNELS.updateCheck)!({ sender: win.webContents, senderFrame: mainFrame });
  assert.deepEqual([v.host, v.running, v.off], ['app', '1.0.0', { kind: 'not-installed', message: 'no trusted-keys.json in this build' }]);
});
