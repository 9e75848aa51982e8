import fs from 'node:fs';
import path from 'node:path';
import { INDEX_FILE } from '../../../service/context.js';
import { describeSecretStore } from '../../../security/secrets.js';
import type { DoctorCheck } from '../types.js';

/** Where the encryption key is kept, when there is an index: a key file is weaker than a keychain, and doctor says so. */
export const keysCheck: DoctorCheck = {
  id: 'keys',
  inspect(ctx) {
    if (!fs.existsSync(path.join(ctx.dataDir, INDEX_FILE))) return [];
    try {
      const k = describeSecretStore(ctx.dataDir);
      return [{ id: 'keys', name: 'Encryption key store', status: 'ok', message: k.weakness ?? `kept in ${k.where}` }];
    } catch (e) {
      return [{ id: 'keys', name: 'Encryption key store', status: 'degraded', message: `cannot tell where the keys are: ${(e as Error).message}`, remedy: 'run "owlet key status"' }];
    }
  },
};
