/**
 * The audit trail's public face: the service, the HTTP guard, the CLI and the backup code append
 * security-relevant events through this, never by writing files themselves.
 */
export type AuditEventName =
  | 'service.start'
  | 'service.stop'
  | 'auth.login'
  | 'auth.login-failed'
  | 'auth.token-failed'
  | 'auth.token-rotated'
  | 'config.changed'
  // Written by the dashboard's folder and settings routes (service/config-editor.ts).
  | 'root.added'
  | 'root.removed'
  | 'exclusion.added'
  | 'exclusion.removed'
  | 'settings.changed'
  | 'key.rotated'
  | 'key.migrated'
  | 'backup.created'
  | 'backup.restored'
  // Written by the update feature (src/indexer/update, issue #12).
  | 'update.installed'
  | 'update.rolled-back'
  | `update.${UpdateStep}`;

/** The steps of a headless update, each audited as `update.<step>` (update/headless.ts). */
export type UpdateStep = 'interrupted' | 'refused' | 'started' | 'downloaded' | 'unpacked' | 'backed-up' | 'service-started' | 'handed-over' | 'switched' | 'gate-failed' | 'backup-restored';
// Only events something writes belong here: the union is the list an auditor reads, so a name
// nothing appends (like a former 'index.wiped') is removed rather than left as a promise.

/** Field values are small scalars: never document contents, never secrets. */
export type AuditFields = Record<string, string | number | boolean | null>;

export interface AuditLog {
  /** Appends one entry durably (fsync) before returning. Never throws: a failure is logged. */
  append(event: AuditEventName, fields?: AuditFields): void;
}

/** For code paths and tests that run without an audit trail. */
export const noAudit: AuditLog = { append: () => {} };
