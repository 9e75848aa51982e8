import { Option, type Command } from '../commander.js';
import type { CommandIo } from '../io.js';

export type UpdateIo = CommandIo;

/** What the update commands do (update-actions.ts) is loaded only when one runs. */
const actions = () => import('./update-actions.js');

/** `owlet update check | apply | rollback | status [--feed URL] [--json]`. */
export function registerUpdate(program: Command, io: UpdateIo, setCode: (c: number) => void): void {
  const cmd = program.command('update').description('signed updates of an installed Owlet: check, apply (through `owlet run`), rollback, status');
  const dataDirOpt = () => new Option('--data-dir <dir>', 'data directory (default: $OWLET_DATA_DIR or the OS per-user data folder)');

  cmd
    .command('check')
    .description('fetch and verify the feed manifest; say whether an update is available')
    .addOption(dataDirOpt())
    .option('--feed <url>', 'check this feed instead of updates.feedUrl (the policy still applies)')
    .option('--json', 'print the result as JSON')
    .action(async (o: { dataDir?: string; feed?: string; json?: boolean }) => (await actions()).checkForUpdate(o, io, setCode));

  cmd
    .command('status')
    .description('installed versions, the one in use, bad versions, the last check and result')
    .addOption(dataDirOpt())
    .option('--json', 'print the result as JSON')
    .action(async (o: { dataDir?: string; json?: boolean }) => (await actions()).updateStatus(o, io));

  for (const [name, route, what] of [
    ['apply', '/apply', 'download, verify, back up, switch and health-gate the update (through the running `owlet run`)'],
    ['rollback', '/rollback', 'go back to the kept previous version (the only way to install an older version)'],
  ] as const) {
    const c = cmd.command(name).description(what).addOption(dataDirOpt()).option('--json', 'print the result as JSON');
    if (name === 'apply') c.option('--feed <url>', 'use this feed instead of updates.feedUrl (the policy still applies)');
    c.action(async (o: { dataDir?: string; feed?: string; json?: boolean }) => (await actions()).applyOrRollback(name, route, o, io, setCode));
  }
}
