import fs from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { OwletError, owletError } from '../../../shared/errors.js';
import { loadConfig } from '../../config/load.js';
import { resolveDataDir } from '../../config/paths.js';
import { checkAuditTrail } from '../../audit/log.js';
import { openSecretStore } from '../../security/secrets.js';

export interface AuditIo {
  out: (s: string) => void;
  err: (s: string) => void;
}

/** `owlet audit verify`: exit 0 for an intact log, 1 with the first broken entry otherwise. */
export function registerAudit(program: Command, io: AuditIo, setCode: (c: number) => void): void {
  const audit = program.command('audit').description('the tamper-evident audit log');
  audit
    .command('verify')
    .description('check every entry of the audit log; report the first one that was edited, deleted, inserted, reordered or cut off')
    .addOption(new Option('--data-dir <dir>', 'data directory (default: $OWLET_DATA_DIR or the OS per-user data folder)'))
    .option('--json', 'print the result as JSON')
    .action((o: { dataDir?: string; json?: boolean }) => {
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
    });
}
