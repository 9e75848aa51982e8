/**
 * The one object the app's preload exposes to the dashboard page as `window.owlet`: only what a
 * browser page cannot do. Everything else stays on the HTTP API. The page feature-detects it
 * (`window.owlet` is undefined in a browser).
 */
export type BridgeResult = { ok: true } | { ok: false; code: string; message: string };

export interface OwletBridge {
  /** The native folder dialog; null when the user cancelled. */
  pickFolder(): Promise<string | null>;
  /** Opens a search hit with its default application. Refused for any path that is not a document of the index. */
  openPath(path: string): Promise<BridgeResult>;
  /** Shows a search hit in the file manager. Refused like openPath. */
  showInFolder(path: string): Promise<BridgeResult>;
}

/** IPC channel names (the preload repeats them: a sandboxed preload cannot import this module). */
export const BRIDGE_CHANNELS = {
  pickFolder: 'owlet:pick-folder',
  openPath: 'owlet:open-path',
  showInFolder: 'owlet:show-in-folder',
} as const;
