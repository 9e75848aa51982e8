import fs from 'node:fs';
import path from 'node:path';
import { INDEX_FILE, openIndex } from '../../../service/context.js';
import { SCHEMA_VERSION, schemaVersion } from '../../../store/migrations.js';
import type { DoctorCheck, DoctorFinding } from '../types.js';

const REMEDY_UNOPENABLE = 'restore a backup; or move index.db aside and index again with "owlet index" (your documents are not touched)';

/**
 * The index database opens (read-only; the runner closes it after the last check) and its schema
 * is one this Owlet can serve. Opening it needs a valid configuration (where its key is kept).
 */
export const databaseCheck: DoctorCheck = {
  id: 'database',
  inspect(ctx) {
    if (!fs.existsSync(path.join(ctx.dataDir, INDEX_FILE))) return [{ id: 'database', name: 'Index database', status: 'degraded', message: 'no index yet', remedy: 'index a folder with "owlet index --root DIR"' }];
    if (!ctx.config) return [{ id: 'database', name: 'Index database', status: 'degraded', message: 'not checked: the configuration must be valid first', remedy: 'fix the configuration, then run "owlet doctor" again' }];
    try {
      ctx.index = openIndex(ctx.dataDir, { readonly: true });
    } catch (e) {
      return [{ id: 'database', name: 'Index database', status: 'failed', message: (e as Error).message, remedy: REMEDY_UNOPENABLE }];
    }
    ctx.indexKey = ctx.index.key;
    return [schemaFinding(schemaVersion(ctx.index.db), Boolean(ctx.index.key))];
  },
};

function schemaFinding(v: number, encrypted: boolean): DoctorFinding {
  if (v > SCHEMA_VERSION) return { id: 'database', name: 'Index database', status: 'failed', message: `written by a newer Owlet (schema ${v}, this one knows ${SCHEMA_VERSION})`, remedy: 'update Owlet, or restore a backup made by this version' };
  if (v < SCHEMA_VERSION) return { id: 'database', name: 'Index database', status: 'degraded', message: `schema ${v}; it is upgraded to ${SCHEMA_VERSION} at the next start`, remedy: 'start the service once' };
  return { id: 'database', name: 'Index database', status: 'ok', message: `opens, schema ${v}${encrypted ? ', encrypted' : ''}` };
}
