import { owletError } from '../../../shared/errors.js';
import { ensureDataDir, resolveDataDir } from '../../config/paths.js';
import { loadConfig } from '../../config/load.js';
import { rememberRoots, resolveRoots } from '../../service/context.js';
import { OwletService } from '../../service/service.js';
import { fileLogger } from '../../log/file-logger.js';
import { databaseFiles } from '../../store/stats.js';
import { backupBeforeMigration } from '../../backup/migration.js';
import { serviceAuditLog } from '../../audit/service-audit.js';
import { ProgressBar } from '../progress.js';
import { summaryOfProblems } from '../problem-report.js';
import { mb, type Io } from '../io.js';

/** `owlet index`: one full pass over the roots, then a summary. */
export async function indexFolders(o: { root: string[]; dataDir?: string; json?: boolean }, io: Io): Promise<void> {
  const dataDir = resolveDataDir(o.dataDir);
  const roots = resolveRoots(o.root);
  ensureDataDir(dataDir);
  const config = rememberRoots(dataDir, loadConfig(dataDir), roots);
  if (config.roots.length === 0) throw owletError('OWL_ERR_ROOT_MISSING', { reason: 'no root to index: pass --root DIR' });
  const service = new OwletService({ dataDir, log: fileLogger(dataDir, 'index'), watch: false, beforeMigrate: backupBeforeMigration, openAudit: serviceAuditLog });
  const bar = new ProgressBar(io.stderr);
  const p = service.indexer.progress;
  service.indexer.onDidProcess(() => bar.update(p.done, p.done + p.queued, p.phase));
  const stopOnSignal = () => void service.stop();
  process.once('SIGINT', stopOnSignal);
  try {
    const s = await service.indexOnce(roots.length ? roots : undefined);
    bar.clear();
    // The same figures status and backups report (store/stats.ts): the whole index, not only this run.
    const counts = service.counts();
    const db = databaseFiles(dataDir);
    const files = s.indexed + s.skipped + s.failed;
    const rate = s.seconds > 0 ? files / s.seconds : files;
    if (o.json) io.out(JSON.stringify({ ...s, filesPerSecond: Math.round(rate * 10) / 10 }));
    else {
      io.out(
        `Indexed ${s.indexed} files, skipped ${s.skipped}, failed ${s.failed}, unchanged ${s.unchanged}, removed ${s.deleted}, renamed ${s.renamed}; ` +
          `${mb(s.bytes)} of files in ${s.seconds.toFixed(1)} s (${rate.toFixed(1)} files/s)`,
      );
      io.out(`Index: ${counts.indexed} documents (${mb(counts.bytes)} of files); database ${mb(db.total)}`);
      for (const r of s.offlineRoots) io.out(`Root offline (documents kept): ${r}`);
      // Index-wide, by reason: "189 skipped" alone makes an ordinary folder look broken.
      for (const l of summaryOfProblems(service.problemGroups())) io.out(l);
    }
  } finally {
    process.removeListener('SIGINT', stopOnSignal);
    await service.stop();
  }
}
