// The app's main-process parts against a REAL `owlet serve` (built dist/, bin/owlet.js), hosted by
// createAppIndexerHost() exactly as main.ts does, with Electron's utilityProcess replaced by a
// small adapter over child_process.fork and safeStorage by a reversible fake. Real HTTP on
// 127.0.0.1, real SQLite files. Checks, end to end: an alert routed to `tray` becomes a
// notification; the tray's pause-for-an-hour, resume and back-up reach the service and change
// its state; the bridge opens a real indexed document and refuses other files; and quit drains
// (the service stops itself, the WAL is checkpointed away) before the app quits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import type { MenuItemConstructorOptions } from 'electron';
import { saveConfig } from '../../src/indexer/config/load.js';
import { defaultConfig } from '../../src/indexer/config/schema.js';
import { OWLET_BIN } from '../../src/indexer/host/run.js';
import { createLogger } from '../../src/indexer/log/logger.js';
import { readApiToken } from '../../src/indexer/security/token.js';
import { createAppIndexerHost } from '../../src/main/app-host.js';
import { registerBridge, type IpcEventLike } from '../../src/main/bridge-main.js';
import { AlertNotifier } from '../../src/main/notifications.js';
import { installQuitDrain } from '../../src/main/quit.js';
import type { SafeStorageLike } from '../../src/main/secret-store-electron.js';
import { createServiceClient } from '../../src/main/service-client.js';
import { TrayController } from '../../src/main/tray-controller.js';
import type { UtilityProcessApi } from '../../src/main/utility-launcher.js';
import type { AlertNotice } from '../../src/shared/protocol.js';
import { tmpDir, waitFor, writeTree } from '../helpers/tmp.js';
import { isAlive, within } from '../indexer/host/helpers.js';

/** Electron's utilityProcess.fork, played by child_process.fork (the service speaks the same messages over either). */
const forkedUtility: UtilityProcessApi = {
  fork(modulePath, args = [], options = {}) {
    const cp = fork(modulePath, args, { env: { ...options.env, ...(process.env.OWLET_ALLOW_ROOT ? { OWLET_ALLOW_ROOT: process.env.OWLET_ALLOW_ROOT } : {}) }, execArgv: options.execArgv ?? [], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const child = new EventEmitter() as EventEmitter & Record<string, unknown>;
    cp.on('message', (m) => child.emit('message', m));
    cp.on('exit', (code) => child.emit('exit', code ?? 1));
    return Object.assign(child, {
      pid: cp.pid,
      stdout: cp.stdout,
      stderr: cp.stderr,
      postMessage: (m: unknown) => void (cp.connected && cp.send(m as never)),
      kill: () => cp.kill('SIGKILL'),
    }) as never;
  },
};

const fakeSafeStorage: SafeStorageLike = {
  isEncryptionAvailable: () => true,
  encryptString: (s: string) => Buffer.from(`enc:${s}`),
  decryptString: (b: Buffer) => b.toString().replace(/^enc:/, ''),
  getSelectedStorageBackend: () => 'gnome_libsecret',
} as SafeStorageLike;

test('the app against a real service: tray alerts, tray actions, the bridge, and a drained quit', { timeout: 240_000 }, async () => {
  assert.ok(fs.existsSync(path.join(path.dirname(OWLET_BIN), '..', 'dist', 'indexer', 'cli', 'main.js')), 'run npm run build first: the service runs dist/');
  const root = tmpDir('owlet-app-root-');
  const data = tmpDir('owlet-app-data-');
  writeTree(root, { 'alpha.txt': 'alpha owl report', 'beta.md': '# beta\nowl notes', 'gamma.txt': 'gamma owl' });
  const base = defaultConfig();
  saveConfig(data, {
    ...base,
    roots: [root],
    monitoring: {
      ...base.monitoring,
      sampleSeconds: 1,
      alerts: { ...base.monitoring.alerts, rules: [{ id: 'test-indexed', metric: 'uptime_seconds', op: '>=', threshold: 1, forSeconds: 0, severity: 'warning', summary: 'the service has been up a second', remedy: 'nothing to do: this rule exists for the test' }] },
    },
  });
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ write: (l) => void lines.push(JSON.parse(l) as Record<string, unknown>) }, { level: 'debug' });
  const host = createAppIndexerHost({ dataDir: data, entry: { modulePath: OWLET_BIN, execArgv: [] }, utilityProcess: forkedUtility, safeStorage: fakeSafeStorage, log, trayAlerts: true });
  const alerts: AlertNotice[] = [];
  host.onDidAlert((n) => alerts.push(n));
  let pid: number | undefined;
  try {
    host.start();
    const ready = await host.whenReady(90_000);
    pid = ready.pid;
    const client = createServiceClient({ baseUrl: () => host.url, token: () => readApiToken(data) });
    await waitFor(async () => (await client.status()).counts.indexed === 3, 90_000, 'the three files indexed');

    // 1. The alert the engine routes to `tray` arrives as a typed message and becomes a notification.
    const firing = await waitFor(() => alerts.find((a) => a.rule === 'test-indexed' && a.event === 'firing'), 30_000, 'the tray alert').catch((e) => {
      throw new Error(`${(e as Error).message}; alert log lines: ${JSON.stringify(lines.filter((l) => /alert|channel/.test(String(l.msg))).slice(-5))}; alerts ${JSON.stringify(alerts)}`);
    });
    const shown: { title: string; body: string }[] = [];
    const opened: string[] = [];
    const notifier = new AlertNotifier({ create: (o) => (shown.push(o), { show() {}, close() {}, on: () => undefined }), open: (id) => void opened.push(id) });
    assert.equal(notifier.handle(firing), 'shown');
    assert.deepEqual(shown, [{ title: 'Owlet: the service has been up a second', body: 'nothing to do: this rule exists for the test', urgency: 'normal', silent: false }]);

    // 2. Tray actions through the real API.
    let template: MenuItemConstructorOptions[] = [];
    const reports: unknown[] = [];
    const ctl = new TrayController({
      tray: { setImage: () => {}, setToolTip: () => {}, setContextMenu: (m) => void (template = (m as unknown as { t: MenuItemConstructorOptions[] }).t) },
      menu: { buildFromTemplate: (t) => ({ t }) as never },
      icon: (l) => l,
      client,
      host: () => ({ state: host.state }),
      update: () => null,
      startAtLogin: () => true,
      actions: { client, openDashboard: () => {}, checkForUpdates: async () => {}, openLogsFolder: () => {}, setStartAtLogin: () => {}, quit: () => {}, report: (_w, e) => void reports.push(e) },
    });
    const click = (id: string) => {
      const all = template.flatMap((i) => [i, ...((i.submenu as MenuItemConstructorOptions[] | undefined) ?? [])]);
      (all.find((i) => i.id === id)!.click as (i: { checked: boolean }) => void)({ checked: false });
    };
    await ctl.refresh();
    const t0 = Date.now();
    click('pause-hour');
    const paused = await waitFor(async () => {
      const s = await client.status();
      return s.paused && s.pausedUntil ? s : null;
    }, 10_000, 'paused for an hour');
    const until = Date.parse(paused.pausedUntil!);
    assert.ok(until >= t0 + 3_590_000 && until <= Date.now() + 3_600_000, 'until one hour from the click');
    assert.deepEqual(paused.pausedBecause, ['user']);
    const view = await ctl.refresh();
    assert.equal(view.level, 'paused');
    click('resume');
    await waitFor(async () => !(await client.status()).paused, 10_000, 'resumed');
    await ctl.refresh();
    click('backup');
    await waitFor(async () => {
      const r = await fetch(`${host.url}/api/v1/backups`, { headers: { authorization: `Bearer ${readApiToken(data)}` } });
      const body = (await r.json()) as { backups?: unknown[] };
      return (body.backups?.length ?? 0) >= 1;
    }, 60_000, 'a backup listed');
    assert.deepEqual(reports, [], 'no tray action failed');

    // 3. The bridge asks the real service: an indexed file opens, anything else is refused.
    const frame = { url: `${host.url}/` };
    const contents = { mainFrame: frame };
    const openedFiles: string[] = [];
    const bridge = registerBridge({
      ipcMain: { handle: () => {} },
      window: () => ({ webContents: contents }),
      serviceOrigin: () => new URL(host.url!).origin,
      client,
      dialog: { showOpenDialog: async () => ({ canceled: true, filePaths: [] }) },
      shell: { openPath: async (p) => (openedFiles.push(p), ''), showItemInFolder: (p) => void openedFiles.push(p) },
      log: { warn: () => {} },
    });
    const ev: IpcEventLike = { sender: contents, senderFrame: frame };
    const alpha = path.join(root, 'alpha.txt');
    assert.deepEqual(await bridge.openPath(ev, alpha), { ok: true });
    const secret = path.join(data, 'api-token');
    const outside = await bridge.openPath(ev, secret);
    assert.equal(outside.ok, false);
    assert.equal((outside as { code: string }).code, 'OWL_ERR_PATH_FORBIDDEN');
    const dotdot = await bridge.showInFolder(ev, `${root}/../${path.basename(data)}/api-token`);
    assert.equal((dotdot as { code: string }).code, 'OWL_ERR_ARG_INVALID');
    fs.writeFileSync(path.join(root, 'not-yet-indexed.sh'), '#!/bin/sh\n');
    assert.equal((await bridge.openPath(ev, path.join(root, 'not-yet-indexed.sh'))).ok, false, 'a file under a root that is not a document of the index');
    assert.deepEqual(openedFiles, [fs.realpathSync(alpha)]);

    // 4. Quit drains: the first quit is held until the service stopped by itself, then the app quits.
    const app = new (class extends EventEmitter {
      quitted = 0;
      exits: number[] = [];
      quit() {
        const e = { prevented: false, preventDefault() {
          this.prevented = true;
        } };
        this.emit('before-quit', e);
        if (!e.prevented) this.quitted++;
      }
      exit(c = 0) {
        this.exits.push(c);
      }
    })();
    installQuitDrain({ app, stop: (r) => host.stop(r), deadlineMs: 30_000, log });
    app.quit();
    assert.equal(app.quitted, 0, 'held while draining');
    await waitFor(() => app.quitted === 1, 30_000, 'the app to quit after the drain');
    assert.deepEqual(app.exits, [], 'not the deadline: a real drain');
    assert.equal(isAlive(pid!), false, 'the service process is gone');
    const wal = path.join(data, 'index.db-wal');
    assert.ok(!fs.existsSync(wal) || fs.statSync(wal).size === 0, 'the WAL was checkpointed into index.db');
    assert.equal(fs.existsSync(path.join(data, 'service.json')), false, 'the service removed its service.json on its way out');
    const forwarded = lines.filter((l) => l.component === 'service').map((l) => l.msg);
    assert.ok(forwarded.includes('stopped'), `the service logged its orderly stop; got ${forwarded.slice(-5).join(', ')}`);
    assert.ok(!lines.some((l) => l.msg === 'supervisor kill'), 'nothing was killed');
  } finally {
    await within(host.stop('test cleanup'), 30_000, 'stop');
    if (pid !== undefined && isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
});
