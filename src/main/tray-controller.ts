import type { Menu, MenuItemConstructorOptions } from 'electron';
import type { StatusReport } from '../shared/api.js';
import type { ServiceClient } from './service-client.js';
import { trayMenuTemplate, type TrayMenuActions } from './tray-menu.js';
import { trayView, type TrayLevel, type TrayView } from './tray-state.js';
import type { TrayUpdateStatus } from './updater.js';

/** The slices of Electron's Tray and Menu this drives (tests pass fakes). */
export interface TrayLike {
  setImage(image: never): void;
  setToolTip(text: string): void;
  setContextMenu(menu: Menu | null): void;
}
export interface MenuApi {
  buildFromTemplate(template: MenuItemConstructorOptions[]): Menu;
}

export interface TrayControllerDeps {
  tray: TrayLike;
  menu: MenuApi;
  /** The image for a level (nativeImage in the app). */
  icon: (level: TrayLevel) => unknown;
  client: Pick<ServiceClient, 'status'>;
  /** The indexer host's supervisor state and failure. */
  host: () => { state: string; failure?: string };
  update: () => TrayUpdateStatus | null;
  startAtLogin: () => boolean;
  /** The menu's actions; `refresh` is supplied by the controller. */
  actions: Omit<TrayMenuActions, 'refresh'>;
}

/**
 * Keeps the tray in step with the service: icon and tooltip from trayView(), the menu rebuilt with
 * the current pause and login-item state. `refresh()` is called on a timer, on host state changes
 * and after each menu action; overlapping calls collapse into one.
 */
export class TrayController {
  private level: TrayLevel | null = null;
  private inFlight: Promise<TrayView> | null = null;
  private again = false;

  constructor(private readonly d: TrayControllerDeps) {}

  get currentLevel(): TrayLevel | null {
    return this.level;
  }

  refresh(): Promise<TrayView> {
    if (this.inFlight) {
      this.again = true;
      return this.inFlight;
    }
    this.inFlight = this.once().finally(() => {
      this.inFlight = null;
      if (this.again) {
        this.again = false;
        void this.refresh();
      }
    });
    return this.inFlight;
  }

  private async once(): Promise<TrayView> {
    const host = this.d.host();
    const status: StatusReport | null = await this.d.client.status().catch(() => null);
    const update = this.d.update();
    const view = trayView(status, host.state, host.failure, update);
    if (view.level !== this.level) {
      this.d.tray.setImage(this.d.icon(view.level) as never);
      this.level = view.level;
    }
    this.d.tray.setToolTip(view.tooltip);
    const template = trayMenuTemplate(
      {
        serviceUp: status !== null,
        paused: status?.paused ?? false,
        pausedByUser: status?.pausedBecause.includes('user') ?? false,
        pausedUntil: status?.pausedUntil ?? null,
        startAtLogin: this.d.startAtLogin(),
        updateBusy: update?.state === 'checking' || update?.state === 'downloading',
      },
      { ...this.d.actions, refresh: () => void this.refresh() },
    );
    this.d.tray.setContextMenu(this.d.menu.buildFromTemplate(template));
    return view;
  }
}
