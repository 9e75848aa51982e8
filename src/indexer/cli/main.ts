import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { SEARCH_MAX_LIMIT, SEARCH_MAX_OFFSET, type ProblemFile, type SearchResult, type StatusReport } from '../../shared/api.js';
import { OwletError, owletError, isOwletError, toErrorInfo } from '../../shared/errors.js';
import { ExitCodes, LOG_LEVELS, type LogLevel } from '../../shared/protocol.js';
import { resolveDataDir } from '../config/paths.js';

import { parseQuery } from '../search/query.js';
import { openIndex, rememberRoots, resolveRoots } from '../service/context.js';
import { OwletService, problemOf } from '../service/service.js';
import { serve } from '../host/serve.js';
import { fileLogger } from '../log/file-logger.js';
import { offlineStatus } from '../service/status.js';
import { databaseFiles } from '../store/stats.js';
import { backupBeforeMigration } from '../backup/migration.js';
import { detectHostChannel, reportFatal } from '../service/host-channel.js';
import { runSupervised } from '../host/run.js';
import { runningService } from '../service/service-file.js';
import { assertDataFolderFree } from '../service/data-lock.js';
import { readApiToken } from '../security/token.js';
import { registerOpen } from './commands/open.js';
import { registerKey } from './commands/key.js';
import { registerAudit } from './commands/audit.js';
import { registerDoctor } from './commands/doctor.js';
import { registerBackup } from './commands/backup.js';
import { registerUpdate } from './commands/update.js';
import { registerLeastPrivilege } from '../security/least-privilege.js';
import { loadConfig } from '../config/load.js';
import { loadOrRepairConfig } from '../config/repair.js';
import { ensureDataDir } from '../config/paths.js';
import { VERSION } from '../version.js';
import { ProgressBar } from './progress.js';
import { formatProblems, summaryOfProblems, type ProblemGroupView } from './problem-report.js';

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  stderr: NodeJS.WriteStream | { isTTY?: boolean; columns?: number; write(s: string): boolean };
  stdoutIsTTY: boolean;
}

const defaultIo: Io = {
  out: (s) => process.stdout.write(s + '\n'),
  err: (s) => process.stderr.write(s + '\n'),
  stderr: process.stderr,
  stdoutIsTTY: Boolean(process.stdout.isTTY),
};

function intArg(name: string, min: number, max: number) {
  return (v: string): number => {
    if (!/^\d+$/.test(v)) throw owletError('OWL_ERR_ARG_INVALID', { reason: `${name} must be a whole number, got "${v}"` });
    const n = Number(v);
    if (n < min || n > max) throw owletError('OWL_ERR_ARG_INVALID', { reason: `${name} must be between ${min} and ${max}, got ${n}` });
    return n;
  };
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** A long-running process starts on the last good configuration rather than not at all (config/repair.ts). */
function startConfig(dataDir: string, component: 'service' | 'supervisor') {
  const { config, restored } = loadOrRepairConfig(dataDir);
  if (restored) fileLogger(dataDir, component).error('config.json was damaged; restored the last good configuration', { brokenFile: restored.brokenFile, reason: restored.reason });
  return config;
}

function mb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

/** Turns the <mark> snippet into terminal text: bold on a TTY, plain otherwise. */
export function snippetForTerminal(snippet: string, tty: boolean): string {
  const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
  return unescape(snippet.replace(/<mark>/g, tty ? '\x1b[1m' : '').replace(/<\/mark>/g, tty ? '\x1b[22m' : ''));
}

async function fetchJson<T>(url: string, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000), headers });
  if (!res.ok) throw owletError('OWL_ERR_SERVICE_UNREACHABLE', { url, request: 'the status request', reason: `HTTP ${res.status}` });
  return (await res.json()) as T;
}

function printStatus(s: StatusReport, io: Io): void {
  io.out(`Owlet ${s.version}: ${s.state}${s.paused ? ' (paused)' : ''}`);
  io.out(`  data:      ${s.dataDir}`);
  io.out(`  documents: ${s.counts.indexed} indexed (${mb(s.counts.bytes)} of files); ${s.counts.skipped} skipped, ${s.counts.failed} failed`);
  io.out(`  database:  ${mb(s.database.bytes + s.database.walBytes)}`);
  if (s.state === 'indexing') io.out(`  progress:  ${s.progress.phase === 'idle' ? 'catching up' : s.progress.phase}, ${s.progress.done} done, ${s.progress.queued} queued`);
  for (const r of s.roots) io.out(`  root:      ${r.path} (${r.state}${r.lastScanAt ? `, scanned ${r.lastScanAt}` : ''})`);
  io.out(`  watcher:   ${s.watcher.mode}${s.watcher.message ? ` (${s.watcher.message})` : ''}`);
  for (const d of s.degraded) io.out(`  degraded:  ${d.component}: ${d.message}`);
}

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
    .action(async (o: { root: string[]; dataDir?: string; json?: boolean }) => {
      const dataDir = resolveDataDir(o.dataDir);
      const roots = resolveRoots(o.root);
      ensureDataDir(dataDir);
      const config = rememberRoots(dataDir, loadConfig(dataDir), roots);
      if (config.roots.length === 0) throw owletError('OWL_ERR_ROOT_MISSING', { reason: 'no root to index: pass --root DIR' });
      const service = new OwletService({ dataDir, log: fileLogger(dataDir, 'index'), watch: false, beforeMigrate: backupBeforeMigration });
      const bar = new ProgressBar(io.stderr);
      const p = service.indexer.progress;
      service.indexer.onDidProcess(() => bar.update(p.done, p.done + p.queued, p.phase));
      const stopOnSignal = () => void service.stop();
      process.once('SIGINT', stopOnSignal);
      try {
        const s = await service.indexOnce(roots.length ? roots : undefined);
        bar.clear();
        // The same figures status and backups report (store/stats.ts): the whole index, not only this run.
        const counts = service.counts();
        const db = databaseFiles(dataDir);
        const files = s.indexed + s.skipped + s.failed;
        const rate = s.seconds > 0 ? files / s.seconds : files;
        if (o.json) io.out(JSON.stringify({ ...s, filesPerSecond: Math.round(rate * 10) / 10 }));
        else {
          io.out(
            `Indexed ${s.indexed} files, skipped ${s.skipped}, failed ${s.failed}, unchanged ${s.unchanged}, removed ${s.deleted}, renamed ${s.renamed}; ` +
              `${mb(s.bytes)} of files in ${s.seconds.toFixed(1)} s (${rate.toFixed(1)} files/s)`,
          );
          io.out(`Index: ${counts.indexed} documents (${mb(counts.bytes)} of files); database ${mb(db.total)}`);
          for (const r of s.offlineRoots) io.out(`Root offline (documents kept): ${r}`);
          // Index-wide, by reason: "189 skipped" alone makes an ordinary folder look broken.
          for (const l of summaryOfProblems(service.problemGroups())) io.out(l);
        }
      } finally {
        process.removeListener('SIGINT', stopOnSignal);
        await service.stop();
      }
    });

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
    .action((words: string[], o: { dataDir?: string; limit: number; offset: number; json?: boolean }) => {
      const input = words.join(' ');
      parseQuery(input); // a malformed query is reported before the index is opened
      const ctx = openIndex(resolveDataDir(o.dataDir), { readonly: true });
      let result: SearchResult;
      try {
        result = ctx.search.search(parseQuery(input, { languages: ctx.config.search.languages }), { limit: o.limit, offset: o.offset, roots: ctx.config.roots.map((r) => path.resolve(r)) }, input);
      } finally {
        ctx.close();
      }
      if (o.json) return io.out(JSON.stringify(result));
      io.out(`${result.total} result${result.total === 1 ? '' : 's'}`);
      if (result.suggestion) io.out(`Did you mean: ${result.suggestion.query}`);
      result.hits.forEach((h, i) => {
        io.out(`${o.offset + i + 1}. ${h.title}\n   ${h.path}\n   ${snippetForTerminal(h.snippet, io.stdoutIsTTY)}`);
      });
    });

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
    .action(async (o: { root: string[]; dataDir?: string; port?: number; supervisorPid?: number; keyFromHost?: boolean; forwardLogs?: LogLevel; trayAlerts?: boolean }) => {
      const dataDir = resolveDataDir(o.dataDir);
      const roots = resolveRoots(o.root);
      ensureDataDir(dataDir);
      rememberRoots(dataDir, startConfig(dataDir, 'service'), roots);
      setCode(await serve({ dataDir, port: o.port, supervisorPid: o.supervisorPid, keyFromHost: o.keyFromHost, forwardLogs: o.forwardLogs, trayAlerts: o.trayAlerts, out: io.out }));
    });

  program
    .command('run')
    .description('production headless mode: a supervisor that keeps the service running (restarts it after a crash or hang)')
    .option('--root <dir>', 'folder to index and watch (repeatable; remembered)', collect, [])
    .addOption(dataDirOption())
    .option('--port <n>', 'TCP port on 127.0.0.1 (default: configured, else any free port, kept across restarts)', intArg('--port', 0, 65535))
    .action(async (o: { root: string[]; dataDir?: string; port?: number }) => {
      const dataDir = resolveDataDir(o.dataDir);
      const roots = resolveRoots(o.root);
      ensureDataDir(dataDir);
      // The serving child takes the data folder's lock; a supervisor whose child could never get it
      // would only restart it in a loop, so a second `owlet run` is refused here.
      assertDataFolderFree(dataDir, 'use it (owlet open, owlet status), or stop it before starting another');
      const config = rememberRoots(dataDir, startConfig(dataDir, 'supervisor'), roots);
      setCode(await runSupervised({ dataDir, port: o.port ?? config.server.port, log: fileLogger(dataDir, 'supervisor'), out: io.out }));
    });

  program
    .command('status')
    .description('show indexing progress and counts')
    .addOption(dataDirOption())
    .option('--json', 'print the status as JSON')
    .action(async (o: { dataDir?: string; json?: boolean }) => {
      const dataDir = resolveDataDir(o.dataDir);
      const running = runningService(dataDir);
      let status: StatusReport;
      if (running) status = await fetchJson<StatusReport>(`${running.url}/api/v1/status`, { Authorization: `Bearer ${readApiToken(dataDir)}` });
      else {
        // No service: report what the index on disk says (the same builder the service uses).
        status = offlineStatus(dataDir);
      }
      if (o.json) io.out(JSON.stringify({ ...status, service: running ? { url: running.url, pid: running.pid } : null }));
      else {
        printStatus(status, io);
        io.out(running ? `  service:   ${running.url} (pid ${running.pid})` : '  service:   not running');
      }
    });

  program
    .command('errors')
    .description('list the files that were skipped or failed, with reasons')
    .addOption(dataDirOption())
    .option('--json', 'print {"files": [...]} as JSON')
    .option('--limit <n>', 'at most this many files', intArg('--limit', 1, 1_000_000), 10_000)
    .action((o: { dataDir?: string; json?: boolean; limit: number }) => {
      const ctx = openIndex(resolveDataDir(o.dataDir), { readonly: true });
      let files: ProblemFile[];
      let groups: ProblemGroupView[];
      try {
        groups = ctx.store.problemGroups();
        files = ctx.store.problems(o.limit, 0).map(problemOf);
      } finally {
        ctx.close();
      }
      if (o.json) return io.out(JSON.stringify({ groups, files }));
      for (const l of formatProblems(groups, files)) io.out(l);
    });

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

