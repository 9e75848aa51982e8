/**
 * The dashboard window's preload: exposes `window.owlet` (src/shared/bridge.ts) and nothing else.
 * CommonJS on purpose: a sandboxed preload cannot be an ES module, and it may only require
 * 'electron', so the channel names are repeated here (a test checks they match BRIDGE_CHANNELS).
 * It passes strings through; main decides (sender, origin, and that the path is a document of the index).
 */
import { contextBridge, ipcRenderer } from 'electron';
import type { BridgeResult, OwletBridge } from '../shared/bridge.js';

const CHANNELS = { pickFolder: 'owlet:pick-folder', openPath: 'owlet:open-path', showInFolder: 'owlet:show-in-folder' } as const;

const bridge: OwletBridge = {
  pickFolder: () => ipcRenderer.invoke(CHANNELS.pickFolder) as Promise<string | null>,
  openPath: (p: string) => ipcRenderer.invoke(CHANNELS.openPath, String(p)) as Promise<BridgeResult>,
  showInFolder: (p: string) => ipcRenderer.invoke(CHANNELS.showInFolder, String(p)) as Promise<BridgeResult>,
};

contextBridge.exposeInMainWorld('owlet', Object.freeze(bridge));
