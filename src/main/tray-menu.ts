import type { MenuItemConstructorOptions } from 'electron';
import type { ServiceClient } from './service-client.js';

/**
 * The tray's menu: a pure template built from the current state and a set of actions, so every
 * item is tested by clicking it. Every indexing action goes through the service API (`client`);
 * updates go through the app's updater (electron-updater lives in main, not in the service).
 */
export interface TrayMenuState {
  /** The service answers its API. */
  serviceUp: boolean;
  paused: boolean;
  /** Paused by the user (not by the battery or a full disk): only that pause can be resumed here. */
  pausedByUser: boolean;
  /** ISO time a timed pause ends. */
  pausedUntil: string | null;
  startAtLogin: boolean;
  /** An update check or download is under way. */
  updateBusy: boolean;
}

export interface TrayMenuActions {
  client: Pick<ServiceClient, 'pause' | 'resume' | 'backupNow'>;
  /** Opens (or focuses) the dashboard; `hash` selects a place in it (`search`, `alert=<id>`). */
  openDashboard(hash?: string): Promise<void> | void;
  checkForUpdates(): Promise<unknown>;
  openLogsFolder(): Promise<void> | void;
  setStartAtLogin(on: boolean): void;
  quit(): void;
  /** An action failed: tell the user (a notification) and log it. */
  report(what: string, error: unknown): void;
  /** After an action changed something the tray shows. */
  refresh(): void;
  now?: () => Date;
}

/** "Until tomorrow" means tomorrow morning at 08:00 local time, when people start work. */
export function tomorrowMorning(now: Date): Date {
  const d = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1, 8, 0, 0, 0);
  return d;
}

function run(a: TrayMenuActions, what: string, f: () => Promise<unknown> | unknown): void {
  void (async () => {
    try {
      await f();
    } catch (e) {
      a.report(what, e);
    } finally {
      a.refresh();
    }
  })();
}

export function trayMenuTemplate(s: TrayMenuState, a: TrayMenuActions): MenuItemConstructorOptions[] {
  const now = () => (a.now ?? (() => new Date()))();
  const pauseFor = (label: string, until: (() => Date) | null): MenuItemConstructorOptions => ({
    label,
    enabled: s.serviceUp,
    click: () => run(a, 'Pausing indexing', () => a.client.pause(until ? until() : undefined)),
  });
  const items: MenuItemConstructorOptions[] = [
    { id: 'open', label: 'Open Owlet', click: () => run(a, 'Opening Owlet', () => a.openDashboard()) },
    { id: 'search', label: 'Search…', enabled: s.serviceUp, click: () => run(a, 'Opening search', () => a.openDashboard('search')) },
    { type: 'separator' },
  ];
  if (s.paused && s.pausedByUser) {
    items.push({ id: 'resume', label: 'Resume indexing', enabled: s.serviceUp, click: () => run(a, 'Resuming indexing', () => a.client.resume()) });
  } else {
    items.push({
      id: 'pause',
      label: 'Pause indexing',
      enabled: s.serviceUp,
      submenu: [
        { id: 'pause-hour', ...pauseFor('For 1 hour', () => new Date(now().getTime() + 3_600_000)) },
        { id: 'pause-tomorrow', ...pauseFor('Until tomorrow', () => tomorrowMorning(now())) },
        { id: 'pause-indefinitely', ...pauseFor('Until resumed', null) },
      ],
    });
  }
  items.push(
    { id: 'backup', label: 'Back up now', enabled: s.serviceUp, click: () => run(a, 'Backing up', () => a.client.backupNow()) },
    { id: 'updates', label: s.updateBusy ? 'Checking for updates…' : 'Check for updates', enabled: !s.updateBusy, click: () => run(a, 'Checking for updates', () => a.checkForUpdates()) },
    { type: 'separator' },
    { id: 'logs', label: 'Open logs folder', click: () => run(a, 'Opening the logs folder', () => a.openLogsFolder()) },
    { id: 'login', label: 'Start at login', type: 'checkbox', checked: s.startAtLogin, click: (item) => run(a, 'Changing start at login', () => a.setStartAtLogin(item.checked)) },
    { type: 'separator' },
    { id: 'quit', label: 'Quit Owlet', click: () => a.quit() },
  );
  return items;
}
