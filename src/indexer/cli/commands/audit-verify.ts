import fs from 'node:fs';
import { owletError } from '../../../shared/errors.js';
import { loadConfig } from '../../config/load.js';
import { resolveDataDir } from '../../config/paths.js';
import { checkAuditTrail } from '../../audit/log.js';
import { openSecretStore } from '../../security/secrets.js';
import type { CommandIo as AuditIo } from '../io.js';

/** `owlet audit verify`: exit 0 for an intact log, 1 with the first broken entry otherwise. */
export function verifyAuditTrail(o: { dataDir?: string; json?: boolean }, io: AuditIo, setCode: (c: number) => void): void {
  const dataDir = resolveDataDir(o.dataDir);
  if (!fs.existsSync(dataDir)) throw owletError('OWL_ERR_DATADIR_UNUSABLE', { dir: dataDir, reason: 'it does not exist' });
  const store = openSecretStore(dataDir, loadConfig(dataDir).security.secretStore);
  // Key and log must come together: either without the other is broken (checkAuditTrail).
  const r = checkAuditTrail(dataDir, store);
  if (o.json) io.out(JSON.stringify(r));
  else if (r.ok) io.out(`OK: ${r.entries} entries in ${r.files} file${r.files === 1 ? '' : 's'}, chain and head intact.`);
  else {
    const b = r.firstBroken!;
    io.out(`BROKEN at ${b.file}${b.line ? ` line ${b.line}` : ''}${b.seq !== null ? ` (entry ${b.seq})` : ''}: ${b.reason}`);
    io.out(`${r.entries} entries before it verified.`);
  }
  if (!r.ok) setCode(1);
}
