/**
 * The Electron shell: the composition root of the tray app, a thin adapter. Every part is a small
 * module tested with fakes (tray-controller, tray-menu, notifications, bridge-main, dashboard,
 * login-item, single-instance, quit, logging, installers); this file only hands them Electron's
 * objects. It owns no indexing and no process supervision: createAppIndexerHost() (the same
 * createIndexerHost() that `owlet run` uses, with utilityProcess and safeStorage plugged in) runs
 * the indexer, and every tray action goes through the service's HTTP API with the API token.
 *
 * `--smoke-test`: start, wait for the indexer, print `OWLET_SMOKE_OK <url>`, quit (drained).
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, Notification, nativeImage, safeStorage, shell, Tray, utilityProcess } from 'electron';
import electronLog from 'electron-log/main';
import electronUpdater from 'electron-updater';
import yaml from 'js-yaml';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../indexer/config/load.js';
import { resolveDataDir } from '../indexer/config/paths.js';
import { SERVICE_EXEC_ARGV } from '../indexer/host/run.js';
import { readApiToken } from '../indexer/security/token.js';
import { loadTrustedKeys } from '../indexer/update/keys.js';
import { defaultPolicyFile, effectiveSettings, readPolicy } from '../indexer/update/policy.js';
import { DEFAULT_UPDATE_CONFIG, type UpdateConfig } from '../indexer/config/update-settings.js';
import { createAppIndexerHost } from './app-host.js';
import { configureAppPaths } from './app-paths.js';
import { registerBridge, registerUpdateBridge } from './bridge-main.js';
import { DashboardOpener } from './dashboard.js';
import { createInstallerStore } from './installers.js';
import { createMainLogger } from './logging.js';
import { HIDDEN_ARG, LoginItem } from './login-item.js';
import { openLogsFolder } from './logs-folder.js';
import { AlertNotifier } from './notifications.js';
import { installQuitDrain } from './quit.js';
import { createServiceClient } from './service-client.js';
import { claimSingleInstance } from './single-instance.js';
import { TrayController } from './tray-controller.js';
import { TRAY_ICONS, type TrayLevel } from './tray-state.js';
import { checkForUpdatesAction } from './update-check.js';
import { TrayUpdater } from './updater.js';
import { createDashboardWindow } from './window.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const APP_ROOT = path.join(here, '..', '..');
const ENTRY = path.join(here, '..', 'indexer', 'cli', 'entry.js');
const PRELOAD = path.join(here, 'preload.cjs');
const ICONS = path.join(APP_ROOT, 'build');
const SMOKE = process.argv.includes('--smoke-test');
/** The supervisor kills the child at its own deadline (10 s + 5 s); this only guards against a stuck host. */
const QUIT_DEADLINE_MS = 20_000;

const dataDir = resolveDataDir(undefined);
// Before `ready` and before the single-instance lock (whose file lives in userData).
configureAppPaths(app, dataDir);

let openFromSecondLaunch: () => void = () => {};
if (claimSingleInstance(app, () => openFromSecondLaunch())) void app.whenReady().then(start);

/** The feed the app was built for (electron-builder writes it to app-update.yml); config and policy outrank it. */
function builtInFeed(): string | null {
  try {
    const doc = yaml.load(fs.readFileSync(path.join(process.resourcesPath, 'app-update.yml'), 'utf8')) as { url?: unknown };
    return typeof doc.url === 'string' ? doc.url : null;
  } catch {
    return null;
  }
}

function updateConfig(): UpdateConfig {
  try {
    return loadConfig(dataDir).updates;
  } catch {
    return DEFAULT_UPDATE_CONFIG;
  }
}

function start(): void {
  const log = createMainLogger(electronLog, { dir: app.getPath('logs'), console: !app.isPackaged });
  process.on('uncaughtException', (e) => log.error('uncaught exception in main', { error: e }));
  process.on('unhandledRejection', (e) => log.error('unhandled rejection in main', { error: e }));

  const host = createAppIndexerHost({ dataDir, entry: { modulePath: ENTRY, execArgv: SERVICE_EXEC_ARGV, version: app.getVersion() }, utilityProcess, safeStorage, log, trayAlerts: true });
  const client = createServiceClient({ baseUrl: () => host.url, token: () => readApiToken(dataDir) });
  const origin = () => (host.url ? new URL(host.url).origin : undefined);

  let win: BrowserWindow | null = null;
  const dashboard = new DashboardOpener({
    create: (url) => (win = createDashboardWindow(BrowserWindow, url, PRELOAD)),
    client,
    origin,
  });
  registerBridge({ ipcMain, window: () => (win && !win.isDestroyed() ? win : null), serviceOrigin: origin, client, dialog, shell, log: log.child('bridge') });

  const toast = (title: string, body: string) => {
    if (Notification.isSupported()) new Notification({ title, body }).show();
  };
  const report = (what: string, e: unknown) => {
    const message = e instanceof Error ? e.message : String(e);
    log.warn('tray action failed', { action: what, code: (e as { code?: string }).code, message });
    toast(`${what} failed`, message);
  };
  const open = (hash?: string) => void dashboard.open(hash).catch((e) => report('Opening Owlet', e));
  openFromSecondLaunch = () => open();

  const notifier = new AlertNotifier({ create: (o) => new Notification(o), open: (id) => open(`alert=${id}`) });
  host.onDidAlert((n) => {
    const outcome = Notification.isSupported() ? notifier.handle(n) : 'ignored';
    log.info('tray alert', { alert: n.id, event: n.event, severity: n.severity, outcome });
  });

  const loginItem = new LoginItem({
    app,
    prefsFile: path.join(app.getPath('userData'), 'preferences.json'),
    linux: { autostartDir: path.join(process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config'), 'autostart'), exec: process.env.APPIMAGE ?? process.execPath },
    log,
  });
  // A development run must not register the bare Electron binary to start at login.
  if (app.isPackaged) loginItem.apply();

  let updater: TrayUpdater | null = null;
  const getUpdater = (): TrayUpdater => {
    updater ??= new TrayUpdater({
      autoUpdater: electronUpdater.autoUpdater,
      stateDir: app.getPath('userData'),
      currentVersion: app.getVersion(),
      trusted: loadTrustedKeys(app.getAppPath()),
      settings: () => {
        const cfg = updateConfig();
        return effectiveSettings({ ...cfg, feedUrl: cfg.feedUrl ?? builtInFeed() }, readPolicy(defaultPolicyFile()));
      },
      backup: async () => {
        const r = await client.backupNow();
        if (!r.id) throw new Error('the pre-update backup reported no id');
        return r.id;
      },
      restore: async (id) => void (await client.restoreBackup(id)),
      installers: createInstallerStore({
        dir: path.join(app.getPath('userData'), 'installers'),
        run: async (file) => {
          if (file.endsWith('.AppImage')) {
            fs.chmodSync(file, 0o755);
            spawn(file, [], { detached: true, stdio: 'ignore' }).unref();
          } else {
            const err = await shell.openPath(file);
            if (err) throw new Error(err);
          }
          app.quit();
        },
      }),
      notify: (m) => toast('Owlet update', m),
    });
    return updater;
  };
  const checkForUpdates = () => checkForUpdatesAction(getUpdater, toast);
  // The dashboard's Updates card asks main's updater through window.owlet.updates (progress is pushed).
  const cardUpdater = (): TrayUpdater | { unavailable: string } => {
    try {
      return getUpdater();
    } catch (e) {
      return { unavailable: `This build cannot update itself (${e instanceof Error ? e.message : String(e)}): updates are off. Install a release of Owlet to get updates.` };
    }
  };
  const updateBridge = registerUpdateBridge({ ipcMain, window: () => (win && !win.isDestroyed() ? win : null), serviceOrigin: origin, updater: cardUpdater, version: app.getVersion(), log: log.child('bridge') });
  updateBridge.push();


  const icon = (level: TrayLevel) => nativeImage.createFromPath(path.join(ICONS, TRAY_ICONS[level]));
  const tray = new Tray(icon('indexing'));
  const trayCtl = new TrayController({
    tray,
    menu: Menu,
    icon,
    client,
    host: () => ({ state: host.state, ...(host.failure ? { failure: host.failure.message } : {}) }),
    update: () => updater?.status() ?? null,
    startAtLogin: () => loginItem.enabled,
    actions: {
      client,
      openDashboard: (hash) => dashboard.open(hash),
      checkForUpdates,
      openLogsFolder: async () => void (await openLogsFolder(dataDir, shell)),
      setStartAtLogin: (on) => loginItem.set(on),
      quit: () => app.quit(),
      report,
    },
  });
  tray.on('click', () => open());
  // The icon and tooltip follow an update too (checking, downloading n %, installing).
  const trayUpdater = cardUpdater();
  if (!('unavailable' in trayUpdater)) trayUpdater.onDidChange(() => void trayCtl.refresh());
  host.onDidChangeState(() => void trayCtl.refresh());
  const timer = setInterval(() => void trayCtl.refresh(), 5_000);
  void trayCtl.refresh();

  installQuitDrain({ app, stop: (reason) => host.stop(reason), deadlineMs: QUIT_DEADLINE_MS, beforeDrain: () => clearInterval(timer), log });
  // A tray app keeps running with no window open.
  app.on('window-all-closed', () => {});
  host.start();

  if (SMOKE) {
    host.whenReady(120_000).then(
      (r) => {
        process.stdout.write(`OWLET_SMOKE_OK ${r.url}\n`);
        app.quit();
      },
      (e: Error) => {
        process.stdout.write(`OWLET_SMOKE_FAIL ${e.message}\n`);
        app.exit(1);
      },
    );
    return;
  }
  // After an update: the health gate of the new version (rolls back on failure; updater.ts).
  try {
    const u = getUpdater();
    const crashedWithin = (ms: number) =>
      new Promise<boolean>((resolve) => {
        const sub = host.onDidCrash(() => {
          clearTimeout(t);
          sub.dispose();
          resolve(true);
        });
        const t = setTimeout(() => {
          sub.dispose();
          resolve(false);
        }, ms);
      });
    void u.verifyAfterLaunch({ ready: (ms) => host.whenReady(ms).then(() => {}), crashedWithin }, updateConfig().healthGate).then(
      (outcome) => outcome !== 'none' && log.info('update verification', { outcome }),
      (e) => log.warn('update verification failed', { message: e instanceof Error ? e.message : String(e) }),
    );
  } catch (e) {
    // A development run has no trusted-keys.json: no updates, said once.
    log.info('updates are unavailable in this build', { reason: e instanceof Error ? e.message : String(e) });
  }
  // A manual launch shows the dashboard once the indexer is up; a launch at login stays in the tray.
  const atLogin = process.argv.includes(HIDDEN_ARG) || app.getLoginItemSettings().wasOpenedAtLogin;
  if (!atLogin) host.whenReady().then(() => open(), (e) => log.warn('the indexer did not start', { message: e instanceof Error ? e.message : String(e) }));
}
