import type { TrayUpdateStatus } from './updater.js';

/**
 * The tray's "Check for updates": runs the updater's signed check and tells the user what it found.
 * Downloading and "Restart to update" are the dashboard's update card (a deliberate step); a refusal
 * (bad signature, policy, feed unreachable…) is thrown so the tray reports it like any failed action.
 */
export async function checkForUpdatesAction(updater: () => { check(): Promise<TrayUpdateStatus> }, toast: (title: string, body: string) => void): Promise<TrayUpdateStatus> {
  const s = await updater().check();
  if (s.state === 'available') toast('Owlet update available', `Owlet ${s.version ?? ''} can be installed: open Owlet to download it.`);
  else if (s.state === 'up-to-date') toast('Owlet is up to date', `You have the newest version, ${s.currentVersion}.`);
  else if (s.state === 'refused' || s.state === 'error') throw Object.assign(new Error(s.message ?? 'the update check failed'), { code: s.reason ?? 'update-error' });
  return s;
}
