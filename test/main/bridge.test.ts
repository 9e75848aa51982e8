// window.owlet (#13): the preload exposes exactly pickFolder/openPath/showInFolder, and main
// refuses a foreign sender and any path the service does not vouch for as a document of the index.
// ipcMain, dialog, shell and the window are fakes; the service is real HTTP on 127.0.0.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Module, { createRequire } from 'node:module';
import { registerBridge, type IpcEventLike } from '../../src/main/bridge-main.js';
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

test('main registers exactly the three bridge channels', async () => {
  const svc = await startFakeService();
  try {
    const { registered } = setup(svc);
    assert.deepEqual([...registered.keys()].sort(), Object.values(BRIDGE_CHANNELS).sort());
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

test('the preload exposes one frozen window.owlet with the three calls on the channels main handles', () => {
  const exposed: Record<string, unknown> = {};
  const invoked: unknown[][] = [];
  const fakeElectron = {
    contextBridge: { exposeInMainWorld: (k: string, v: unknown) => void (exposed[k] = v) },
    ipcRenderer: { invoke: (...a: unknown[]) => (invoked.push(a), Promise.resolve(null)) },
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
  assert.deepEqual(Object.keys(owlet).sort(), ['openPath', 'pickFolder', 'showInFolder']);
  assert.ok(Object.isFrozen(owlet));
  void owlet.pickFolder!();
  void owlet.openPath!('/a');
  void owlet.showInFolder!({ toString: () => '/b' });
  assert.deepEqual(invoked, [[BRIDGE_CHANNELS.pickFolder], [BRIDGE_CHANNELS.openPath, '/a'], [BRIDGE_CHANNELS.showInFolder, '/b']]);
});
