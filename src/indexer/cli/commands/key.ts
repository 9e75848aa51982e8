import { Option, type Command } from '../commander.js';
import type { CommandIo } from '../io.js';

export type KeyIo = CommandIo;

const dataDirOption = () => new Option('--data-dir <dir>', 'data directory (default: $OWLET_DATA_DIR or the OS per-user data folder)');

/** The key commands; what they do (key-actions.ts) is loaded only when one runs. */
const actions = () => import('./key-actions.js');

export function registerKey(program: Command, io: KeyIo): void {
  const key = program.command('key').description('encryption key and API token: status, rotation');

  key
    .command('status')
    .description('where the keys are kept and whether the index is encrypted')
    .addOption(dataDirOption())
    .option('--json', 'print as JSON')
    .action(async (o: { dataDir?: string; json?: boolean }) => (await actions()).keyStatus(o, io));

  key
    .command('rotate')
    .description('re-encrypt the index under a new key (safe to interrupt: it opens with the old or the new key)')
    .addOption(dataDirOption())
    .option('--json', 'print the result as JSON')
    .action(async (o: { dataDir?: string; json?: boolean }) => (await actions()).rotateKey(o, io));

  key
    .command('rotate-token')
    .description('replace the API token (clients read the new one from the api-token file; dashboard sessions end)')
    .addOption(dataDirOption())
    .action(async (o: { dataDir?: string }) => (await actions()).rotateToken(o, io));
}
