/**
 * The dashboard window's preload: exposes `window.owlet` (src/shared/bridge.ts) and nothing else.
 * CommonJS on purpose: a sandboxed preload cannot be an ES module, and it may only require
 * 'electron', so the channel names are repeated here (a test checks they match BRIDGE_CHANNELS).
 * It passes strings through; main decides (sender, origin, and that the path is a document of the index).
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { UpdateCardView } from '../shared/api.js';
import type { BridgeResult, OwletBridge } from '../shared/bridge.js';

const CHANNELS = {
  pickFolder: 'owlet:pick-folder',
  openPath: 'owlet:open-path',
  showInFolder: 'owlet:show-in-folder',
  updateState: 'owlet:update-state',
  updateCheck: 'owlet:update-check',
  updateDownload: 'owlet:update-download',
  updateRestart: 'owlet:update-restart',
  updateRollback: 'owlet:update-rollback',
  updateChanged: 'owlet:update-changed',
} as const;

const view = (channel: string) => () => ipcRenderer.invoke(channel) as Promise<UpdateCardView>;

const bridge: OwletBridge = {
  pickFolder: () => ipcRenderer.invoke(CHANNELS.pickFolder) as Promise<string | null>,
  openPath: (p: string) => ipcRenderer.invoke(CHANNELS.openPath, String(p)) as Promise<BridgeResult>,
  showInFolder: (p: string) => ipcRenderer.invoke(CHANNELS.showInFolder, String(p)) as Promise<BridgeResult>,
  updates: Object.freeze({
    state: view(CHANNELS.updateState),
    check: view(CHANNELS.updateCheck),
    download: view(CHANNELS.updateDownload),
    restart: view(CHANNELS.updateRestart),
    rollback: view(CHANNELS.updateRollback),
    onState: (listener: (v: UpdateCardView) => void) => {
      // The page never sees the event object (it carries the sender).
      const wrapped = (_e: IpcRendererEvent, v: UpdateCardView) => listener(v);
      ipcRenderer.on(CHANNELS.updateChanged, wrapped);
      return () => void ipcRenderer.removeListener(CHANNELS.updateChanged, wrapped);
    },
  }),
};

contextBridge.exposeInMainWorld('owlet', Object.freeze(bridge));
