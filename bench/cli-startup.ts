/**
 * CLI start-up (issue #14): the median wall time of `owlet --version`, `--help`, `status` and
 * `search`, process start included, as ratios to `node -e 0` measured in the same rounds. The
 * commands run interleaved (one of each per round, rotating the order) so a change in machine
 * load shifts all of them alike. `status` and `search` are measured twice: with a real `owlet serve`
 * running (they ask it over HTTP) and without one (they read the index on disk). `recollq` runs
 * in the same rounds when a Recoll index is at hand.
 */
import fs from 'node:fs';
import path from 'node:path';
import { run } from './lib/proc.js';
import { median, round } from './lib/stats.js';
import { OWLET_BIN, REPO, configureForBench, owletEnv, startServe } from './owlet.js';
import { recollEnv } from './recoll.js';
import { LIMIT, type BenchQuery } from './queries.js';

export interface StartupRow {
  name: string;
  /** with or without a running service (or n/a for commands that never ask one) */
  service: 'running' | 'stopped' | 'n/a';
  medianMs: number | null;
  /** medianMs / the median of `node -e 0` in the same rounds. */
  ratio: number | null;
  runs: number;
  failures: number;
  /** First failure's exit code and stderr tail, if any. */
  failure?: string;
}

export interface CliStartupResult {
  rounds: number;
  query: string;
  nodeMedianMs: { stopped: number; running: number | null };
  rows: StartupRow[];
  serveError: string | null;
}

interface Cmd {
  name: string;
  service: StartupRow['service'];
  cmd: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** The output must look like this, so a fast failure is never counted as a fast answer. */
  expect: RegExp;
}

async function rounds(cmds: Cmd[], n: number): Promise<Map<string, { ms: number[]; failures: number; failure?: string }>> {
  const out = new Map(cmds.map((c) => [c.name, { ms: [] as number[], failures: 0, failure: undefined as string | undefined }]));
  // One untimed round: the page cache holds every file each command reads.
  for (const c of cmds) await run(c.cmd, c.args, { cwd: REPO, env: c.env ?? owletEnv(), timeoutMs: 60_000 });
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < cmds.length; j++) {
      const c = cmds[(i + j) % cmds.length]!;
      const r = await run(c.cmd, c.args, { cwd: REPO, env: c.env ?? owletEnv(), timeoutMs: 60_000 });
      const slot = out.get(c.name)!;
      if (r.code === 0 && c.expect.test(r.stdout)) slot.ms.push(r.wallMs);
      else {
        slot.failures++;
        slot.failure ??= `exit ${r.code}: ${(r.stderr || r.stdout).trim().slice(-300)}`;
      }
    }
  }
  return out;
}

function rowsOf(cmds: Cmd[], res: Awaited<ReturnType<typeof rounds>>, nodeName: string): { rows: StartupRow[]; nodeMs: number } {
  const nodeMs = median(res.get(nodeName)!.ms);
  const rows = cmds.map((c): StartupRow => {
    const s = res.get(c.name)!;
    const m = s.ms.length ? round(median(s.ms), 1) : null;
    return { name: c.name, service: c.service, medianMs: m, ratio: m !== null && nodeMs > 0 ? round(m / nodeMs, 2) : null, runs: s.ms.length, failures: s.failures, ...(s.failure ? { failure: s.failure } : {}) };
  });
  return { rows, nodeMs: round(nodeMs, 1) };
}

/**
 * `bin` is the launcher to measure (bench/owlet.ts's by default); `label` prefixes the row names
 * when another build is measured beside it (--compare-bin).
 */
export async function cliStartup(dataDir: string, query: BenchQuery, n: number, recollConfs: { name: string; conf: string }[], bins: { label: string; bin: string }[] = [{ label: '', bin: OWLET_BIN }]): Promise<CliStartupResult> {
  const node: Cmd = { name: 'node -e 0', service: 'n/a', cmd: process.execPath, args: ['-e', '0'], expect: /^$/ };
  const owletCmds = (service: 'running' | 'stopped'): Cmd[] =>
    bins.flatMap(({ label, bin }) => {
      const o = (name: string, args: string[], expect: RegExp, svc: StartupRow['service'] = service): Cmd => ({ name: `${label}owlet ${name}`, service: svc, cmd: process.execPath, args: [bin, ...args], expect });
      const common = service === 'stopped' ? [o('--version', ['--version'], /^\d+\.\d+\.\d+/, 'n/a'), o('--help', ['--help'], /Usage: owlet/, 'n/a')] : [];
      return [
        ...common,
        o('status', ['status', '--data-dir', dataDir], /documents: \d+ indexed/),
        o(`search ${query.q}`, ['search', query.q, '--data-dir', dataDir, '--json', '--limit', String(LIMIT)], /"total":\d+/),
      ];
    });
  const recoll: Cmd[] = recollConfs.map((r) => ({ name: `recollq (${r.name})`, service: 'n/a', cmd: 'recollq', args: ['-c', r.conf, '-n', String(LIMIT), '-A', query.recoll], env: recollEnv(), expect: /results/ }));

  // Another build (--compare-bin) may not know keys this build's `owlet index` wrote out with their
  // defaults: config.json keeps only what the run sets, so both builds read it (same defaults).
  if (bins.length > 1) minimalConfig(dataDir);
  const stopped = [node, ...owletCmds('stopped'), ...recoll];
  const a = rowsOf(stopped, await rounds(stopped, n), node.name);
  const result: CliStartupResult = { rounds: n, query: query.q, nodeMedianMs: { stopped: a.nodeMs, running: null }, rows: a.rows, serveError: null };

  // The same commands with a real service answering them.
  let serve: Awaited<ReturnType<typeof startServe>> | null = null;
  try {
    configureForBench(dataDir, (stopped.length + 1) * (n + 2));
    serve = await startServe(['--data-dir', dataDir], 600_000);
    const running = [node, ...owletCmds('running')];
    const b = rowsOf(running, await rounds(running, n), node.name);
    result.nodeMedianMs.running = b.nodeMs;
    result.rows.push(...b.rows.filter((r) => r.name !== node.name));
  } catch (e) {
    result.serveError = e instanceof Error ? e.message : String(e);
  } finally {
    await serve?.proc.stop('SIGTERM', 30_000);
    await serve?.proc.stop('SIGKILL', 1000);
  }
  return result;
}

function minimalConfig(dataDir: string): void {
  const file = path.join(dataDir, 'config.json');
  const c = JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: number; roots?: string[] };
  fs.writeFileSync(file, JSON.stringify({ version: c.version, roots: c.roots }, null, 2) + '\n', { mode: 0o600 });
}

/** The printed table. */
export function formatCliStartup(r: CliStartupResult): string[] {
  const lines = [`CLI start-up: median of ${r.rounds} interleaved runs, process start included; ratio to \`node -e 0\` in the same rounds (${r.nodeMedianMs.stopped} ms${r.nodeMedianMs.running !== null ? `; ${r.nodeMedianMs.running} ms while the service ran` : ''})`];
  for (const row of r.rows) {
    const svc = row.service === 'n/a' ? '' : row.service === 'running' ? ' [service running]' : ' [no service]';
    lines.push(`  ${(row.name + svc).padEnd(52)} ${row.medianMs === null ? '   —' : String(row.medianMs).padStart(7)} ms  ${row.ratio === null ? '' : `${row.ratio}×`}${row.failures ? `  (${row.failures} failed: ${row.failure})` : ''}`);
  }
  if (r.serveError) lines.push(`  with a service: not measured: ${r.serveError}`);
  return lines;
}

/** The data folder must hold an index (run `owlet index` first). */
export function assertIndexed(dataDir: string): void {
  if (!fs.existsSync(path.join(dataDir, 'index.db'))) throw new Error(`no index in ${dataDir}`);
}
