import { Option, type Command } from '../commander.js';
import type { CommandIo } from '../io.js';
import type { Logger } from '../../log/logger.js';

export type BackupIo = CommandIo;

/** What the backup commands do (backup-actions.ts) is loaded only when one runs. */
const actions = () => import('./backup-actions.js');

/**
 * `owlet backup create | list [--json] | verify [ID] | restore ID`. With a service running,
 * create, verify and restore go through its API (it owns the index; a restore must swap its
 * database); without one they run here.
 */
export function registerBackup(program: Command, io: BackupIo, setCode: (c: number) => void, logFor?: (dataDir: string) => Logger): void {
  const dataDirOption = () => new Option('--data-dir <dir>', 'data directory (default: $OWLET_DATA_DIR or the OS per-user data folder)');
  const cmd = program.command('backup').description('verified backups of the index: create, list, verify, restore');

  cmd
    .command('create')
    .description('take a backup now (compressed, verified; retention prunes old ones)')
    .addOption(dataDirOption())
    .option('--json', 'print the result as JSON')
    .action(async (o: { dataDir?: string; json?: boolean }) => (await actions()).createBackup(o, io, setCode, logFor));

  cmd
    .command('list')
    .description('list backups, newest first')
    .addOption(dataDirOption())
    .option('--json', 'print the list as JSON')
    .action(async (o: { dataDir?: string; json?: boolean }) => (await actions()).listBackups(o, io, setCode, logFor));

  cmd
    .command('verify')
    .description('verify a backup (checksum, restore into a temporary folder, integrity check, document count); all when no ID')
    .argument('[id]', 'backup id (see "owlet backup list")')
    .addOption(dataDirOption())
    .option('--json', 'print the results as JSON')
    .action(async (id: string | undefined, o: { dataDir?: string; json?: boolean }) => (await actions()).verifyBackups(id, o, io, setCode, logFor));

  cmd
    .command('restore')
    .description('replace the index with a backup; the current index is set aside in recovery/, never deleted')
    .argument('<id>', 'backup id (see "owlet backup list")')
    .addOption(dataDirOption())
    .option('--json', 'print the result as JSON')
    .action(async (id: string, o: { dataDir?: string; json?: boolean }) => (await actions()).restoreBackup(id, o, io, setCode, logFor));
}

