import path from 'node:path';
import type { Db } from '../../src/indexer/store/db.js';
import { openKeyedDatabase } from '../../src/indexer/store/data-key.js';
import { openSecretStore } from '../../src/indexer/security/secrets.js';

/**
 * Opens `<dataDir>/index.db` the way Owlet does (it is encrypted at rest): with the data key from
 * the data folder's secret store. Tests that inspect the database directly use this.
 */
export function openIndexDb(dataDir: string, opts: { readonly?: boolean } = { readonly: true }): Db {
  return openKeyedDatabase(path.join(dataDir, 'index.db'), openSecretStore(dataDir), { readonly: opts.readonly ?? true }).db;
}
