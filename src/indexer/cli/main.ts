import { Command, CommanderError, Option } from './commander.js';
import { SEARCH_MAX_LIMIT, SEARCH_MAX_OFFSET } from '../../shared/api.js';
import { owletError, isOwletError, toErrorInfo } from '../../shared/errors.js';
import { ExitCodes, LOG_LEVELS, type LogLevel } from '../../shared/protocol.js';
import { detectHostChannel, reportFatal } from '../service/host-channel.js';
import { registerOpen } from './commands/open.js';
import { registerKey } from './commands/key.js';
import { registerAudit } from './commands/audit.js';
import { registerDoctor } from './commands/doctor.js';
import { registerBackup } from './commands/backup.js';
import { registerUpdate } from './commands/update.js';
import { registerLeastPrivilege } from '../security/least-privilege.js';
import { VERSION } from '../version.js';
import { collect, defaultIo, intArg, type Io } from './io.js';

export { snippetForTerminal, type Io } from './io.js';

/*
 * Start-up speed is part of the contract (issue #14): this module and everything it imports
 * statically define the commands and nothing more. What a command does lives in a module its
 * action imports when it runs, so `--version`, `--help` and a search a running service answers
 * never load the schema library, the HTTP framework, SQLite or the keychain binding
 * (test/indexer/cli/startup.test.ts checks the module graphs).
 */

export function buildProgram(io: Io, setCode: (c: number) => void): Command {
  const program = new Command('owlet')
    .description('Local document search: index folders into SQLite FTS5 and search them.')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .showSuggestionAfterError(true);
  const dataDirOption = () => new Option('--data-dir <dir>', 'data directory (default: $OWLET_DATA_DIR or the OS per-user data folder)');

  program
    .command('index')
    .description('crawl and index the roots, then exit')
    .option('--root <dir>', 'folder to index (repeatable; default: the roots saved in the configuration)', collect, [])
    .addOption(dataDirOption())
    .option('--json', 'print the summary as JSON')
    .action(async (o: { root: string[]; dataDir?: string; json?: boolean }) => (await import('./actions/index-folders.js')).indexFolders(o, io));

  program
    .command('search')
    .description('search the index')
    .argument('<query...>', 'query: words (any form), =word (exactly), "phrases", prefix*, OR, -word, (groups), ext:, path:, after:, before:')
    .addOption(dataDirOption())
    .option('--limit <n>', `number of hits (1-${SEARCH_MAX_LIMIT})`, intArg('--limit', 1, SEARCH_MAX_LIMIT), 10)
    .option('--offset <n>', `hits to skip (0-${SEARCH_MAX_OFFSET})`, intArg('--offset', 0, SEARCH_MAX_OFFSET), 0)
    .option('--json', 'print {"total", "hits": [...], "suggestion"?} as JSON')
    // A query word that starts with "-" (`owlet search "-debian python"`) is a negation, never an
    // option: unknown options are passed through as query words.
    .allowUnknownOption()
    .action(async (words: string[], o: { dataDir?: string; limit: number; offset: number; json?: boolean }) => (await import('./actions/search.js')).search(words, o, io));

  program
    .command('serve')
    .description('run the service in this process: index, watch, and serve the API on 127.0.0.1')
    .option('--root <dir>', 'folder to index and watch (repeatable; remembered)', collect, [])
    .addOption(dataDirOption())
    .option('--port <n>', 'TCP port on 127.0.0.1 (default: configured, else any free port)', intArg('--port', 0, 65535))
    .addOption(new Option('--supervisor-pid <pid>').hideHelp().argParser(intArg('--supervisor-pid', 1, 2 ** 31)))
    // The Electron app hands the keys over its private IPC channel (never argv or the environment).
    .addOption(new Option('--key-from-host').hideHelp())
    // A host (supervisor or the app) asks for the service's log records at or above this level as messages.
    .addOption(new Option('--forward-logs <level>').hideHelp().choices(LOG_LEVELS))
    // The app asks for the alerts routed to the tray, as messages it shows as notifications.
    .addOption(new Option('--tray-alerts').hideHelp())
    // `owlet run` hands its listening socket over the IPC channel (kept open across restarts).
    .addOption(new Option('--listen-handle').hideHelp())
    .action(async (o: { root: string[]; dataDir?: string; port?: number; supervisorPid?: number; keyFromHost?: boolean; forwardLogs?: LogLevel; trayAlerts?: boolean; listenHandle?: boolean }) => {
      setCode(await (await import('./actions/serve-service.js')).serveHere(o, io));
    });

  program
    .command('run')
    .description('production headless mode: a supervisor that keeps the service running (restarts it after a crash or hang)')
    .option('--root <dir>', 'folder to index and watch (repeatable; remembered)', collect, [])
    .addOption(dataDirOption())
    .option('--port <n>', 'TCP port on 127.0.0.1 (default: configured, else any free port, kept across restarts)', intArg('--port', 0, 65535))
    .action(async (o: { root: string[]; dataDir?: string; port?: number }) => {
      setCode(await (await import('./actions/serve-service.js')).runSupervisor(o, io));
    });

  program
    .command('status')
    .description('show indexing progress and counts')
    .addOption(dataDirOption())
    .option('--json', 'print the status as JSON')
    .action(async (o: { dataDir?: string; json?: boolean }) => (await import('./actions/show-status.js')).showStatus(o, io));

  program
    .command('errors')
    .description('list the files that were skipped or failed, with reasons')
    .addOption(dataDirOption())
    .option('--json', 'print {"files": [...]} as JSON')
    .option('--limit <n>', 'at most this many files', intArg('--limit', 1, 1_000_000), 10_000)
    .action(async (o: { dataDir?: string; json?: boolean; limit: number }) => (await import('./actions/list-problems.js')).listProblems(o, io));

  registerOpen(program, io);
  registerKey(program, io);
  registerAudit(program, io, setCode);
  registerDoctor(program, io, setCode);
  registerBackup(program, io, setCode);
  registerUpdate(program, io, setCode);
  registerLeastPrivilege(program);
  return program;
}

/** Entry point: returns the process exit code; errors are one clear line on stderr. */
export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version exit 0; everything else commander reports is a usage error.
      if (e.exitCode !== 0) await reportFatal(detectHostChannel(), owletError('OWL_ERR_ARG_INVALID', { reason: e.message }), 'startup');
      return e.exitCode === 0 ? 0 : ExitCodes.USAGE;
    }
    // A process started by a host (the supervisor, the app) tells it why it gives up, as a typed
    // `fatal` message: its stderr may go nowhere (Electron's utility process).
    await reportFatal(detectHostChannel(), e, 'startup');
    const info = toErrorInfo(e);
    io.err(`owlet: ${info.message}`);
    if (info.remedy) io.err(`owlet: what to do: ${info.remedy}`);
    if (isOwletError(e) && (e.kind === 'usage' || e.kind === 'query')) return ExitCodes.USAGE;
    if (isOwletError(e) && e.kind === 'config') return ExitCodes.CONFIG;
    return ExitCodes.FAILURE;
  }
}
