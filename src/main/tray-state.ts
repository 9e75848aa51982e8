import type { StatusReport } from '../shared/api.js';
import type { TrayUpdateStatus } from './updater.js';

/**
 * What the tray shows: one icon and one line for the overall state. Pure, so it is tested without
 * Electron. The colours are the dashboard's (ok green, indexing blue, paused grey, degraded amber,
 * failed red, updating violet).
 */
export type TrayLevel = 'ok' | 'indexing' | 'paused' | 'degraded' | 'failed' | 'updating';

export const TRAY_LEVELS: readonly TrayLevel[] = ['ok', 'indexing', 'paused', 'degraded', 'failed', 'updating'];

/** The icon file (in build/) for each level; `@2x` siblings are picked up by Electron on HiDPI. */
export const TRAY_ICONS: Record<TrayLevel, string> = {
  ok: 'tray-ok.png',
  indexing: 'tray-busy.png',
  paused: 'tray-paused.png',
  degraded: 'tray-degraded.png',
  failed: 'tray-failed.png',
  updating: 'tray-updating.png',
};

export interface TrayView {
  level: TrayLevel;
  tooltip: string;
}

/** Update states during which the app is busy with an update (the icon says so). */
const UPDATING: ReadonlySet<TrayUpdateStatus['state']> = new Set(['downloading', 'ready-to-install', 'installing', 'verifying']);

function clock(iso: string): string {
  const d = new Date(iso);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/**
 * `failure`: why the host gave up (its `failure.message`), shown instead of a generic line.
 * Precedence: a failed service first (nothing else works), then an update in progress, then the
 * service's own state.
 */
export function trayView(status: StatusReport | null, supervisorState: string, failure?: string, update?: TrayUpdateStatus | null): TrayView {
  if (!status) {
    if (supervisorState === 'failed' && failure) return { level: 'failed', tooltip: `Owlet cannot start: ${failure}` };
    if (supervisorState === 'crash-loop' || supervisorState === 'failed') return { level: 'failed', tooltip: 'Owlet: the indexer keeps stopping; open the logs folder for details' };
  }
  if (update && UPDATING.has(update.state)) {
    const what = update.state === 'downloading' ? `downloading ${update.version ?? 'an update'}${update.percent !== null ? ` (${update.percent} %)` : ''}` : update.state === 'ready-to-install' ? `${update.version ?? 'an update'} is ready to install` : update.state === 'verifying' ? `checking ${update.version ?? 'the update'} after installing` : `installing ${update.version ?? 'an update'}`;
    return { level: 'updating', tooltip: `Owlet: ${what}` };
  }
  if (!status) return { level: 'indexing', tooltip: 'Owlet: starting…' };
  if (status.state === 'degraded') return { level: 'degraded', tooltip: `Owlet: ${status.degraded[0]?.message ?? 'degraded'}` };
  if (status.state === 'paused' || status.paused) {
    const why = status.pausedBecause.includes('user') ? (status.pausedUntil ? `until ${clock(status.pausedUntil)}` : 'until you resume') : `(${status.pausedBecause.join(', ') || 'paused'})`;
    return { level: 'paused', tooltip: `Owlet: indexing paused ${why}` };
  }
  // Never "up to date" while work is queued.
  if (status.state === 'indexing' || status.state === 'starting' || status.progress.queued > 0) {
    const left = status.progress.queued;
    return { level: 'indexing', tooltip: `Owlet: indexing, ${left} file${left === 1 ? '' : 's'} left (${status.progress.done} done)` };
  }
  return { level: 'ok', tooltip: `Owlet: up to date, ${status.counts.indexed} documents indexed` };
}
