import type { RunSummary } from '../src/indexer/index/indexer.js';
/**
 * Owlet's side of the benchmark: indexing as a real child process, search in-process, over HTTP
 * (in-process Fastify and a real `owlet serve`), `owlet search` end to end, and live updates.
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { SearchResult, StatusReport } from '../src/shared/api.js';
import { buildServer, type ServiceApi } from '../src/indexer/http/server.js';
import { parseQuery } from '../src/indexer/search/query.js';
import { openIndex } from '../src/indexer/service/context.js';
import { dbBreakdown, type DbBreakdown } from './lib/dbstat.js';
import { diskBytes, fileBytes, walkFiles } from './lib/fsutil.js';
import { run, start, type LongProcess, type TreePeak } from './lib/proc.js';
import { median, round, summarize, type Summary } from './lib/stats.js';
import { LIMIT, type BenchQuery } from './queries.js';

export const REPO = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
export const OWLET_BIN = path.join(REPO, 'bin', 'owlet.js');

/** Environment for Owlet children: no inherited data directory, no colour, no debugger flags. */
export function owletEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.OWLET_DATA_DIR;
  delete env.NODE_OPTIONS;
  env.NO_COLOR = '1';
  return env;
}

function owlet(args: string[], timeoutMs: number, sampleMemory = false) {
  return run(process.execPath, [OWLET_BIN, ...args], { cwd: REPO, env: owletEnv(), timeoutMs, sampleMemory });
}

// ---------------------------------------------------------------------------------------------
// indexing

export type RunSummaryJson = RunSummary & { filesPerSecond: number };

export interface ProblemsSummary {
  total: number;
  byStatusReason: Record<string, number>;
  byExt: Record<string, number>;
  examples: { path: string; status: string; reason: string; message: string }[];
}

export interface LogSummary {
  lines: number;
  byLevel: Record<string, number>;
  /** Distinct warn/error messages with counts (first 20). */
  messages: { level: string; msg: string; count: number; example: string }[];
}

export interface OwletIndexResult {
  ok: boolean;
  exitCode: number | null;
  timedOut: boolean;
  wallS: number;
  summary: RunSummaryJson | null;
  filesPerS: number;
  mbPerS: number;
  peak: TreePeak | null;
  leftoverProcesses: number;
  indexBytes: number;
  walBytes: number;
  /** (index.db + -wal) / corpus bytes. */
  indexFraction: number;
  /** Where the index's bytes go (SQLite dbstat). */
  dbstat: DbBreakdown | null;
  stderrTail: string;
  problems: ProblemsSummary | null;
  log: LogSummary | null;
}

export async function indexCorpus(corpus: string, corpusBytes: number, corpusFiles: number, dataDir: string, timeoutMs: number): Promise<OwletIndexResult> {
  const r = await owlet(['index', '--root', corpus, '--data-dir', dataDir, '--json'], timeoutMs, true);
  let summary: RunSummaryJson | null = null;
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    summary = JSON.parse(line) as RunSummaryJson;
  } catch {
    summary = null;
  }
  const wallS = r.wallMs / 1000;
  const db = path.join(dataDir, 'index.db');
  const indexBytes = fileBytes(db);
  const walBytes = fileBytes(db + '-wal');
  const files = summary ? summary.indexed + summary.skipped + summary.failed + summary.unchanged : corpusFiles;
  return {
    ok: r.code === 0 && summary !== null,
    exitCode: r.code,
    timedOut: r.timedOut,
    wallS: round(wallS, 2),
    summary,
    filesPerS: round(files / wallS, 1),
    mbPerS: round(corpusBytes / 1048576 / wallS, 2),
    peak: r.peak,
    leftoverProcesses: r.leftovers,
    indexBytes,
    walBytes,
    indexFraction: round((indexBytes + walBytes) / corpusBytes, 4),
    dbstat: fs.existsSync(db) ? dbBreakdown(db, indexKey(dataDir)) : null,
    stderrTail: r.stderr.slice(-2000),
    problems: fs.existsSync(db) ? await problems(dataDir) : null,
    log: logSummary(dataDir),
  };
}

interface ProblemFileJson {
  path: string;
  status: string;
  reason: string;
  message: string;
}

async function problems(dataDir: string): Promise<ProblemsSummary | null> {
  const r = await owlet(['errors', '--data-dir', dataDir, '--json', '--limit', '1000000'], 60_000);
  if (r.code !== 0) return null;
  let files: ProblemFileJson[];
  try {
    files = (JSON.parse(r.stdout) as { files: ProblemFileJson[] }).files;
  } catch {
    return null;
  }
  const byStatusReason: Record<string, number> = {};
  const byExt: Record<string, number> = {};
  const examples: ProblemsSummary['examples'] = [];
  for (const f of files) {
    const key = `${f.status}/${f.reason}`;
    byStatusReason[key] = (byStatusReason[key] ?? 0) + 1;
    const ext = path.extname(f.path).slice(1).toLowerCase();
    byExt[ext] = (byExt[ext] ?? 0) + 1;
    // Up to three examples per (status, reason, extension).
    const ex = `${key}/${ext}`;
    const n = examples.filter((e) => `${e.status}/${e.reason}/${path.extname(e.path).slice(1).toLowerCase()}` === ex).length;
    if (n < 3 && examples.length < 40) examples.push({ path: f.path, status: f.status, reason: f.reason, message: f.message.slice(0, 300) });
  }
  return { total: files.length, byStatusReason, byExt, examples };
}

/** Warnings and errors in <dataDir>/logs/service.log. */
export function logSummary(dataDir: string): LogSummary | null {
  const file = path.join(dataDir, 'logs', 'service.log');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  const byLevel: Record<string, number> = {};
  const msgs = new Map<string, { level: string; msg: string; count: number; example: string }>();
  let lines = 0;
  for (const l of text.split('\n')) {
    if (!l.trim()) continue;
    lines++;
    let rec: { level?: string; msg?: string };
    try {
      rec = JSON.parse(l) as { level?: string; msg?: string };
    } catch {
      byLevel.unparsable = (byLevel.unparsable ?? 0) + 1;
      continue;
    }
    const level = rec.level ?? '?';
    byLevel[level] = (byLevel[level] ?? 0) + 1;
    if (level === 'warn' || level === 'error') {
      const key = `${level}:${rec.msg}`;
      const m = msgs.get(key) ?? { level, msg: String(rec.msg), count: 0, example: l.slice(0, 600) };
      m.count++;
      msgs.set(key, m);
    }
  }
  return { lines, byLevel, messages: [...msgs.values()].sort((a, b) => b.count - a.count).slice(0, 20) };
}

// ---------------------------------------------------------------------------------------------
// search latency

export interface QueryLatency {
  id: string;
  q: string;
  total: number;
  hits: number;
  /** Hits whose snippet has a <mark>: snippets really were built. */
  marked: number;
  ms: Summary;
}

export interface LatencyResult {
  reps: number;
  warmup: number;
  overall: Summary;
  queries: QueryLatency[];
}

function collect(per: QueryLatency[], all: number[], reps: number, warmup: number): LatencyResult {
  return { reps, warmup, overall: summarize(all), queries: per };
}

const countMarked = (r: SearchResult) => r.hits.filter((h) => h.snippet.includes('<mark>')).length;

/** In-process: parse + SearchEngine.search with limit 10 (snippets are always built). */
export function searchInProcess(dataDir: string, queries: readonly BenchQuery[], reps: number, warmup: number): LatencyResult {
  const ctx = openIndex(dataDir, { readonly: true });
  try {
    const per: QueryLatency[] = [];
    const all: number[] = [];
    for (const bq of queries) {
      let last: SearchResult | null = null;
      for (let i = 0; i < warmup; i++) last = ctx.search.search(parseQuery(bq.q), { limit: LIMIT, offset: 0 });
      const ms: number[] = [];
      for (let i = 0; i < reps; i++) {
        const t0 = performance.now();
        last = ctx.search.search(parseQuery(bq.q), { limit: LIMIT, offset: 0 });
        ms.push(performance.now() - t0);
      }
      all.push(...ms);
      per.push({ id: bq.id, q: bq.q, total: last?.total ?? 0, hits: last?.hits.length ?? 0, marked: last ? countMarked(last) : 0, ms: summarize(ms) });
    }
    return collect(per, all, reps, warmup);
  } finally {
    ctx.close();
  }
}

async function httpLoop(baseUrl: string, queries: readonly BenchQuery[], reps: number, warmup: number, headers: Record<string, string> = {}): Promise<LatencyResult> {
  const per: QueryLatency[] = [];
  const all: number[] = [];
  const get = async (q: string): Promise<SearchResult> => {
    const res = await fetch(`${baseUrl}/api/v1/search?q=${encodeURIComponent(q)}&limit=${LIMIT}`, { signal: AbortSignal.timeout(10_000), headers });
    const body = (await res.json()) as SearchResult;
    if (!res.ok) throw new Error(`HTTP ${res.status} for ${q}: ${JSON.stringify(body).slice(0, 300)}`);
    return body;
  };
  for (const bq of queries) {
    let last: SearchResult | null = null;
    for (let i = 0; i < warmup; i++) last = await get(bq.q);
    const ms: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      last = await get(bq.q);
      ms.push(performance.now() - t0);
    }
    all.push(...ms);
    per.push({ id: bq.id, q: bq.q, total: last?.total ?? 0, hits: last?.hits.length ?? 0, marked: last ? countMarked(last) : 0, ms: summarize(ms) });
  }
  return collect(per, all, reps, warmup);
}

/**
 * Over HTTP in this process: buildServer (the service's Fastify app) bound to 127.0.0.1 over a
 * read-only index, Node's fetch with keep-alive as the client. Client and server share this
 * event loop, so the figure includes the client's own cost.
 */
export async function searchHttpInProcess(dataDir: string, queries: readonly BenchQuery[], reps: number, warmup: number): Promise<LatencyResult> {
  const ctx = openIndex(dataDir, { readonly: true });
  const api: ServiceApi = {
    isReady: () => ctx.db.open,
    status: () => {
      throw new Error('status is not used by the benchmark');
    },
    search: (q, limit, offset) => ctx.search.search(parseQuery(q), { limit, offset }),
    problems: () => [],
    pause: () => {},
    resume: () => {},
    rescan: async () => {},
  };
  const app = buildServer(api);
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    if (!addr || typeof addr !== 'object') throw new Error('server has no address');
    return await httpLoop(`http://127.0.0.1:${addr.port}`, queries, reps, warmup);
  } finally {
    await app.close();
    ctx.close();
  }
}

/** The index's encryption key (from its secret store), for tools that open the file directly. */
function indexKey(dataDir: string): Buffer | null {
  try {
    const ctx = openIndex(dataDir, { readonly: true });
    ctx.close();
    return ctx.key;
  } catch {
    return null;
  }
}

/** The running service's bearer header (the service creates `api-token` at first start). */
function apiAuth(dataDir: string): Record<string, string> {
  return { Authorization: `Bearer ${fs.readFileSync(path.join(dataDir, 'api-token'), 'utf8').trim()}` };
}

async function waitIdle(url: string, timeoutMs: number, headers: Record<string, string> = {}): Promise<StatusReport> {
  const deadline = Date.now() + timeoutMs;
  let last: StatusReport | null = null;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/api/v1/status`, { signal: AbortSignal.timeout(5000), headers });
      if (res.ok) {
        last = (await res.json()) as StatusReport;
        if (last.state !== 'starting' && last.progress.phase === 'idle' && last.progress.finishedAt !== null) return last;
      }
    } catch {
      /* not up yet */
    }
    await sleep(50);
  }
  throw new Error(`service at ${url} not idle after ${timeoutMs} ms; last status: ${JSON.stringify(last?.progress ?? null)}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startServe(
  args: string[],
  readyTimeoutMs: number,
  onStart: (pid: number) => void = () => {},
  bin = OWLET_BIN,
  execArgv: readonly string[] = [],
  /** The service's environment (memory.ts adds what the hosts add: serviceEnv of the build measured). */
  env: NodeJS.ProcessEnv = owletEnv(),
): Promise<{ proc: LongProcess; url: string; startedMs: number; idle: StatusReport }> {
  const t0 = performance.now();
  const proc = start(process.execPath, [...execArgv, bin, 'serve', ...args, '--port', '0'], { cwd: REPO, env });
  onStart(proc.pid);
  try {
    const m = await proc.waitFor(/serving on (http:\/\/\S+)/, 30_000);
    const url = m[1]!;
    const idle = await waitIdle(url, readyTimeoutMs, apiAuth(args[args.indexOf('--data-dir') + 1]!));
    return { proc, url, startedMs: performance.now() - t0, idle };
  } catch (e) {
    await proc.stop('SIGKILL', 1000);
    throw e;
  }
}

export interface ServeLatencyResult extends LatencyResult {
  /** From spawn to the first reconcile finished (all files unchanged). */
  readyMs: number;
  stopMs: number;
  exitCode: number | null;
  forcedKill: boolean;
}

/**
 * Sets the service's rate limit on search (security.http.rateLimitPerMinute) to fit the run: a
 * benchmark that measures the limiter's 429s measures nothing. Every request of the run fits in
 * one window, so none is refused however fast they come.
 */
export function configureForBench(dataDir: string, requests: number): void {
  const file = path.join(dataDir, 'config.json');
  const config = (fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {}) as { security?: { http?: Record<string, unknown> } };
  const perMinute = Math.min(1_000_000, Math.max(600, Math.ceil(requests * 1.2) + 100));
  config.security = { ...config.security, http: { ...config.security?.http, rateLimitPerMinute: perMinute } };
  fs.writeFileSync(file, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
}

/** Over HTTP against a real `owlet serve` process on the benchmark index (separate process, as users run it). */
export async function searchServe(dataDir: string, queries: readonly BenchQuery[], reps: number, warmup: number): Promise<ServeLatencyResult> {
  configureForBench(dataDir, queries.length * (reps + warmup));
  const { proc, url, startedMs } = await startServe(['--data-dir', dataDir], 600_000);
  try {
    const r = await httpLoop(url, queries, reps, warmup, apiAuth(dataDir));
    const t0 = performance.now();
    const s = await proc.stop('SIGTERM', 30_000);
    return { ...r, readyMs: round(startedMs, 1), stopMs: round(performance.now() - t0, 1), exitCode: s.code, forcedKill: s.forced };
  } finally {
    await proc.stop('SIGKILL', 1000);
  }
}

// ---------------------------------------------------------------------------------------------
// `owlet search` end to end

export interface CliLatency {
  reps: number;
  /** Median wall of `node -e 0`: the process-start floor any Node CLI pays. */
  nodeStartMedianMs: number;
  overallMedianMs: number;
  queries: { id: string; q: string; medianMs: number; minMs: number; maxMs: number; total: number | null; failures: number }[];
}

export async function cliSearch(dataDir: string, queries: readonly BenchQuery[], reps: number): Promise<CliLatency> {
  const floor: number[] = [];
  for (let i = 0; i < reps; i++) floor.push((await run(process.execPath, ['-e', '0'], { timeoutMs: 30_000 })).wallMs);
  const out: CliLatency['queries'] = [];
  const all: number[] = [];
  for (const bq of queries) {
    await owlet(['search', bq.q, '--data-dir', dataDir, '--json', '--limit', String(LIMIT)], 30_000); // warm the page cache
    const ms: number[] = [];
    let total: number | null = null;
    let failures = 0;
    for (let i = 0; i < reps; i++) {
      const r = await owlet(['search', bq.q, '--data-dir', dataDir, '--json', '--limit', String(LIMIT)], 30_000);
      if (r.code !== 0) {
        failures++;
        continue;
      }
      ms.push(r.wallMs);
      try {
        total = (JSON.parse(r.stdout) as SearchResult).total;
      } catch {
        failures++;
      }
    }
    all.push(...ms);
    const s = summarize(ms);
    out.push({ id: bq.id, q: bq.q, medianMs: s.p50, minMs: s.min, maxMs: s.max, total, failures });
  }
  return { reps, nodeStartMedianMs: round(median(floor), 1), overallMedianMs: round(median(all), 1), queries: out };
}

// ---------------------------------------------------------------------------------------------
// live updates

export interface LiveTrial {
  kind: 'add' | 'modify' | 'delete';
  ms: number | null;
}

export interface LiveResult {
  ok: boolean;
  error: string | null;
  copiedFiles: number;
  copiedBytes: number;
  /** From spawn until the first reconcile of the copy finished. */
  initialIndexMs: number;
  trials: LiveTrial[];
  byKind: Record<string, { n: number; p50: number; max: number; timeouts: number }>;
  overall: { n: number; p50: number; max: number; timeouts: number };
  withinTargetMs: number;
  allWithinTarget: boolean;
  stopMs: number | null;
  exitCode: number | null;
  log: LogSummary | null;
}

/** Copies about `want` text/html/md files, spread over the corpus, into `dest`. */
function copySubset(corpus: string, dest: string, want: number): { files: number; bytes: number } {
  const candidates: string[] = [];
  walkFiles(corpus, (abs) => {
    if (/\.(txt|html|md)$/i.test(abs)) candidates.push(abs);
  });
  const step = Math.max(1, Math.floor(candidates.length / want));
  let files = 0;
  let bytes = 0;
  for (let i = 0; i < candidates.length && files < want; i += step) {
    const src = candidates[i]!;
    const to = path.join(dest, path.relative(corpus, src));
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(src, to);
    files++;
    bytes += fs.statSync(to).size;
  }
  return { files, bytes };
}

const token = () => 'zq' + Array.from({ length: 10 }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join('');

/**
 * Starts `owlet serve` on a small copy of part of the corpus, waits until it is idle, then changes
 * files (add, modify, delete) and polls the search API every 20 ms until the change shows.
 */
export async function liveUpdates(corpus: string, workDir: string, trials: number, targetMs = 2000): Promise<LiveResult> {
  const root = path.join(workDir, 'live-root');
  const dataDir = path.join(workDir, 'live-data');
  fs.mkdirSync(root, { recursive: true });
  const copied = copySubset(corpus, root, 300);
  const probeDir = path.join(root, 'bench-probes');
  fs.mkdirSync(probeDir, { recursive: true });
  const result: LiveResult = {
    ok: false,
    error: null,
    copiedFiles: copied.files,
    copiedBytes: copied.bytes,
    initialIndexMs: 0,
    trials: [],
    byKind: {},
    overall: { n: 0, p50: NaN, max: NaN, timeouts: 0 },
    withinTargetMs: targetMs,
    allWithinTarget: false,
    stopMs: null,
    exitCode: null,
    log: null,
  };
  let serve: Awaited<ReturnType<typeof startServe>> | null = null;
  try {
    serve = await startServe(['--root', root, '--data-dir', dataDir], 300_000);
    result.initialIndexMs = round(serve.startedMs, 1);
    const url = serve.url;
    const count = async (tok: string): Promise<number> => {
      const res = await fetch(`${url}/api/v1/search?q=${tok}&limit=1`, { signal: AbortSignal.timeout(5000), headers: apiAuth(dataDir) });
      if (!res.ok) throw new Error(`search answered ${res.status}`);
      return ((await res.json()) as SearchResult).total;
    };
    const until = async (tok: string, want: (n: number) => boolean, t0: number): Promise<number | null> => {
      const deadline = t0 + 15_000;
      while (performance.now() < deadline) {
        if (want(await count(tok))) return performance.now() - t0;
        await sleep(20);
      }
      return null;
    };
    const added: { file: string; tok: string }[] = [];
    // Existing text files to modify (they were indexed by the first pass).
    const existing: string[] = [];
    walkFiles(root, (abs) => {
      if (abs.endsWith('.txt') && !abs.startsWith(probeDir)) existing.push(abs);
    });
    for (let i = 0; i < trials; i++) {
      const tok = token();
      const file = path.join(probeDir, `probe-${i}.txt`);
      const t0 = performance.now();
      fs.writeFileSync(file, `Live update probe ${i}\n\nThis file holds the unique word ${tok} for the benchmark.\n`);
      const ms = await until(tok, (n) => n > 0, t0);
      result.trials.push({ kind: 'add', ms: ms === null ? null : round(ms, 1) });
      added.push({ file, tok });
      await sleep(100);
    }
    const nMod = Math.max(1, Math.ceil(trials / 2));
    for (let i = 0; i < nMod && i < existing.length; i++) {
      const tok = token();
      const file = existing[i]!;
      const t0 = performance.now();
      fs.appendFileSync(file, `\n\nEdited for the benchmark: ${tok}\n`);
      const ms = await until(tok, (n) => n > 0, t0);
      result.trials.push({ kind: 'modify', ms: ms === null ? null : round(ms, 1) });
      await sleep(100);
    }
    for (let i = 0; i < nMod && i < added.length; i++) {
      const { file, tok } = added[i]!;
      const t0 = performance.now();
      fs.unlinkSync(file);
      const ms = await until(tok, (n) => n === 0, t0);
      result.trials.push({ kind: 'delete', ms: ms === null ? null : round(ms, 1) });
      await sleep(100);
    }
    const t0 = performance.now();
    const s = await serve.proc.stop('SIGTERM', 30_000);
    result.stopMs = round(performance.now() - t0, 1);
    result.exitCode = s.code;
    result.ok = true;
  } catch (e) {
    result.error = e instanceof Error ? e.message : String(e);
  } finally {
    await serve?.proc.stop('SIGKILL', 1000);
  }
  const sum = (ts: LiveTrial[]) => {
    const ok = ts.filter((t) => t.ms !== null).map((t) => t.ms!);
    const s = summarize(ok);
    return { n: ts.length, p50: s.p50, max: s.max, timeouts: ts.length - ok.length };
  };
  for (const kind of ['add', 'modify', 'delete'] as const) {
    const ts = result.trials.filter((t) => t.kind === kind);
    if (ts.length) result.byKind[kind] = sum(ts);
  }
  result.overall = sum(result.trials);
  result.allWithinTarget = result.trials.length > 0 && result.trials.every((t) => t.ms !== null && t.ms <= targetMs);
  result.log = logSummary(dataDir);
  return result;
}

/** Bytes of the Owlet data directory's index files. */
export function indexFiles(dataDir: string): { db: number; wal: number; all: number } {
  const db = path.join(dataDir, 'index.db');
  return { db: fileBytes(db), wal: fileBytes(db + '-wal'), all: diskBytes(dataDir) };
}
