/**
 * The Electron shell: the composition root of the tray app. It owns no indexing logic: it
 * supervises the indexer in a utility process (the same supervisor `owlet run` uses headless),
 * shows its health in the tray, and opens the dashboard page the service serves on loopback.
 */
import { app, BrowserWindow, Menu, Tray, nativeImage, safeStorage, utilityProcess } from 'electron';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSupervisor } from '../indexer/host/supervisor.js';
import { defaultDataDir } from '../indexer/config/paths.js';
import type { StatusReport } from '../shared/api.js';
import { utilityLauncher } from './utility-launcher.js';
import { SafeStorageSecretStore, hostKeyMessage } from './secret-store-electron.js';
import type { Launcher } from '../indexer/host/launcher.js';
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

if (!app.requestSingleInstanceLock()) app.quit();

app.whenReady().then(() => {
  const dataDir = defaultDataDir();
  // Keys live in Electron's safeStorage and reach the indexer only over its private channel
  // (queued by the parentPort until the service listens), never on the command line or in the env.
  const keys = new SafeStorageSecretStore(dataDir, safeStorage);
  const base = utilityLauncher(utilityProcess, { modulePath: ENTRY, args: ['serve', '--data-dir', dataDir, '--key-from-host'] });
  const launch: Launcher = () => {
    const child = base();
    child.send(hostKeyMessage(dataDir, keys));
    return child;
  };
  const supervisor = createSupervisor({ launch });
  const tray = new Tray(nativeImage.createFromPath(path.join(here, '..', '..', 'build', ICONS.busy)));
  let window: BrowserWindow | null = null;
  let status: StatusReport | null = null;

  const openDashboard = async () => {
    const ready = supervisor.readyInfo;
    if (!ready) return;
    if (window && !window.isDestroyed()) return window.focus();
    // A one-time login link: the page gets an HttpOnly session cookie, never the API token.
    const link = await api<{ url: string }>(`${ready.url}/api/v1/auth/login-link`, dataDir, { method: 'POST' }).catch(() => ({ url: ready.url }));
    window = createDashboardWindow(BrowserWindow, link.url);
  };
  const refresh = async () => {
    const ready = supervisor.readyInfo;
    status = ready ? await api<StatusReport>(`${ready.url}/api/v1/status`, dataDir).catch(() => null) : null;
    const view = trayView(status, supervisor.state);
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
  supervisor.onDidChangeState(() => void refresh());
  const timer = setInterval(() => void refresh(), 5000);
  supervisor.start();

  let quitting = false;
  app.on('before-quit', (e) => {
    if (quitting) return;
    e.preventDefault();
    quitting = true;
    clearInterval(timer);
    void supervisor.stop('app quit').finally(() => app.quit());
  });
  // A tray app keeps running with no window open.
  app.on('window-all-closed', () => {});
});
