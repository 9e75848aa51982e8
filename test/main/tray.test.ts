// The tray (#13): every menu item reaches the service API over real HTTP on 127.0.0.1 (a fake
// service that checks the token), and the icon and tooltip follow the overall state. Electron's
// Tray and Menu are small fakes: the binary is not available here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MenuItemConstructorOptions } from 'electron';
import { createServiceClient, ServiceCallError } from '../../src/main/service-client.js';
import { TrayController } from '../../src/main/tray-controller.js';
import { tomorrowMorning } from '../../src/main/tray-menu.js';
import { trayView, TRAY_ICONS, TRAY_LEVELS, type TrayLevel } from '../../src/main/tray-state.js';
import type { TrayUpdateStatus } from '../../src/main/updater.js';
import { startFakeService, statusOf, TOKEN, type FakeService } from './fake-service.js';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { openLogsFolder } from '../../src/main/logs-folder.js';

class FakeTray {
  images: TrayLevel[] = [];
  tooltip = '';
  template: MenuItemConstructorOptions[] = [];
  setImage(img: never) {
    this.images.push((img as unknown as { level: TrayLevel }).level);
  }
  setToolTip(t: string) {
    this.tooltip = t;
  }
  setContextMenu(m: unknown) {
    this.template = (m as { template: MenuItemConstructorOptions[] }).template;
  }
  item(id: string): MenuItemConstructorOptions {
    const all = this.template.flatMap((i) => [i, ...((i.submenu as MenuItemConstructorOptions[] | undefined) ?? [])]);
    const it = all.find((i) => i.id === id);
    assert.ok(it, `menu item ${id} in ${all.map((i) => i.id).join(',')}`);
    return it;
  }
  click(id: string, checked?: boolean) {
    const it = this.item(id);
    assert.notEqual(it.enabled, false, `${id} is enabled`);
    (it.click as (item: { checked: boolean }) => void)({ checked: checked ?? false });
  }
}

function harness(svc: FakeService | null, opts: { token?: string; update?: () => TrayUpdateStatus | null; hostState?: string; failure?: string } = {}) {
  const tray = new FakeTray();
  const calls: string[] = [];
  const reports: { what: string; error: unknown }[] = [];
  let login = true;
  const now = new Date(2026, 11, 2, 15, 30, 0);
  const client = createServiceClient({ baseUrl: () => svc?.url, token: () => opts.token ?? TOKEN, timeoutMs: 3000 });
  const ctl = new TrayController({
    tray,
    menu: { buildFromTemplate: (template) => ({ template }) as never },
    icon: (level) => ({ level }),
    client,
    host: () => ({ state: opts.hostState ?? 'running', ...(opts.failure ? { failure: opts.failure } : {}) }),
    update: opts.update ?? (() => null),
    startAtLogin: () => login,
    actions: {
      client,
      openDashboard: (hash) => void calls.push(`open:${hash ?? ''}`),
      checkForUpdates: async () => void calls.push('check-updates'),
      openLogsFolder: () => void calls.push('logs'),
      setStartAtLogin: (on) => {
        login = on;
        calls.push(`login:${on}`);
      },
      quit: () => void calls.push('quit'),
      report: (what, error) => void reports.push({ what, error }),
      now: () => now,
    },
  });
  return { tray, ctl, calls, reports, now };
}

const settle = () => new Promise((r) => setTimeout(r, 50));

test('every menu item reaches the service API with the token, or the app action it names', async () => {
  const svc = await startFakeService();
  try {
    const { tray, ctl, calls, now } = harness(svc);
    await ctl.refresh();
    assert.deepEqual(
      tray.template.filter((i) => i.type !== 'separator').map((i) => i.label),
      ['Open Owlet', 'Search…', 'Pause indexing', 'Back up now', 'Check for updates', 'Open logs folder', 'Start at login', 'Quit Owlet'],
    );

    tray.click('pause-hour');
    let r = await svc.waitFor((x) => x.url === '/api/v1/index/pause');
    assert.equal(r.auth, `Bearer ${TOKEN}`);
    assert.deepEqual(r.body, { until: new Date(now.getTime() + 3_600_000).toISOString() });
    // The menu follows: paused by the user offers Resume, and the tooltip says until when.
    await settle();
    await ctl.refresh();
    assert.match(tray.tooltip, /paused until 16:30/);
    tray.click('resume');
    r = await svc.waitFor((x) => x.url === '/api/v1/index/resume');
    assert.equal(r.method, 'POST');
    await settle();
    await ctl.refresh();

    tray.click('pause-tomorrow');
    r = await svc.waitFor((x) => x.url === '/api/v1/index/pause' && (x.body as { until?: string }).until === tomorrowMorning(now).toISOString());
    assert.equal(new Date((r.body as { until: string }).until).getHours(), 8, 'tomorrow means tomorrow at 08:00');
    svc.seen.length = 0;
    await settle();
    svc.status = statusOf();
    await ctl.refresh();
    tray.click('pause-indefinitely');
    r = await svc.waitFor((x) => x.url === '/api/v1/index/pause');
    assert.deepEqual(r.body, {}, 'until resumed: no end time');

    tray.click('backup');
    r = await svc.waitFor((x) => x.url === '/api/v1/backups');
    assert.deepEqual(r.body, { reason: 'manual' });
    // The updater's rollback restores through the same client.
    await createServiceClient({ baseUrl: () => svc.url, token: () => TOKEN }).restoreBackup('b1');
    assert.equal((await svc.waitFor((x) => x.url === '/api/v1/backups/b1/restore')).method, 'POST');

    tray.click('open');
    tray.click('search');
    tray.click('updates');
    tray.click('logs');
    tray.click('login', false);
    tray.click('quit');
    await settle();
    assert.deepEqual(calls, ['open:', 'open:search', 'check-updates', 'logs', 'login:false', 'quit']);
    await ctl.refresh();
    assert.equal(tray.item('login').checked, false, 'the checkbox shows the new choice');
  } finally {
    await svc.close();
  }
});

test('a refused action is reported with the service\'s error code, not swallowed', async () => {
  const svc = await startFakeService();
  try {
    svc.failures.set('POST /api/v1/backups', { status: 507, code: 'OWL_ERR_BACKUP_NO_SPACE', message: 'not enough free space for a backup' });
    const { tray, ctl, reports } = harness(svc);
    await ctl.refresh();
    tray.click('backup');
    await svc.waitFor((x) => x.url === '/api/v1/backups');
    await settle();
    assert.equal(reports.length, 1);
    assert.equal(reports[0]!.what, 'Backing up');
    const e = reports[0]!.error as ServiceCallError;
    assert.ok(e instanceof ServiceCallError);
    assert.deepEqual([e.code, e.status, e.message], ['OWL_ERR_BACKUP_NO_SPACE', 507, 'not enough free space for a backup']);

    // A wrong token: the service refuses, the tray treats it as not reachable and disables the actions.
    const wrong = harness(svc, { token: 'b'.repeat(43) });
    await wrong.ctl.refresh();
    assert.equal(wrong.tray.item('backup').enabled, false);
    const client = createServiceClient({ baseUrl: () => svc.url, token: () => 'b'.repeat(43) });
    await assert.rejects(client.backupNow(), (x: unknown) => x instanceof ServiceCallError && x.code === 'OWL_ERR_AUTH_REQUIRED' && x.status === 401);
  } finally {
    await svc.close();
  }
  const down = createServiceClient({ baseUrl: () => undefined, token: () => TOKEN });
  await assert.rejects(down.restoreBackup('b1'), (e: unknown) => e instanceof ServiceCallError && e.code === 'OWL_ERR_SERVICE_NOT_RUNNING');
  await assert.rejects(down.pause(), (e: unknown) => e instanceof ServiceCallError && e.code === 'OWL_ERR_SERVICE_NOT_RUNNING');
});

test('the icon and tooltip follow the overall state: ok, indexing, paused, degraded, failed, updating', async () => {
  const svc = await startFakeService();
  let update: TrayUpdateStatus | null = null;
  const { tray, ctl } = harness(svc, { update: () => update });
  try {
    const seen: [TrayLevel, string][] = [];
    const step = async (s: Parameters<typeof statusOf>[0]) => {
      svc.status = statusOf(s);
      await ctl.refresh();
      seen.push([tray.images.at(-1)!, tray.tooltip]);
    };
    await step({});
    await step({ state: 'indexing', progress: { phase: 'indexing', scanned: 10, queued: 7, done: 3, startedAt: null, finishedAt: null } });
    await step({ state: 'idle', progress: { phase: 'idle', scanned: 10, queued: 2, done: 8, startedAt: null, finishedAt: null } });
    await step({ state: 'paused', paused: true, pausedBecause: ['battery'] });
    await step({ state: 'degraded', degraded: [{ component: 'disk', message: 'the data disk is almost full' }] });
    update = { state: 'downloading', currentVersion: '0.1.0', version: '0.2.0', percent: 42, message: null, reason: null };
    await step({});
    assert.deepEqual(seen, [
      ['ok', 'Owlet: up to date, 10 documents indexed'],
      ['indexing', 'Owlet: indexing, 7 files left (3 done)'],
      ['indexing', 'Owlet: indexing, 2 files left (8 done)'],
      ['paused', 'Owlet: indexing paused (battery)'],
      ['degraded', 'Owlet: the data disk is almost full'],
      ['updating', 'Owlet: downloading 0.2.0 (42 %)'],
    ]);
    // The image is only replaced when the level changes.
    assert.deepEqual(tray.images, ['ok', 'indexing', 'paused', 'degraded', 'updating']);
  } finally {
    await svc.close();
  }
  // The service gone and the host given up: failed, with the host's reason.
  const failed = harness(null, { hostState: 'failed', failure: 'the configuration is invalid: roots[0] is not a folder' });
  await failed.ctl.refresh();
  assert.deepEqual([failed.tray.images.at(-1), failed.tray.tooltip], ['failed', 'Owlet cannot start: the configuration is invalid: roots[0] is not a folder']);
  assert.equal(failed.tray.item('pause').enabled, false, 'actions that need the service are disabled while it is down');
  assert.equal(trayView(null, 'starting').level, 'indexing');
});

test('every level has its icon file, at 1x and 2x', () => {
  for (const level of TRAY_LEVELS) {
    const f = path.join('build', TRAY_ICONS[level]);
    assert.ok(fs.existsSync(f), f);
    assert.ok(fs.existsSync(f.replace(/\.png$/, '@2x.png')), `${f} @2x`);
  }
});

test('"Open logs folder" opens the data folder\'s logs/ (where service.log lives), creating it private on a fresh install', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'owlet-logs-'));
  try {
    const opened: string[] = [];
    const shell = { openPath: async (p: string) => (opened.push(p), '') };
    // Fresh install: the service has not written a line yet.
    assert.equal(await openLogsFolder(dataDir, shell), path.join(dataDir, 'logs'));
    assert.deepEqual(opened, [path.join(dataDir, 'logs')]);
    assert.ok(fs.statSync(path.join(dataDir, 'logs')).isDirectory());
    if (process.platform !== 'win32') assert.equal(fs.statSync(path.join(dataDir, 'logs')).mode & 0o777, 0o700);
    // The OS refusing is an error the tray reports (shell.openPath answers a string, never rejects).
    await assert.rejects(openLogsFolder(dataDir, { openPath: async () => 'no application is registered for folders' }), /could not be opened: no application is registered/);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
