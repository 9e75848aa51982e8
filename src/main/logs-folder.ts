import path from 'node:path';
import { ensurePrivateDir } from '../indexer/security/files.js';

/**
 * The tray's "Open logs folder": the data folder's `logs/`, where `service.log` lives. That is the
 * folder a user attaches to a bug report (one folder, one window). Main's own `main.log` stays in
 * Electron's logs folder (`app.getPath('logs')`); the service's lines are forwarded into it too, so
 * it is the one to read for the app's start-up, not the one a user is pointed at.
 * The folder is created (owner-only) when the service has not written it yet, so the click never
 * fails on a fresh install.
 */
export function logsFolderOf(dataDir: string): string {
  return path.join(dataDir, 'logs');
}

export async function openLogsFolder(dataDir: string, shell: { openPath(p: string): Promise<string> }): Promise<string> {
  const dir = logsFolderOf(dataDir);
  ensurePrivateDir(dir);
  const err = await shell.openPath(dir);
  // shell.openPath answers an error string instead of rejecting.
  if (err) throw new Error(`the logs folder ${dir} could not be opened: ${err}`);
  return dir;
}
