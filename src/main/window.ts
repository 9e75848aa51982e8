import type { BrowserWindow, BrowserWindowConstructorOptions, WebContents } from 'electron';

/**
 * The dashboard window: an ordinary web page served by the service on loopback. The renderer has
 * no Node access (contextIsolation and sandbox on, nodeIntegration off), may not navigate away
 * from the service's origin, and may not open new windows. Its only extra is the tiny preload
 * (preload.cts: `window.owlet`), whose calls main checks (bridge-main.ts).
 */
export const WINDOW_OPTIONS: BrowserWindowConstructorOptions = {
  width: 1100,
  height: 780,
  show: false,
  title: 'Owlet',
  webPreferences: {
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    spellcheck: false,
  },
};

export function isAllowedUrl(url: string, serviceOrigin: string): boolean {
  try {
    return new URL(url).origin === serviceOrigin;
  } catch {
    return false;
  }
}

/** Locks a window's web contents to the service origin. */
export function lockNavigation(contents: Pick<WebContents, 'on' | 'setWindowOpenHandler'>, serviceOrigin: string): void {
  contents.on('will-navigate', (event, url) => {
    if (!isAllowedUrl(url, serviceOrigin)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAllowedUrl(url, serviceOrigin)) event.preventDefault();
  });
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

export interface WindowFactory {
  new (options: BrowserWindowConstructorOptions): BrowserWindow;
}

/** The window options with the preload (a sandboxed CommonJS script: dist/main/preload.cjs). */
export function dashboardWindowOptions(preload: string): BrowserWindowConstructorOptions {
  return { ...WINDOW_OPTIONS, webPreferences: { ...WINDOW_OPTIONS.webPreferences, preload } };
}

export function createDashboardWindow(Window: WindowFactory, loginUrl: string, preload: string): BrowserWindow {
  const win = new Window(dashboardWindowOptions(preload));
  lockNavigation(win.webContents, new URL(loginUrl).origin);
  win.once('ready-to-show', () => win.show());
  void win.loadURL(loginUrl);
  return win;
}
