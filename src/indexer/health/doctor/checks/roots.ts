import fs from 'node:fs';
import path from 'node:path';
import { fileLogger } from '../../../log/file-logger.js';
import { OwletService } from '../../../service/service.js';
import { withDataLock } from '../../../service/data-lock.js';
import { readApiToken } from '../../../security/token.js';
import { backupBeforeMigration } from '../../../backup/migration.js';
import { serviceAuditLog } from '../../../audit/service-audit.js';
import type { DoctorCheck, DoctorContext, DoctorFinding } from '../types.js';

function reachable(root: string): boolean {
  try {
    return fs.statSync(root).isDirectory() && fs.readdirSync(root).length > 0;
  } catch {
    return false;
  }
}

/**
 * Each configured folder against its state in the open index: reachable, fully scanned, not
 * wrongly marked offline. One rescan covers every folder that needs it.
 */
export const rootsCheck: DoctorCheck = {
  id: 'roots',
  inspect(ctx) {
    if (!ctx.index) return [];
    const known = new Map(ctx.index.store.roots().map((r) => [r.path, r]));
    const out: DoctorFinding[] = [];
    for (const rootCfg of ctx.config?.roots ?? []) {
      const root = path.resolve(rootCfg);
      const row = known.get(root);
      const base = { id: `root:${root}`, name: `Folder ${root}` };
      if (!reachable(root)) out.push({ ...base, status: 'degraded', message: 'missing, empty or offline; its documents are kept', remedy: 'reconnect the drive or share, or remove the folder from the configuration' });
      else if (!row || row.lastScanAt === null)
        out.push({ ...base, status: 'degraded', message: 'never fully scanned', remedy: ctx.service.running ? 'wait for the running service to finish its scan' : 'run "owlet index"', fix: `rescan ${root}` });
      else if (row.state === 'offline') out.push({ ...base, status: 'degraded', message: 'marked offline, but it is reachable now', remedy: 'rescan it (the service does so by itself within a minute)', fix: `rescan ${root}` });
      else out.push({ ...base, status: 'ok', message: `online, last scanned ${new Date(row.lastScanAt).toISOString()}` });
    }
    return out;
  },
  fix: {
    together(findings, ctx) {
      const roots = findings.map((f) => f.id.slice('root:'.length));
      return { check: 'roots', action: `rescan ${roots.join(', ')}`, run: () => rescan(ctx, roots) };
    },
  },
};

/** Through the running service when there is one, else one indexing pass here. */
async function rescan(ctx: DoctorContext, roots: string[]): Promise<string> {
  const { dataDir, deps } = ctx;
  const { running, info } = ctx.service;
  if (running && info) {
    const res = await deps.fetch(`${info.url}/api/v1/index/rescan`, { method: 'POST', headers: { Authorization: `Bearer ${readApiToken(dataDir)}` }, signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`the service answered ${res.status}`);
    return 'asked the running service to rescan';
  }
  await (deps.rescan ?? rescanHere)(dataDir, roots);
  return `rescanned ${roots.length} folder(s)`;
}

/** One indexing pass over the given roots in this process (no service runs). */
async function rescanHere(dataDir: string, roots: string[]): Promise<void> {
  return withDataLock(dataDir, 'doctor --fix', async () => {
    const service = new OwletService({ dataDir, log: fileLogger(dataDir, 'doctor'), watch: false, beforeMigrate: backupBeforeMigration, openAudit: serviceAuditLog });
    try {
      await service.indexOnce(roots);
    } finally {
      await service.stop();
    }
  });
}
