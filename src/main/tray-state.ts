import type { StatusReport } from '../shared/api.js';

/**
 * What the tray shows for a service status: one colour and one line. Pure, so it is tested
 * without Electron. The colours are the dashboard's (ok green, degraded amber, failed red).
 */
export type TrayLevel = 'ok' | 'busy' | 'degraded' | 'failed';

export interface TrayView {
  level: TrayLevel;
  tooltip: string;
}

/** `failure`: why the host gave up (its `failure.message`), shown instead of a generic line. */
export function trayView(status: StatusReport | null, supervisorState: string, failure?: string): TrayView {
  if (!status) {
    if (supervisorState === 'failed' && failure) return { level: 'failed', tooltip: `Owlet cannot start: ${failure}` };
    if (supervisorState === 'crash-loop' || supervisorState === 'failed') return { level: 'failed', tooltip: 'Owlet: the indexer keeps stopping; open the dashboard log for details' };
    return { level: 'busy', tooltip: 'Owlet: starting…' };
  }
  if (status.state === 'degraded') return { level: 'degraded', tooltip: `Owlet: ${status.degraded[0]?.message ?? 'degraded'}` };
  if (status.state === 'indexing') return { level: 'busy', tooltip: `Owlet: indexing (${status.progress.done} done, ${status.progress.queued} queued)` };
  if (status.state === 'paused') return { level: 'busy', tooltip: 'Owlet: indexing paused' };
  return { level: 'ok', tooltip: `Owlet: ${status.counts.indexed} documents indexed` };
}
