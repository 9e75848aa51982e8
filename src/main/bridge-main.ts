import type { OpenDialogOptions } from 'electron';
import type { UpdateCardView } from '../shared/api.js';
import { BRIDGE_CHANNELS, type BridgeResult } from '../shared/bridge.js';
import type { ServiceClient } from './service-client.js';

/**
 * Main's side of `window.owlet`. Page script is untrusted (a bug or an injected script in the
 * dashboard must not be able to run programs), so each call is checked here, never in the preload:
 *
 * 1. the sender is the dashboard window's own web contents, the call comes from its main frame,
 *    and that frame shows the service's origin (no other window, iframe or navigated-away page);
 * 2. open/show: the path must be a document of the index under the configured roots. Main asks
 *    the service itself, with the API token the page never holds (`GET /api/v1/preview`: absolute
 *    path, no `..`, symlinks resolved, indexed), and then opens the path the SERVICE returned.
 *    Any document of the index is a possible search hit, and nothing the page sends can make the
 *    service vouch for a file it did not index. A list of "recent hits" kept from what the page
 *    reports would be exactly what page script could forge, so there is none.
 */
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcEventLike, ...args: unknown[]) => unknown): void;
}

/** A frame as Electron's WebFrameMain shows it (processId + routingId identify it). */
export interface FrameLike {
  url: string;
  processId?: number;
  routingId?: number;
}

export interface IpcEventLike {
  sender: unknown;
  senderFrame: FrameLike | null;
}

function sameFrame(a: FrameLike, b: FrameLike): boolean {
  if (a === b) return true;
  return a.processId !== undefined && a.routingId !== undefined && a.processId === b.processId && a.routingId === b.routingId;
}

export interface BridgeDeps {
  ipcMain: IpcMainLike;
  /** The dashboard window now (null when closed). */
  window: () => { webContents: { mainFrame: FrameLike } } | null;
  /** The service's origin now (`http://127.0.0.1:port`). */
  serviceOrigin: () => string | undefined;
  client: Pick<ServiceClient, 'verifyDocument'>;
  dialog: { showOpenDialog(window: never, options: OpenDialogOptions): Promise<{ canceled: boolean; filePaths: string[] }> };
  shell: { openPath(path: string): Promise<string>; showItemInFolder(path: string): void };
  /** Refusals are logged (never the path: it may be a document name). */
  log: { warn(msg: string, fields?: Record<string, unknown>): void };
}

export class BridgeRefusal extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const refused = (code: string, message: string): BridgeResult => ({ ok: false, code, message });

/** Throws BridgeRefusal unless the call comes from the dashboard window's main frame on the service origin. */
export function checkSender(d: Pick<BridgeDeps, 'window' | 'serviceOrigin'>, event: IpcEventLike): void {
  const win = d.window();
  const origin = d.serviceOrigin();
  if (!win || event.sender !== win.webContents) throw new BridgeRefusal('OWL_ERR_BRIDGE_SENDER', 'only the Owlet dashboard window may do this');
  if (!event.senderFrame || !sameFrame(event.senderFrame, win.webContents.mainFrame)) throw new BridgeRefusal('OWL_ERR_BRIDGE_SENDER', 'only the dashboard page itself may do this (not a frame inside it)');
  let frameOrigin: string;
  try {
    frameOrigin = new URL(event.senderFrame.url).origin;
  } catch {
    frameOrigin = 'null';
  }
  if (!origin || frameOrigin !== origin) throw new BridgeRefusal('OWL_ERR_BRIDGE_SENDER', 'only the dashboard served by this Owlet may do this');
}

function checkPathArg(p: unknown): string {
  if (typeof p !== 'string' || p.length === 0 || p.length > 4096) throw new BridgeRefusal('OWL_ERR_ARG_INVALID', 'path: must be a string of 1 to 4096 characters');
  return p;
}

/** Registers the three handlers; returns them too (tests call them directly). */
export function registerBridge(d: BridgeDeps) {
  const guarded =
    <T>(what: string, f: (event: IpcEventLike, ...args: unknown[]) => Promise<T>, onRefused: (r: BridgeRefusal) => T) =>
    async (event: IpcEventLike, ...args: unknown[]): Promise<T> => {
      try {
        checkSender(d, event);
        return await f(event, ...args);
      } catch (e) {
        const r = e instanceof BridgeRefusal ? e : new BridgeRefusal((e as { code?: string }).code ?? 'OWL_ERR_BRIDGE', (e as Error).message);
        d.log.warn('dashboard bridge call refused', { call: what, code: r.code, reason: r.message });
        return onRefused(r);
      }
    };

  const verified = async (p: unknown): Promise<string> => {
    const asked = checkPathArg(p);
    try {
      return await d.client.verifyDocument(asked);
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'OWL_ERR_BRIDGE';
      throw new BridgeRefusal(code, `not a document of the index: ${(e as Error).message}`);
    }
  };

  const handlers = {
    pickFolder: guarded<string | null>(
      'pickFolder',
      async () => {
        const win = d.window();
        const r = await d.dialog.showOpenDialog(win as never, { title: 'Add a folder to Owlet', properties: ['openDirectory', 'createDirectory'] });
        return r.canceled ? null : (r.filePaths[0] ?? null);
      },
      () => null,
    ),
    openPath: guarded<BridgeResult>(
      'openPath',
      async (_e, p) => {
        const file = await verified(p);
        const err = await d.shell.openPath(file);
        return err ? refused('OWL_ERR_OPEN_FAILED', `the file could not be opened: ${err}`) : { ok: true };
      },
      (r) => refused(r.code, r.message),
    ),
    showInFolder: guarded<BridgeResult>(
      'showInFolder',
      async (_e, p) => {
        d.shell.showItemInFolder(await verified(p));
        return { ok: true };
      },
      (r) => refused(r.code, r.message),
    ),
  };
  d.ipcMain.handle(BRIDGE_CHANNELS.pickFolder, handlers.pickFolder);
  d.ipcMain.handle(BRIDGE_CHANNELS.openPath, handlers.openPath);
  d.ipcMain.handle(BRIDGE_CHANNELS.showInFolder, handlers.showInFolder);
  return handlers;
}

/** The slice of TrayUpdater the card's channel drives. */
export interface CardUpdater {
  view(): UpdateCardView;
  check(): Promise<unknown>;
  download(): Promise<unknown>;
  install(): Promise<unknown>;
  rollback(): Promise<unknown>;
  onDidChange(listener: () => void): () => void;
}

export interface UpdateBridgeDeps extends Pick<BridgeDeps, 'ipcMain' | 'serviceOrigin' | 'log'> {
  window: () => { webContents: { mainFrame: FrameLike; send(channel: string, ...args: unknown[]): void } } | null;
  /** The app's updater, or why there is none (a development run without trusted keys). */
  updater: () => CardUpdater | { unavailable: string };
  /** The version shown when there is no updater. */
  version: string;
}

/**
 * `window.owlet.updates`: the dashboard's Updates card talking to main's updater (download
 * progress and "Restart to update" live in main, beside electron-updater). Every call is checked
 * like the others (the dashboard window's main frame on the service origin); a refused call
 * rejects. Changes are pushed to the dashboard window only.
 */
export function registerUpdateBridge(d: UpdateBridgeDeps) {
  const unavailableView = (why: string): UpdateCardView => ({
    host: 'app',
    running: d.version,
    off: { kind: 'not-installed', message: why },
    channel: 'latest',
    available: null,
    lastCheck: null,
    progress: null,
    readyToRestart: false,
    previous: null,
    problem: null,
    history: [],
    bad: [],
  });
  const current = () => {
    const u = d.updater();
    return 'unavailable' in u ? { u: null, why: u.unavailable } : { u, why: null };
  };
  const guarded =
    (what: string, act: (u: CardUpdater) => Promise<unknown>) =>
    async (event: IpcEventLike): Promise<UpdateCardView> => {
      try {
        checkSender({ window: d.window, serviceOrigin: d.serviceOrigin }, event);
      } catch (e) {
        const r = e as BridgeRefusal;
        d.log.warn('dashboard bridge call refused', { call: what, code: r.code, reason: r.message });
        throw new Error(r.message);
      }
      const { u, why } = current();
      if (!u) return unavailableView(why!);
      await act(u);
      return u.view();
    };
  const handlers = {
    state: guarded('updates.state', async () => {}),
    check: guarded('updates.check', (u) => u.check()),
    download: guarded('updates.download', (u) => u.download()),
    restart: guarded('updates.restart', (u) => u.install()),
    rollback: guarded('updates.rollback', (u) => u.rollback()),
  };
  d.ipcMain.handle(BRIDGE_CHANNELS.updateState, handlers.state);
  d.ipcMain.handle(BRIDGE_CHANNELS.updateCheck, handlers.check);
  d.ipcMain.handle(BRIDGE_CHANNELS.updateDownload, handlers.download);
  d.ipcMain.handle(BRIDGE_CHANNELS.updateRestart, handlers.restart);
  d.ipcMain.handle(BRIDGE_CHANNELS.updateRollback, handlers.rollback);
  /** Starts pushing the updater's changes to the dashboard window; returns the unsubscribe. */
  const push = (): (() => void) => {
    const { u } = current();
    if (!u) return () => {};
    return u.onDidChange(() => {
      const win = d.window();
      if (!win) return;
      // Only to the service's own page: the same origin check as the calls.
      let origin = 'null';
      try {
        origin = new URL(win.webContents.mainFrame.url).origin;
      } catch {
        /* not a URL: not ours */
      }
      if (origin === d.serviceOrigin()) win.webContents.send(BRIDGE_CHANNELS.updateChanged, u.view());
    });
  };
  return { handlers, push };
}
