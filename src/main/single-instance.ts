/** The slice of Electron's `app` single-instance handling needs. */
export interface SingleInstanceApp {
  requestSingleInstanceLock(): boolean;
  on(event: 'second-instance', listener: (...args: unknown[]) => void): unknown;
  quit(): void;
}

/**
 * One Owlet per user: a second launch (from the start menu, a desktop icon, login) quits at once
 * and the first one brings its dashboard forward. Returns false in the second instance, which must
 * then do nothing else (no tray, no indexer). The lock lives in userData, so configure that first.
 */
export function claimSingleInstance(app: SingleInstanceApp, onSecondLaunch: () => void): boolean {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return false;
  }
  app.on('second-instance', () => onSecondLaunch());
  return true;
}
