// The audit trail's types are a contract between processes and layers (the HTTP guard in
// security/, the service, the CLI, backups, updates): they live in src/shared/audit.ts, below every
// folder that appends, and are re-exported here for the audit code's own callers.
export type { AuditEventName, AuditFields, AuditLog, UpdateStep } from '../../shared/audit.js';
export { noAudit } from '../../shared/audit.js';
