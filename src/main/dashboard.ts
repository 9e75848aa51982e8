import type { ServiceClient } from './service-client.js';

/** The slice of a BrowserWindow the opener drives (tests pass a fake). */
export interface DashboardWindowLike {
  isDestroyed(): boolean;
  isMinimized(): boolean;
  restore(): void;
  show(): void;
  focus(): void;
  loadURL(url: string): Promise<void>;
  webContents: { once(event: 'did-finish-load', listener: () => void): unknown };
}

export interface DashboardOpenerDeps {
  /** Creates the locked-down window on a sign-in link (createDashboardWindow in the app). */
  create: (loginUrl: string) => DashboardWindowLike;
  client: Pick<ServiceClient, 'loginLink'>;
  /** The service origin now. */
  origin: () => string | undefined;
}

/**
 * Opens the dashboard, or brings the one window forward: the tray's "Open Owlet" and "Search…", a
 * notification click (at that alert) and a second launch of the app all come here. A new window
 * signs in with a one-time link (the page gets an HttpOnly session cookie, never the API token);
 * a place in the page is a fragment the page reads: `#search`, `#alert=<id>`.
 */
export class DashboardOpener {
  private win: DashboardWindowLike | null = null;

  constructor(private readonly d: DashboardOpenerDeps) {}

  /** The open window, if any. */
  get window(): DashboardWindowLike | null {
    return this.win && !this.win.isDestroyed() ? this.win : null;
  }

  async open(hash?: string): Promise<void> {
    const origin = this.d.origin();
    const existing = this.window;
    if (existing) {
      if (existing.isMinimized()) existing.restore();
      existing.show();
      existing.focus();
      if (hash && origin) await existing.loadURL(`${origin}/#${hash}`);
      return;
    }
    if (!origin) throw Object.assign(new Error('the indexer is not running yet; Owlet opens its dashboard once it is'), { code: 'OWL_ERR_SERVICE_NOT_RUNNING' });
    const link = await this.d.client.loginLink();
    const win = this.d.create(link);
    this.win = win;
    // The sign-in link redirects to "/": go to the place asked for once the page is there.
    if (hash) win.webContents.once('did-finish-load', () => void win.loadURL(`${origin}/#${hash}`));
  }
}
