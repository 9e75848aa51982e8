import fs from 'node:fs';
import path from 'node:path';
import { AUDIT_DIR, checkAuditTrail } from '../../../audit/log.js';
import { openSecretStore, readStoreMarker } from '../../../security/secrets.js';
import type { DoctorCheck } from '../types.js';

/** The audit trail, when there is one: key and log together, chain intact up to the anchor in the key store. */
export const auditCheck: DoctorCheck = {
  id: 'audit',
  inspect(ctx) {
    const { dataDir, config } = ctx;
    if (!config || (readStoreMarker(dataDir) === null && !fs.existsSync(path.join(dataDir, AUDIT_DIR)))) return [];
    try {
      const r = checkAuditTrail(dataDir, openSecretStore(dataDir, config.security.secretStore));
      if (r.ok) return [{ id: 'audit', name: 'Audit log', status: 'ok', message: `${r.entries} entries verified, chain and anchor intact` }];
      return [
        {
          id: 'audit',
          name: 'Audit log',
          status: 'failed',
          message: `broken at ${r.firstBroken!.file}${r.firstBroken!.line ? ` line ${r.firstBroken!.line}` : ''}: ${r.firstBroken!.reason}`,
          remedy: 'find out who changed the data folder (the log no longer proves what happened before this point); "owlet audit verify" shows the details. New entries continue after the break.',
        },
      ];
    } catch (e) {
      return [{ id: 'audit', name: 'Audit log', status: 'failed', message: `cannot be checked: ${(e as Error).message}`, remedy: 'unlock the keychain (or restore the key store), then run "owlet audit verify"' }];
    }
  },
};
