import { Option, type Command } from '../commander.js';
import type { CommandIo } from '../io.js';

export type AuditIo = CommandIo;

/** `owlet audit verify`: exit 0 for an intact log, 1 with the first broken entry otherwise. */
export function registerAudit(program: Command, io: AuditIo, setCode: (c: number) => void): void {
  const audit = program.command('audit').description('the tamper-evident audit log');
  audit
    .command('verify')
    .description('check every entry of the audit log; report the first one that was edited, deleted, inserted, reordered or cut off')
    .addOption(new Option('--data-dir <dir>', 'data directory (default: $OWLET_DATA_DIR or the OS per-user data folder)'))
    .option('--json', 'print the result as JSON')
    // Loaded when run: the command line's start-up stays free of the audit and key modules.
    .action(async (o: { dataDir?: string; json?: boolean }) => (await import('./audit-verify.js')).verifyAuditTrail(o, io, setCode));
}
