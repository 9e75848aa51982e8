import type { StatusReport } from '../../../shared/api.js';
import { owletError } from '../../../shared/errors.js';
import { resolveDataDir } from '../../config/paths.js';
import { runningService } from '../../service/service-file.js';
import { readApiToken } from '../../security/token.js';
import { askService } from './service-client.js';
import { mb, type Io } from '../io.js';

function printStatus(s: StatusReport, io: Io): void {
  io.out(`Owlet ${s.version}: ${s.state}${s.paused ? ' (paused)' : ''}`);
  io.out(`  data:      ${s.dataDir}`);
  io.out(`  documents: ${s.counts.indexed} indexed (${mb(s.counts.bytes)} of files); ${s.counts.skipped} skipped, ${s.counts.failed} failed`);
  io.out(`  database:  ${mb(s.database.bytes + s.database.walBytes)}`);
  if (s.state === 'indexing') io.out(`  progress:  ${s.progress.phase === 'idle' ? 'catching up' : s.progress.phase}, ${s.progress.done} done, ${s.progress.queued} queued`);
  for (const r of s.roots) io.out(`  root:      ${r.path} (${r.state}${r.lastScanAt ? `, scanned ${r.lastScanAt}` : ''})`);
  io.out(`  watcher:   ${s.watcher.mode}${s.watcher.message ? ` (${s.watcher.message})` : ''}`);
  for (const d of s.degraded) io.out(`  degraded:  ${d.component}: ${d.message}`);
}

/**
 * `owlet status`: the running service's report over HTTP; without a service, what the index on
 * disk says (loaded only then: it opens the database).
 */
export async function showStatus(o: { dataDir?: string; json?: boolean }, io: Io): Promise<void> {
  const dataDir = resolveDataDir(o.dataDir);
  const running = runningService(dataDir);
  let status: StatusReport;
  if (running) {
    const a = await askService<StatusReport>(running, readApiToken(dataDir), '/api/v1/status', 'the status request');
    if (!a.ok) throw a.status === null ? a.error : owletError('OWL_ERR_SERVICE_UNREACHABLE', { url: running.url, request: 'the status request', reason: `HTTP ${a.status}` });
    status = a.body;
  } else {
    // No service: report what the index on disk says (the same builder the service uses).
    const [{ offlineStatusOf }, { openStoreToRead }] = await Promise.all([import('../../service/status.js'), import('./read-index.js')]);
    const ctx = await openStoreToRead(dataDir);
    try {
      status = offlineStatusOf(ctx);
    } finally {
      ctx.close();
    }
  }
  if (o.json) io.out(JSON.stringify({ ...status, service: running ? { url: running.url, pid: running.pid } : null }));
  else {
    printStatus(status, io);
    io.out(running ? `  service:   ${running.url} (pid ${running.pid})` : '  service:   not running');
  }
}
