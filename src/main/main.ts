/**
 * The Electron shell: the composition root of the tray app, a thin adapter. It owns no indexing
 * and no process supervision: `createAppIndexerHost()` (the same `createIndexerHost()` that
 * `owlet run` uses, with utilityProcess and safeStorage plugged in) runs the indexer; this file
 * wires Electron's objects to it, shows its health in the tray and opens the dashboard page the
 * service serves on loopback.
 */
import { app, BrowserWindow, Menu, Tray, nativeImage, safeStorage, utilityProcess } from 'electron';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultDataDir } from '../indexer/config/paths.js';
import { createLogger } from '../indexer/log/logger.js';
import { createRotatingFileSink, DEFAULT_LOG_FILES, DEFAULT_LOG_MAX_BYTES } from '../indexer/log/rotating-sink.js';
import { SERVICE_EXEC_ARGV } from '../indexer/host/run.js';
import type { StatusReport } from '../shared/api.js';
import { createAppIndexerHost } from './app-host.js';
import { configureAppPaths } from './app-paths.js';
import { createDashboardWindow } from './window.js';
import { trayView, type TrayLevel } from './tray-state.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ENTRY = path.join(here, '..', 'indexer', 'cli', 'entry.js');
const ICONS: Record<TrayLevel, string> = { ok: 'tray-ok.png', busy: 'tray-busy.png', degraded: 'tray-degraded.png', failed: 'tray-failed.png' };

function token(dataDir: string): string | null {
  try {
    return fs.readFileSync(path.join(dataDir, 'api-token'), 'utf8').trim();
  } catch {
    return null;
  }
}

async function api<T>(url: string, dataDir: string, init: RequestInit = {}): Promise<T> {
  const t = token(dataDir);
  const res = await fetch(url, { ...init, headers: { ...(t ? { authorization: `Bearer ${t}` } : {}), ...init.headers }, signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return (await res.json()) as T;
}

const dataDir = defaultDataDir();
// Before `ready` and before the single-instance lock (whose file lives in userData).
configureAppPaths(app, dataDir);

if (!app.requestSingleInstanceLock()) app.quit();

app.whenReady().then(() => {
  const log = createLogger(createRotatingFileSink({ file: path.join(app.getPath('logs'), 'main.log'), maxBytes: DEFAULT_LOG_MAX_BYTES, maxFiles: DEFAULT_LOG_FILES }), {
    component: 'main',
    fields: { pid: process.pid },
  });
  const host = createAppIndexerHost({
    dataDir,
    entry: { modulePath: ENTRY, execArgv: SERVICE_EXEC_ARGV, version: app.getVersion() },
    utilityProcess,
    safeStorage,
    log,
  });
  const tray = new Tray(nativeImage.createFromPath(path.join(here, '..', '..', 'build', ICONS.busy)));
  let window: BrowserWindow | null = null;

  const openDashboard = async () => {
    const url = host.url;
    if (!url) return;
    if (window && !window.isDestroyed()) return window.focus();
    // A one-time login link: the page gets an HttpOnly session cookie, never the API token.
    const link = await api<{ url: string }>(`${url}/api/v1/auth/login-link`, dataDir, { method: 'POST' }).catch(() => ({ url }));
    window = createDashboardWindow(BrowserWindow, link.url);
  };
  const refresh = async () => {
    const url = host.url;
    const status = url ? await api<StatusReport>(`${url}/api/v1/status`, dataDir).catch(() => null) : null;
    const view = trayView(status, host.state, host.failure?.message);
    tray.setImage(nativeImage.createFromPath(path.join(here, '..', '..', 'build', ICONS[view.level])));
    tray.setToolTip(view.tooltip);
  };
  tray.setContextMenu(
    Menu.buildFromTemplate([
      { label: 'Open Owlet', click: () => void openDashboard() },
      { type: 'separator' },
      { label: 'Quit', click: () => app.quit() },
    ]),
  );
  tray.on('click', () => void openDashboard());
  host.onDidChangeState(() => void refresh());
  const timer = setInterval(() => void refresh(), 5000);
  host.start();

  let quitting = false;
  app.on('before-quit', (e) => {
    if (quitting) return;
    e.preventDefault();
    quitting = true;
    clearInterval(timer);
    // Drains: the service commits its batch and checkpoints before it exits (SIGKILL only after the deadline).
    void host.stop('app quit').finally(() => app.quit());
  });
  // A tray app keeps running with no window open.
  app.on('window-all-closed', () => {});
});
