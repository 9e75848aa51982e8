import type { UpdateCardView } from './api.js';

/**
 * The one object the app's preload exposes to the dashboard page as `window.owlet`: only what a
 * browser page cannot do. Everything else stays on the HTTP API. The page feature-detects it
 * (`window.owlet` is undefined in a browser).
 */
export type BridgeResult = { ok: true } | { ok: false; code: string; message: string };

/**
 * The tray app's updater (electron-updater behind the signature gate, src/main/updater.ts): in the
 * app, downloads and "Restart to update" belong to main, not to the service, so the Updates card
 * asks main. Each call answers the card's view; a refused call rejects with the reason.
 */
export interface UpdatesBridge {
  state(): Promise<UpdateCardView>;
  check(): Promise<UpdateCardView>;
  download(): Promise<UpdateCardView>;
  restart(): Promise<UpdateCardView>;
  rollback(): Promise<UpdateCardView>;
  /** Pushed on every change (download progress included); returns the unsubscribe. */
  onState(listener: (view: UpdateCardView) => void): () => void;
}

export interface OwletBridge {
  /** The native folder dialog; null when the user cancelled. */
  pickFolder(): Promise<string | null>;
  /** Opens a search hit with its default application. Refused for any path that is not a document of the index. */
  openPath(path: string): Promise<BridgeResult>;
  /** Shows a search hit in the file manager. Refused like openPath. */
  showInFolder(path: string): Promise<BridgeResult>;
  updates: UpdatesBridge;
}

/** IPC channel names (the preload repeats them: a sandboxed preload cannot import this module). */
export const BRIDGE_CHANNELS = {
  pickFolder: 'owlet:pick-folder',
  openPath: 'owlet:open-path',
  showInFolder: 'owlet:show-in-folder',
  updateState: 'owlet:update-state',
  updateCheck: 'owlet:update-check',
  updateDownload: 'owlet:update-download',
  updateRestart: 'owlet:update-restart',
  updateRollback: 'owlet:update-rollback',
  /** main → page: the view after every change. */
  updateChanged: 'owlet:update-changed',
} as const;
