import path from 'node:path';
import { createHash } from 'node:crypto';
import type { Logger } from '../log/logger.js';
import { CONFIG_FILE } from '../config/load.js';
import { readIfExists, writePrivateFile } from '../security/files.js';
import type { IndexContext } from '../service/context.js';
import { AUDIT_DIR, checkAuditTrail, openAuditLog } from './log.js';
import { noAudit, type AuditFields, type AuditLog } from './types.js';

/**
 * The service's audit log, keyed from the same secret store as the database. If it cannot be
 * opened (its key is gone while entries exist) the service still runs and says why in its log;
 * `owlet audit verify` reports the same problem.
 */
export function serviceAuditLog(ctx: IndexContext, log: Logger): AuditLog {
  if (!ctx.secrets) return noAudit;
  try {
    // A broken trail (folder deleted, key gone, entries cut) is reported, and auditing goes on
    // after the anchor so the gap stays visible; doctor and "owlet audit verify" say the same.
    const state = checkAuditTrail(ctx.dataDir, ctx.secrets);
    if (!state.ok) log.error('the audit log is broken', { reason: state.firstBroken?.reason ?? 'unknown' });
  } catch (e) {
    log.error('the audit log could not be checked', { error: e });
  }
  try {
    const audit = openAuditLog(ctx.dataDir, ctx.secrets, {
      maxFileBytes: ctx.config.security.audit.maxFileKb * 1024,
      keepFiles: ctx.config.security.audit.keepFiles,
      onError: (e) => log.error('audit append failed', { error: e }),
    });
    for (const e of ctx.keyEvents) {
      if (e === 'migrated') audit.append('key.migrated', { from: 'plaintext', store: ctx.secrets.kind });
      // Same key, new form: the file is no longer keyed through PBKDF2 (security/cipher.ts).
      if (e === 'converted-keying') audit.append('key.migrated', { from: 'pbkdf2-keyed', to: 'raw-keyed', store: ctx.secrets.kind });
      if (e === 'promoted-pending') audit.append('key.rotated', { recovered: true, store: ctx.secrets.kind });
      if (e === 'conversion-deferred') log.warn('the index keeps its old (PBKDF2) keying for now: converting it failed (busy or out of space); the next start tries again', {});
    }
    return audit;
  } catch (e) {
    log.error('audit log unavailable; security events are not being recorded', { error: e });
    return noAudit;
  }
}

/**
 * Service start, plus `config.changed` when config.json differs from what the last start saw
 * (this catches hand edits as well as changes made through Owlet). Only a digest is recorded.
 */
export function auditServiceStart(audit: AuditLog, dataDir: string, fields: AuditFields): void {
  audit.append('service.start', fields);
  const configFile = path.join(dataDir, CONFIG_FILE);
  const seenFile = path.join(dataDir, AUDIT_DIR, 'config-seen');
  const raw = readIfExists(configFile);
  const digest = raw ? createHash('sha256').update(raw).digest('hex') : 'none';
  const seen = readIfExists(seenFile)?.toString('utf8').trim();
  if (seen === digest) return;
  audit.append('config.changed', { sha256: digest, first: seen === undefined });
  try {
    writePrivateFile(seenFile, digest + '\n');
  } catch {
    /* next start records it again: harmless */
  }
}
