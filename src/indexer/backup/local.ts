import { fromErrorInfo, isErrorCode, owletError } from '../../shared/errors.js';
import { openAuditLog } from '../audit/log.js';
import { noAudit, type AuditLog } from '../audit/types.js';
import { loadConfig } from '../config/load.js';
import type { Logger } from '../log/logger.js';
import { fileHeaderIsPlain } from '../security/cipher.js';
import { discoverKeys } from '../store/key-discovery.js';
import { openSecretStore } from '../security/secrets.js';
import { readApiToken } from '../security/token.js';
import { openIndex } from '../service/context.js';
import { runningService } from '../service/service-file.js';
import { createBackup, type CreateOutcome } from './create.js';
import { diagnose } from '../store/damage.js';
import { indexedDocuments } from '../store/stats.js';
import { backupBeforeMigration } from './migration.js';
import { listBackups, type BackupReason } from './manifest.js';
import { backupDir, indexFile } from './paths.js';
import { restoreBackup, type RestoreResult } from './restore.js';
import { DEFAULT_BACKUP_CONFIG, type BackupConfig } from '../config/backup-settings.js';

/**
 * Backups without a running service (the CLI, the updater before the app starts), and the small
 * client the CLI uses when a service runs: then everything that writes goes through the service,
 * which owns the index.
 */

export function backupSettings(dataDir: string): BackupConfig {
  return (loadConfig(dataDir) as { backup?: BackupConfig }).backup ?? DEFAULT_BACKUP_CONFIG;
}

/**
 * Every key this install has (current, pending, retired), read from its secret store, only when
 * something encrypted needs one (opening the store may create its marker on a fresh folder).
 */
export function installKeys(dataDir: string, needed: boolean): Buffer[] {
  return needed ? discoverKeys({ dataDir, needed: () => true }) : [];
}

function backupsNeedKeys(dir: string): boolean {
  return listBackups(dir).some((b) => b.manifest.encrypted);
}

export function keysForBackups(dataDir: string): Buffer[] {
  return installKeys(dataDir, backupsNeedKeys(backupDir(dataDir, backupSettings(dataDir))) || fileHeaderIsPlain(indexFile(dataDir)) === false);
}

/** The install's audit log for commands run without the service (restore, create); none if unavailable. */
export function localAudit(dataDir: string, log: Logger): AuditLog {
  try {
    const config = loadConfig(dataDir);
    return openAuditLog(dataDir, openSecretStore(dataDir, config.security.secretStore), {
      maxFileBytes: config.security.audit.maxFileKb * 1024,
      onError: (e) => log.error('audit append failed', { error: e }),
    });
  } catch (e) {
    log.warn('audit log unavailable', { error: e });
    return noAudit;
  }
}

/** A backup of an index no service has open: its key comes from opening it read-only. */
export async function createLocal(dataDir: string, reason: BackupReason, log: Logger, audit?: AuditLog): Promise<CreateOutcome> {
  const ctx = openIndex(dataDir, { readonly: true });
  let key: Buffer | null;
  try {
    key = ctx.key;
  } finally {
    ctx.close();
  }
  return createBackup({ dataDir, settings: backupSettings(dataDir), key, log, audit }, reason);
}

/** Restore with no service running: set aside, swap, then open it as the service would to prove it. */
export function restoreLocal(dataDir: string, id: string, log: Logger, audit?: AuditLog): Promise<RestoreResult> {
  return restoreBackup({
    dataDir,
    dir: backupDir(dataDir, backupSettings(dataDir)),
    id,
    keys: keysForBackups(dataDir),
    log,
    audit,
    prove: () => {
      const ctx = openIndex(dataDir, { beforeMigrate: backupBeforeMigration });
      try {
        const d = diagnose(ctx.db);
        if (d.kind !== 'ok') throw owletError('OWL_ERR_DB_CORRUPT', { reason: `the restored index fails its check: ${d.problems.join('; ')}` });
        return indexedDocuments(ctx.db);
      } finally {
        ctx.close();
      }
    },
  });
}

/** Calls the running service's API with its bearer token; errors come back as OwletErrors. */
export async function callService<T>(dataDir: string, method: 'GET' | 'POST', route: string, body?: unknown, timeoutMs = 30 * 60_000): Promise<T> {
  const running = runningService(dataDir);
  if (!running) throw owletError('OWL_ERR_SERVICE_NOT_RUNNING', { dataDir });
  let res: Response;
  try {
    res = await fetch(`${running.url}${route}`, {
      method,
      headers: { Authorization: `Bearer ${readApiToken(dataDir)}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    throw owletError('OWL_ERR_SERVICE_UNREACHABLE', { url: running.url, request: `${method} ${route}`, reason: (e as Error).message });
  }
  const json = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
  if (!res.ok) {
    const code = isErrorCode(json.error?.code) ? json.error.code : 'OWL_ERR_INTERNAL';
    throw fromErrorInfo({ code, message: json.error?.message ?? `the service answered ${res.status} to ${method} ${route}` });
  }
  return json as T;
}
