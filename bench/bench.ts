/**
 * `npm run bench`: indexes a corpus with Owlet (a real `owlet index` process), measures search
 * latency in-process, over HTTP and end to end, live-update latency, and the same corpus and
 * queries on a plain FTS5 baseline and on Recoll when installed. Prints a summary and saves
 * everything as JSON under bench/results/. See bench/README.md.
 *
 *   node --import tsx bench/bench.ts [--small | --full | --corpus DIR] [options]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3-multiple-ciphers';
import { runBaselineWithStats } from './baseline.js';
import { makeTmp, rmrf, walkFiles } from './lib/fsutil.js';
import { killAllStarted, run } from './lib/proc.js';
import { round } from './lib/stats.js';
import { OWLET_BIN, cliSearch, indexCorpus, liveUpdates, REPO, searchHttpInProcess, searchInProcess, searchServe } from './owlet.js';
import { QUERIES } from './queries.js';
import { RECOLL_VARIANTS, recollInstalled, runRecoll, type RecollResult } from './recoll.js';
import { cliStartup, formatCliStartup } from './cli-startup.js';
import { formatMemory, memoryProfile } from './memory.js';
import { computeRatios, computeTargets, printReport, type BenchReport } from './report.js';

const USAGE = `usage: npm run bench -- [--small | --full | --corpus DIR] [options]

corpus (default --small):
  --small              python, postgresql and LaTeX docs (~2,750 files, 141 MB), built on first use
  --full               adds the Linux kernel docs and more (~9,500 files, 402 MB), built on first use
  --corpus DIR         any folder
  --cache DIR          where generated corpora live (default ~/.cache/owlet-bench)

options:
  --reps N             timed repetitions per query, in-process and HTTP (default 200)
  --warmup N           untimed repetitions first (default 20)
  --cli-reps N         runs per query of \`owlet search\` and \`recollq\` (default 10)
  --live-trials N      files added in the live-update test (default 10; modify/delete: half as many)
  --runs N             indexing runs of Owlet and of Recoll; the median one is reported (default 1)
  --index-timeout M    minutes allowed for each indexing run (default 30)
  --no-recoll          skip Recoll even if installed
  --no-baseline        skip the plain FTS5 baseline
  --no-live            skip the live-update test
  --no-serve           skip the HTTP measurement against a real \`owlet serve\`
  --cli-rounds N       interleaved rounds of the CLI start-up table (default 15)
  --compare-bin PATH   also measure another build's bin/owlet.js in the CLI start-up table
  --cli-only           index, then only the CLI start-up table (and recollq if Recoll runs)
  --memory-only        only the memory profile (of this build and of --compare-bin)
  --config-json JSON   memory profile: also run this build with this config.json (repeatable: one
                       profile per value, for a curve of a knob)
  --no-memory          skip the memory profile (owlet serve indexing a fresh folder, then idle)
  --idle-wait S        seconds the memory profile waits after indexing (default 60)
  --recoll-defaults-only  run Recoll with its defaults only (not also usesystemfilecommand = 0)
  --keep               keep the temporary index folders (their path is printed)
  --out DIR            where to save the JSON (default bench/results)
  -h, --help`;

function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

function int(v: string | undefined, name: string, dflt: number, min = 0): number {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min) throw new Error(`${name} must be a whole number ≥ ${min}, got "${v}"`);
  return Number(v);
}

function corpusScript(): string {
  const candidates = [process.env.OWLET_BENCH_CORPUS_SCRIPT, path.join(REPO, '..', 'shared', 'corpus', 'make-corpus.sh')].filter((x): x is string => !!x);
  for (const c of candidates) if (fs.existsSync(c)) return c;
  throw new Error(`make-corpus.sh not found (looked at ${candidates.join(', ')}); set OWLET_BENCH_CORPUS_SCRIPT or pass --corpus DIR`);
}

async function ensureCorpus(kind: 'small' | 'full', cache: string): Promise<string> {
  const dir = path.join(cache, `corpus-${kind}`);
  if (fs.existsSync(path.join(dir, '.complete'))) return dir;
  const script = corpusScript();
  log(`building the ${kind} corpus in ${dir} with ${script} (downloads Debian doc packages; a few minutes)`);
  fs.mkdirSync(cache, { recursive: true });
  const r = await run('bash', [script, ...(kind === 'small' ? ['--small'] : []), dir], { timeoutMs: 45 * 60_000 });
  if (r.code !== 0 || !fs.existsSync(path.join(dir, '.complete'))) throw new Error(`make-corpus.sh failed (exit ${r.code}${r.timedOut ? ', timed out' : ''}): ${r.stderr.slice(-1500)}`);
  log(r.stdout.trim().split('\n').slice(-2).join(' | '));
  return dir;
}

/** Reads every corpus file once so both indexers start with the same (warm) page cache. */
function warmPageCache(dir: string): number {
  const t0 = performance.now();
  const buf = Buffer.allocUnsafe(1 << 20);
  walkFiles(dir, (abs) => {
    let fd: number;
    try {
      fd = fs.openSync(abs, 'r');
    } catch {
      return;
    }
    try {
      while (fs.readSync(fd, buf, 0, buf.length, null) > 0) {
        /* read through */
      }
    } finally {
      fs.closeSync(fd);
    }
  });
  return (performance.now() - t0) / 1000;
}

function gitInfo(): { commit: string | null; dirtyFiles: number | null } {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO, encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: REPO, encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
    return { commit, dirtyFiles: dirty.split('\n').filter(Boolean).length };
  } catch {
    return { commit: null, dirtyFiles: null };
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      small: { type: 'boolean' },
      full: { type: 'boolean' },
      corpus: { type: 'string' },
      cache: { type: 'string' },
      reps: { type: 'string' },
      warmup: { type: 'string' },
      'cli-reps': { type: 'string' },
      'live-trials': { type: 'string' },
      'index-timeout': { type: 'string' },
      runs: { type: 'string' },
      'no-recoll': { type: 'boolean' },
      'no-baseline': { type: 'boolean' },
      'no-live': { type: 'boolean' },
      'no-serve': { type: 'boolean' },
      'cli-rounds': { type: 'string' },
      'compare-bin': { type: 'string' },
      'cli-only': { type: 'boolean' },
      'no-memory': { type: 'boolean' },
      'memory-only': { type: 'boolean' },
      'config-json': { type: 'string', multiple: true },
      'idle-wait': { type: 'string' },
      'recoll-defaults-only': { type: 'boolean' },
      keep: { type: 'boolean' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if ([values.small, values.full, values.corpus !== undefined].filter(Boolean).length > 1) throw new Error('choose one of --small, --full, --corpus DIR');
  const reps = int(values.reps, '--reps', 200, 1);
  const warmup = int(values.warmup, '--warmup', 20);
  const cliReps = int(values['cli-reps'], '--cli-reps', 10, 1);
  const liveTrials = int(values['live-trials'], '--live-trials', 10, 1);
  const runs = int(values.runs, '--runs', 1, 1);
  const cliRounds = int(values['cli-rounds'], '--cli-rounds', 15, 1);
  const idleWaitS = int(values['idle-wait'], '--idle-wait', 60, 0);
  const cliOnly = Boolean(values['cli-only']);
  const memoryOnly = Boolean(values['memory-only']);
  const compareBin = values['compare-bin'] !== undefined ? path.resolve(values['compare-bin']) : null;
  if (compareBin && !fs.existsSync(compareBin)) throw new Error(`--compare-bin ${compareBin} does not exist`);
  const indexTimeoutMs = int(values['index-timeout'], '--index-timeout', 30, 1) * 60_000;
  const cache = path.resolve(values.cache ?? path.join(os.homedir(), '.cache', 'owlet-bench'));
  const outDir = path.resolve(values.out ?? path.join(REPO, 'bench', 'results'));

  if (!fs.existsSync(path.join(REPO, 'dist', 'indexer', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm run bench does)');

  const t0 = performance.now();
  const startedAt = new Date();
  let corpusName: string;
  let corpusDir: string;
  if (values.corpus !== undefined) {
    corpusDir = path.resolve(values.corpus);
    if (!fs.statSync(corpusDir, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`--corpus ${corpusDir} is not a folder`);
    corpusName = path.basename(corpusDir).replace(/[^\w.-]+/g, '_') || 'corpus';
  } else {
    corpusName = values.full ? 'full' : 'small';
    corpusDir = await ensureCorpus(values.full ? 'full' : 'small', cache);
  }
  corpusDir = fs.realpathSync(corpusDir);
  const tree = walkFiles(corpusDir);
  if (tree.files === 0) throw new Error(`no files in ${corpusDir}`);
  log(`corpus ${corpusName}: ${tree.files} files, ${(tree.bytes / 1048576).toFixed(1)} MB at ${corpusDir}`);

  const work = makeTmp('owlet-bench-');
  if (!values.keep) tmpToRemove = work;
  log(`working in ${work}`);
  const loadStart = os.loadavg();
  if (loadStart[0]! > os.cpus().length * 0.25) log(`warning: load average ${loadStart.map((x) => x.toFixed(2)).join(' ')} on ${os.cpus().length} CPUs: other work is running, figures will be noisy`);
  if (memoryOnly) {
    try {
      const profiles = [];
      const configs = (values['config-json'] ?? []).map((j) => {
        try {
          return JSON.parse(j) as Record<string, unknown>;
        } catch {
          throw new Error(`--config-json ${j}: not JSON`);
        }
      });
      const plan: { bin: string; config: Record<string, unknown> | null }[] = [
        { bin: OWLET_BIN, config: null },
        ...configs.map((config) => ({ bin: OWLET_BIN, config })),
        ...(compareBin ? [{ bin: compareBin, config: null }] : []),
      ];
      for (const [i, { bin, config }] of plan.entries()) {
        log(`memory: ${bin} serve${config ? ` with ${JSON.stringify(config)}` : ''} indexing a fresh folder, then ${idleWaitS} s idle`);
        warmPageCache(corpusDir);
        const m = await memoryProfile(corpusDir, path.join(work, `memory-data-${i}`), idleWaitS, indexTimeoutMs, bin, config);
        for (const l of formatMemory(m)) log(l);
        profiles.push(m);
      }
      fs.mkdirSync(outDir, { recursive: true });
      const file = path.join(outDir, `${startedAt.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')}-${corpusName}-memory.json`);
      fs.writeFileSync(file, JSON.stringify({ corpus: { name: corpusName, files: tree.files, bytes: tree.bytes }, loadavg: [loadStart, os.loadavg()], profiles }, null, 2) + '\n');
      for (const m of profiles) for (const l of formatMemory(m)) process.stdout.write(l + '\n');
      process.stdout.write(`Saved ${file}\n`);
      return profiles.every((m) => m.ok) ? 0 : 1;
    } finally {
      if (values.keep) log(`kept ${work}`);
      else rmrf(work);
    }
  }
  try {
    // ---- Owlet indexing (--runs: the median run is kept, its index used for everything below)
    const indexRuns: { dataDir: string; result: Awaited<ReturnType<typeof indexCorpus>> }[] = [];
    for (let i = 0; i < runs; i++) {
      const dir = path.join(work, `owlet-data-${i}`);
      log(`warming the page cache (${warmPageCache(corpusDir).toFixed(1)} s); owlet index${runs > 1 ? ` run ${i + 1}/${runs}` : ''}…`);
      const result = await indexCorpus(corpusDir, tree.bytes, tree.files, dir, indexTimeoutMs);
      log(`owlet index: exit ${result.exitCode} in ${result.wallS} s`);
      indexRuns.push({ dataDir: dir, result });
      if (!result.ok) break;
    }
    const byWall = [...indexRuns].sort((a, b) => a.result.wallS - b.result.wallS);
    const chosen = indexRuns.some((x) => !x.result.ok) ? indexRuns[indexRuns.length - 1]! : byWall[Math.floor((byWall.length - 1) / 2)]!;
    for (const x of indexRuns) if (x !== chosen) rmrf(x.dataDir);
    const index = chosen.result;
    const dataDir = chosen.dataDir;
    let workers: number | null = null;
    try {
      workers = (JSON.parse(fs.readFileSync(path.join(dataDir, 'config.json'), 'utf8')) as { extractors?: { workers?: number } }).extractors?.workers ?? 2;
    } catch {
      workers = null;
    }

    const report: Omit<BenchReport, 'ratios' | 'targets'> = {
      corpus: { name: corpusName, dir: corpusDir, files: tree.files, bytes: tree.bytes, byExt: tree.byExt },
      env: {},
      owlet: {
        index,
        indexRuns: indexRuns.map((x) => ({ wallS: x.result.wallS, cpuS: x.result.peak?.cpuS ?? null, peakTreeBytes: x.result.peak?.peakTreeBytes ?? null, exitCode: x.result.exitCode })),
        workers,
        search: { inProcess: null, http: null, serve: null, cli: null }, live: null, cliStartup: null, memory: null },
      baseline: { skipped: 'not run' },
      recoll: { skipped: 'not run' },
    };

    // ---- Recoll indexing (+ recollq), right after ours, same warm cache; with its defaults and at
    // its best (usesystemfilecommand = 0); Owlet is compared against the faster (issue #14).
    const recoll = recollInstalled();
    const done: RecollResult[] = [];
    if (values['no-recoll']) report.recoll = { skipped: 'skipped (--no-recoll)' };
    else if (!recoll) {
      report.recoll = { skipped: 'recoll not installed: skipped (apt-get install recoll poppler-utils)' };
      log('recoll not installed: skipped');
    } else {
      const variants = values['recoll-defaults-only'] ? RECOLL_VARIANTS.slice(0, 1) : RECOLL_VARIANTS;
      report.recollVariants = [];
      for (const v of variants) {
        log(`recollindex (${v.name})${runs > 1 ? ` ×${runs}` : ''} (page cache warmed before each)…`);
        try {
          const rr = await runRecoll(corpusDir, tree.bytes, tree.files, work, QUERIES, cliOnly ? 1 : cliReps, indexTimeoutMs, runs, () => void warmPageCache(corpusDir), v);
          log(`recollindex (${v.name}): exit ${rr.exitCode} in ${rr.wallS} s; recollq done`);
          done.push(rr);
          report.recollVariants.push({ variant: v.name, ok: rr.ok, wallS: rr.wallS, peakTreeBytes: rr.peak?.peakTreeBytes ?? null, cliMedianMs: rr.cli?.overallMedianMs ?? null });
        } catch (e) {
          report.recollVariants.push({ variant: v.name, ok: false, wallS: null, peakTreeBytes: null, cliMedianMs: null, error: errorText(e) });
          log(`recoll (${v.name}) failed: ${errorText(e)}`);
        }
      }
      const best = done.filter((x) => x.ok).sort((a, b) => a.wallS - b.wallS)[0];
      report.recoll = best ?? done[0] ?? { error: report.recollVariants.map((x) => `${x.variant}: ${x.error ?? 'failed'}`).join('; ') };
    }
    const recollConfs = done.filter((x) => x.ok).map((x) => ({ name: x.variant, conf: x.conf }));

    if (index.ok) {
      log(`CLI start-up: ${cliRounds} interleaved rounds${compareBin ? ` (and ${compareBin})` : ''}`);
      report.owlet.cliStartup = await cliStartup(dataDir, QUERIES[0]!, cliRounds, recollConfs, [{ label: '', bin: OWLET_BIN }, ...(compareBin ? [{ label: 'compare: ', bin: compareBin }] : [])]);
      for (const l of formatCliStartup(report.owlet.cliStartup)) log(l);
    }
    if (cliOnly) {
      report.owlet.live = { skipped: 'skipped (--cli-only)' };
      report.baseline = { skipped: 'skipped (--cli-only)' };
    }

    if (index.ok && !cliOnly) {
      // ---- Search latency
      log(`search in-process: ${QUERIES.length} queries × ${reps}`);
      report.owlet.search.inProcess = searchInProcess(dataDir, QUERIES, reps, warmup);
      log('search over HTTP (in-process Fastify)');
      report.owlet.search.http = await searchHttpInProcess(dataDir, QUERIES, reps, warmup);
      if (!values['no-serve']) {
        log('search over HTTP (owlet serve process)');
        try {
          report.owlet.search.serve = await searchServe(dataDir, QUERIES, reps, warmup);
        } catch (e) {
          report.owlet.search.serve = { error: errorText(e) };
          log(`owlet serve failed: ${errorText(e)}`);
        }
      }
      log(`owlet search CLI end to end: ${QUERIES.length} queries × ${cliReps}`);
      report.owlet.search.cli = await cliSearch(dataDir, QUERIES, cliReps);

      // ---- FTS5 baseline
      if (values['no-baseline']) report.baseline = { skipped: 'skipped (--no-baseline)' };
      else {
        log('plain FTS5 baseline');
        try {
          report.baseline = runBaselineWithStats(dataDir, work, tree.bytes, QUERIES, reps, warmup);
        } catch (e) {
          report.baseline = { error: errorText(e) };
          log(`baseline failed: ${errorText(e)}`);
        }
      }
    } else if (!index.ok) {
      report.baseline = { skipped: 'owlet index failed' };
    }

    // ---- Memory: owlet serve indexing a fresh folder, then idle
    if (values['no-memory'] || cliOnly) report.owlet.memory = { skipped: cliOnly ? 'skipped (--cli-only)' : 'skipped (--no-memory)' };
    else {
      log(`memory: owlet serve indexing a fresh folder, then ${idleWaitS} s idle`);
      warmPageCache(corpusDir);
      report.owlet.memory = await memoryProfile(corpusDir, path.join(work, 'memory-data'), idleWaitS, indexTimeoutMs);
      for (const l of formatMemory(report.owlet.memory)) log(l);
    }

    // ---- Live updates
    if (cliOnly) {
      /* skipped above */
    } else if (values['no-live']) report.owlet.live = { skipped: 'skipped (--no-live)' };
    else {
      log(`live updates: owlet serve on a copy, ${liveTrials} adds`);
      report.owlet.live = await liveUpdates(corpusDir, work, liveTrials);
    }

    const mem = new Database(':memory:');
    const sqlite = (mem.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
    mem.close();
    report.env = {
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? null,
      memGb: round(os.totalmem() / 1024 ** 3, 1),
      sqlite,
      ...gitInfo(),
      loadavgStart: loadStart.map((x) => round(x, 2)),
      loadavgEnd: os.loadavg().map((x) => round(x, 2)),
      options: { reps, warmup, cliReps, cliRounds, idleWaitS, cliOnly, memoryOnly, compareBin, liveTrials, runs, queries: QUERIES },
      startedAt: startedAt.toISOString(),
      durationS: round((performance.now() - t0) / 1000, 1),
    };
    const ratios = computeRatios(report);
    const withRatios = { ...report, ratios };
    const full: BenchReport = { ...withRatios, targets: computeTargets(withRatios, corpusName === 'full') };

    fs.mkdirSync(outDir, { recursive: true });
    const stamp = startedAt.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
    const file = path.join(outDir, `${stamp}-${corpusName}.json`);
    fs.writeFileSync(file, JSON.stringify(full, null, 2) + '\n');
    printReport(full, (s) => process.stdout.write(s + '\n'));
    process.stdout.write(`\nSaved ${path.relative(process.cwd(), file) || file}  (run took ${round((performance.now() - t0) / 1000, 0)} s)\n`);
    return index.ok ? 0 : 1;
  } finally {
    if (values.keep) log(`kept ${work}`);
    else rmrf(work);
  }
}

let tmpToRemove: string | null = null;

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    killAllStarted();
    if (tmpToRemove) rmrf(tmpToRemove);
    process.stderr.write(`\nbench interrupted (${sig}); child processes stopped\n`);
    process.exit(130);
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    killAllStarted();
    process.stderr.write(`bench: ${errorText(e)}\n`);
    process.exitCode = 1;
  },
);
