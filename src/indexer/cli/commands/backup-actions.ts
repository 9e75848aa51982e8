import { resolveDataDir } from '../../config/paths.js';
import type { Logger } from '../../log/logger.js';
import type { CreateOutcome } from '../../backup/create.js';
import { backupSettings, callService, createLocal, keysForBackups, localAudit, restoreLocal } from '../../backup/local.js';
import type { BackupListing, BackupSummary } from '../../backup/listing.js';
import { listing } from '../../backup/listing.js';
import type { RestoreResult } from '../../backup/restore.js';
import type { Verification } from '../../backup/manifest.js';
import { backupDir } from '../../backup/paths.js';
import { assertBackupId } from '../../backup/ids.js';
import { verifyAll, verifyBackup } from '../../backup/verify.js';
import { runningService } from '../../service/service-file.js';
import { withDataLock } from '../../service/data-lock.js';
import { fileLogger } from '../../log/file-logger.js';
import type { CommandIo as BackupIo } from '../io.js';


function mb(n: number): string {
  return `${(n / 1048576).toFixed(1)} MB`;
}

function mark(b: BackupSummary): string {
  if (!b.present) return 'missing';
  if (b.verification === null) return 'unverified';
  return b.verified ? 'verified' : 'FAILED';
}

function printListing(l: BackupListing, io: BackupIo): void {
  io.out(`Backups in ${l.dir}: ${l.backups.length}${l.lastVerifiedAt ? `, last verified ${l.lastVerifiedAt}` : ', none verified yet'}`);
  if (l.nextScheduledAt) io.out(`Next scheduled: ${l.nextScheduledAt}`);
  io.out(`Storage: ${mb(l.storage.usedBytes)} used of a ${mb(l.storage.budgetBytes)} budget (backup.maxBytes)`);
  for (const b of l.backups) io.out(`  ${b.id}  ${b.createdAt}  ${b.reason.padEnd(13)} ${(b.kind === 'incremental' ? 'incr' : 'full').padEnd(4)} ${String(b.documentCount).padStart(7)} docs  ${mb(b.size).padStart(9)}  ${mark(b)}${b.verification && !b.verification.ok ? ` (${b.verification.message})` : ''}`);
  if (l.state.lastSkip) io.out(`Last skipped: ${l.state.lastSkip.at}: ${l.state.lastSkip.message}`);
  if (l.state.lastFailure) io.out(`Last failure: ${l.state.lastFailure.at}: ${l.state.lastFailure.message}`);
  if (l.state.lastRecovery) {
    const r = l.state.lastRecovery;
    io.out(`Last recovery: ${r.at}: ${r.action}${r.backupId ? ` from ${r.backupId}` : ''}${r.quarantined ? `; damaged file kept at ${r.quarantined}` : ''}`);
  }
}

function printVerification(results: { id: string; verification: Verification }[], io: BackupIo): boolean {
  let allOk = true;
  for (const r of results) {
    allOk &&= r.verification.ok;
    io.out(r.verification.ok ? `ok      ${r.id}` : `FAILED  ${r.id}: ${r.verification.message}`);
  }
  if (results.length === 0) io.out('No backups to verify.');
  return allOk;
}


export type LogFor = (dataDir: string) => Logger;
const defaultLogFor: LogFor = (d) => fileLogger(d, 'backup');

/** `owlet backup create`: through the service when one runs, here otherwise. */
export async function createBackup(o: { dataDir?: string; json?: boolean }, io: BackupIo, setCode: (c: number) => void, logFor?: LogFor): Promise<void> {
  const dataDir = resolveDataDir(o.dataDir);
  const out: CreateOutcome = runningService(dataDir)
    ? await callService<CreateOutcome>(dataDir, 'POST', '/api/v1/backups', { reason: 'manual' })
    : await (async () => {
        const log = (logFor ?? defaultLogFor)(dataDir);
        return createLocal(dataDir, 'manual', log, localAudit(dataDir, log));
      })();
  if (o.json) io.out(JSON.stringify(out));
  if (out.status === 'skipped') {
    if (!o.json) io.err(`owlet: ${out.skip.message}`);
    return setCode(1);
  }
  const m = out.manifest;
  if (!o.json) {
    io.out(`Backup ${m.id} (${m.kind}${m.kind === 'incremental' ? ` on ${m.parentId}` : ''}): ${m.documentCount} documents, ${mb(m.size)}${m.encrypted ? ', encrypted' : ''}, ${m.verification?.ok ? 'verified' : `NOT verified: ${m.verification?.message ?? 'unknown'}`} (${(out.ms / 1000).toFixed(1)} s)`);
    if (out.retention) {
      io.out(`Retention: ${out.retention.message}; backups use ${mb(out.retention.usedBytes)} of ${mb(out.retention.budgetBytes)}.`);
      for (const id of out.retention.announced) io.out(`Backup ${id} is covered by a newer verified backup and will be removed at the next backup.`);
      if (out.retention.budgetWarning) io.err(`owlet: warning: ${out.retention.budgetWarning}`);
    }
  }
  if (!m.verification?.ok) setCode(1);
}

/** `owlet backup list`: read from the backup folder, no service needed. */
export function listBackups(o: { dataDir?: string; json?: boolean }, io: BackupIo, setCode: (c: number) => void, logFor?: LogFor): void {
  const dataDir = resolveDataDir(o.dataDir);
  const l = listing(dataDir, backupSettings(dataDir), null, null);
  if (o.json) io.out(JSON.stringify(l));
  else printListing(l, io);
}

/** `owlet backup verify [ID]`: all backups when no id. */
export async function verifyBackups(id: string | undefined, o: { dataDir?: string; json?: boolean }, io: BackupIo, setCode: (c: number) => void, logFor?: LogFor): Promise<void> {
  if (id !== undefined) assertBackupId(id);
  const dataDir = resolveDataDir(o.dataDir);
  let results: { id: string; verification: Verification }[];
  if (runningService(dataDir)) results = (await callService<{ results: typeof results }>(dataDir, 'POST', id ? `/api/v1/backups/${encodeURIComponent(id)}/verify` : '/api/v1/backups/verify')).results;
  else {
    const dir = backupDir(dataDir, backupSettings(dataDir));
    const keys = keysForBackups(dataDir);
    results = id ? [{ id, verification: await verifyBackup(dir, id, keys) }] : await verifyAll(dir, keys);
  }
  const ok = o.json ? results.every((r) => r.verification.ok) : printVerification(results, io);
  if (o.json) io.out(JSON.stringify({ results }));
  if (!ok) setCode(1);
}

/** `owlet backup restore ID`: the current index is set aside, never deleted. */
export async function restoreBackup(id: string, o: { dataDir?: string; json?: boolean }, io: BackupIo, setCode: (c: number) => void, logFor?: LogFor): Promise<void> {
  assertBackupId(id);
  const dataDir = resolveDataDir(o.dataDir);
  let r: RestoreResult;
  if (runningService(dataDir)) r = await callService<RestoreResult>(dataDir, 'POST', `/api/v1/backups/${encodeURIComponent(id)}/restore`);
  else {
    const log = (logFor ?? defaultLogFor)(dataDir);
    // No service.json does not prove no service: the data folder's lock does.
    r = await withDataLock(dataDir, `backup restore`, () => restoreLocal(dataDir, id, log, localAudit(dataDir, log)));
  }
  if (o.json) return io.out(JSON.stringify(r));
  io.out(`Restored backup ${r.id} (${r.documents} documents).${r.setAside ? ` The previous index is kept at ${r.setAside}.` : ''}`);
  io.out(runningService(dataDir) ? 'The service is bringing it up to date with your folders.' : 'The next "owlet serve" or "owlet index" brings it up to date with your folders.');
}
