/**
 * Backup and recovery benchmark (issue 6 targets), on an index built from a corpus:
 *
 *   - backup of the index: time of Owlet's backup (copy with VACUUM INTO, gzip, checksum, verify
 *     by restoring into a temporary folder + integrity_check + document count), sizes;
 *   - search p99 during the backup vs idle, as a ratio: over HTTP against a real `owlet serve`
 *     (the backup triggered through its API, as the scheduler does) and in-process on a second
 *     connection;
 *   - which copy method blocks readers less: VACUUM INTO vs SQLite's online backup API, both in a
 *     worker thread, on a plaintext copy of the index (the backup API refuses encrypted ones);
 *   - recovery from a corrupted database to ready, then to reconciled with the disk.
 *
 *   npm run build && node --import tsx bench/backup.ts [--small | --full | --corpus DIR] [options]
 *
 * The corpora are the ones `npm run bench` builds (~/.cache/owlet-bench/corpus-{small,full}).
 * Results are printed and saved as JSON in bench/results/<time>-backup-<corpus>.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3-multiple-ciphers';
import { createBackup } from '../src/indexer/backup/create.js';
import { ProtectedIndex } from '../src/indexer/recovery/protected-index.js';
import { runTask } from '../src/indexer/backup/runner.js';
import { DEFAULT_BACKUP_CONFIG } from '../src/indexer/backup/settings.js';
import type { SnapshotResult } from '../src/indexer/backup/worker.js';
import { nullLogger } from '../src/indexer/log/logger.js';
import { parseQuery } from '../src/indexer/search/query.js';
import { SearchEngine } from '../src/indexer/search/search.js';
import { DocumentStore } from '../src/indexer/store/documents.js';
import { applyKey } from '../src/indexer/security/cipher.js';
import { openIndex } from '../src/indexer/service/context.js';
import { OwletService } from '../src/indexer/service/service.js';
import type { SearchResult } from '../src/shared/api.js';
import { makeTmp, rmrf, walkFiles } from './lib/fsutil.js';
import { killAllStarted, start, type LongProcess } from './lib/proc.js';
import { round, summarize, type Summary } from './lib/stats.js';
import { indexCorpus, OWLET_BIN, REPO } from './owlet.js';
import { LIMIT, QUERIES } from './queries.js';

const USAGE = `usage: node --import tsx bench/backup.ts [--small | --full | --corpus DIR] [options]

  --small / --full     the corpora built by \`npm run bench\` (default --small)
  --corpus DIR         any folder
  --cache DIR          where the corpora live (default ~/.cache/owlet-bench)
  --seconds N          length of each idle / comparison search window (default 5)
  --level N            gzip level of the in-process backup (default: Owlet's, 1 for an encrypted index, else 6)
  --keep               keep the temporary folders
  --out DIR            where to save the JSON (default bench/results)`;

const log = (m: string) => process.stderr.write(`[backup-bench ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const queryTexts = QUERIES.map((q) => q.q);

interface Window {
  searches: Summary;
  failures: number;
}

/** Runs in-process searches on `db` until `until` resolves (or for `ms`), yielding between them. */
async function searchLoop(search: (q: string) => unknown, until: Promise<unknown> | number): Promise<Window> {
  let done = false;
  if (typeof until === 'number') setTimeout(() => (done = true), until);
  else void until.finally(() => (done = true));
  const ms: number[] = [];
  let failures = 0;
  for (let i = 0; !done; i++) {
    const t0 = performance.now();
    try {
      search(queryTexts[i % queryTexts.length]!);
    } catch {
      failures++;
    }
    ms.push(performance.now() - t0);
    await new Promise((r) => setImmediate(r));
  }
  return { searches: summarize(ms), failures };
}

async function httpLoop(url: string, headers: Record<string, string>, until: Promise<unknown> | number): Promise<Window> {
  let done = false;
  if (typeof until === 'number') setTimeout(() => (done = true), until);
  else void until.finally(() => (done = true));
  const ms: number[] = [];
  let failures = 0;
  for (let i = 0; !done; i++) {
    const t0 = performance.now();
    try {
      // A distinct excluded word per request: same hits, but the service's result cache cannot answer it.
      const q = `${queryTexts[i % queryTexts.length]!} -zqx${i}`;
      const res = await fetch(`${url}/api/v1/search?q=${encodeURIComponent(q)}&limit=${LIMIT}`, { headers, signal: AbortSignal.timeout(30_000) });
      const body = (await res.json()) as SearchResult;
      if (!res.ok || !Array.isArray(body.hits)) failures++;
    } catch {
      failures++;
    }
    ms.push(performance.now() - t0);
  }
  return { searches: summarize(ms), failures };
}

function ratio(a: Summary, b: Summary): number {
  return round(a.p99 / b.p99, 2);
}

/** A plaintext copy of an encrypted index, for the online backup API (which refuses encrypted sources). */
function plaintextCopy(src: string, key: Buffer | null, dest: string): void {
  const db = new Database(src, { readonly: true });
  if (key) applyKey(db, key);
  db.exec(`VACUUM INTO '${dest.replace(/'/g, "''")}'`);
  db.close();
  if (!key) return;
  const c = new Database(dest);
  applyKey(c, key);
  c.pragma('journal_mode = DELETE');
  c.pragma("rekey = ''");
  c.close();
}

function damagePages(file: string, fraction: number): number {
  const page = 4096;
  const pages = Math.floor(fs.statSync(file).size / page);
  const fd = fs.openSync(file, 'r+');
  let n = 0;
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let p = 1; p < pages; p++) {
    if (rnd() >= fraction) continue;
    const buf = Buffer.alloc(page);
    for (let i = 0; i < page; i++) buf[i] = Math.floor(rnd() * 256);
    fs.writeSync(fd, buf, 0, page, p * page);
    n++;
  }
  fs.closeSync(fd);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      small: { type: 'boolean' },
      full: { type: 'boolean' },
      corpus: { type: 'string' },
      cache: { type: 'string' },
      seconds: { type: 'string' },
      level: { type: 'string' },
      keep: { type: 'boolean' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const cache = path.resolve(values.cache ?? path.join(os.homedir(), '.cache', 'owlet-bench'));
  const corpusName = values.corpus ? path.basename(path.resolve(values.corpus)) : values.full ? 'full' : 'small';
  const corpus = values.corpus ? path.resolve(values.corpus) : path.join(cache, `corpus-${corpusName}`);
  if (!fs.existsSync(corpus)) {
    console.error(`no corpus at ${corpus}: run "npm run bench${values.full ? ' -- --full' : ''}" once to build it, or pass --corpus DIR`);
    return 2;
  }
  const windowMs = Number(values.seconds ?? 5) * 1000;
  const level = values.level === undefined ? undefined : Number(values.level);
  const work = makeTmp('owlet-backup-bench-');
  const data = path.join(work, 'data');
  const report: Record<string, unknown> = { corpus: { name: corpusName, dir: corpus }, env: { node: process.version, cpus: os.cpus().length, loadavgStart: os.loadavg() }, startedAt: new Date().toISOString() };
  try {
    // 1. The index.
    const tree = walkFiles(corpus);
    log(`indexing ${tree.files} files (${(tree.bytes / 1048576).toFixed(0)} MB) from ${corpus}`);
    const idx = await indexCorpus(corpus, tree.bytes, tree.files, data, 30 * 60_000);
    if (!idx.ok) throw new Error(`owlet index failed: ${idx.stderrTail}`);
    const cfgFile = path.join(data, 'config.json');
    const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8')) as Record<string, unknown> & { security?: { http?: Record<string, unknown> } };
    // The bench's own client would otherwise hit the per-client search rate limit.
    cfg.security = { ...cfg.security, http: { ...cfg.security?.http, rateLimitPerMinute: 1_000_000 } };
    fs.writeFileSync(cfgFile, JSON.stringify(cfg, null, 2));
    const indexBytes = fs.statSync(path.join(data, 'index.db')).size;
    report.index = { files: tree.files, corpusBytes: tree.bytes, indexBytes, wallS: idx.wallS, documents: idx.summary?.indexed ?? null };
    log(`index: ${(indexBytes / 1048576).toFixed(1)} MB in ${idx.wallS} s`);

    // 2. In-process: searches on a reader connection, idle vs during Owlet's backup (worker thread).
    const ctx = openIndex(data, { readonly: true });
    const key = ctx.key;
    const search = (q: string) => ctx.search.search(parseQuery(q), { limit: LIMIT, offset: 0 });
    for (const q of queryTexts) for (let i = 0; i < 20; i++) search(q);
    log('in-process searches, idle…');
    const idle = await searchLoop(search, windowMs);
    log('in-process searches during a backup…');
    const t0 = performance.now();
    const backupP = createBackup({ dataDir: data, settings: DEFAULT_BACKUP_CONFIG, key, log: nullLogger, level }, 'manual');
    const during = await searchLoop(search, backupP);
    const made = await backupP;
    const backupMs = performance.now() - t0;
    if (made.status !== 'created') throw new Error(`backup skipped: ${made.skip.message}`);
    const m = made.manifest;
    log(`backup ${m.id}: ${(backupMs / 1000).toFixed(1)} s, ${(m.size / 1048576).toFixed(1)} MB, verified ${m.verification?.ok}`);
    // The copy alone (what holds a read transaction on the live index).
    const snapDest = path.join(work, 'snapshot.db');
    const snap = await runTask<SnapshotResult>({ op: 'snapshot', source: path.join(data, 'index.db'), dest: snapDest, key: key, method: 'vacuum', lowPriority: true });
    rmrf(snapDest);
    report.backup = {
      totalS: round(backupMs / 1000, 2),
      copyS: round(snap.ms / 1000, 2),
      dbBytes: m.dbBytes,
      compressedBytes: m.size,
      compression: round(m.size / m.dbBytes, 3),
      encrypted: m.encrypted,
      gzipLevel: level ?? (m.encrypted ? 1 : 6),
      verified: m.verification?.ok ?? false,
      documents: m.documentCount,
    };
    report.inProcess = { idle, duringBackup: during, p99Ratio: ratio(during.searches, idle.searches) };

    // Trap overhead: the same searches on a connection with the corruption trap installed.
    const trapped = openIndex(data, { readonly: true, onCorrupt: () => {} });
    const tSearch = (q: string) => trapped.search.search(parseQuery(q), { limit: LIMIT, offset: 0 });
    for (const q of queryTexts) for (let i = 0; i < 20; i++) tSearch(q);
    const withTrap = await searchLoop(tSearch, windowMs);
    const withoutTrap = await searchLoop(search, windowMs);
    trapped.close();
    ctx.close();
    report.trapOverhead = { withTrap: withTrap.searches, withoutTrap: withoutTrap.searches, p50Ratio: round(withTrap.searches.p50 / withoutTrap.searches.p50, 3) };

    // 3. VACUUM INTO vs the online backup API, on a plaintext copy, readers in this thread.
    log('copy methods on a plaintext copy: VACUUM INTO vs the online backup API…');
    const plain = path.join(work, 'plain.db');
    plaintextCopy(path.join(data, 'index.db'), key, plain);
    const pdb = new Database(plain, { readonly: true });
    const pengine = new SearchEngine(pdb, new DocumentStore(pdb));
    const psearch = (q: string) => pengine.search(parseQuery(q), { limit: LIMIT, offset: 0 });
    const methods: Record<string, unknown> = {};
    const pIdle = await searchLoop(psearch, windowMs);
    for (const method of ['vacuum', 'backup-api'] as const) {
      const dest = path.join(work, `copy-${method}.db`);
      // Copies back to back for the whole window, so the readers' percentiles cover many copies.
      const copies: number[] = [];
      const until = Date.now() + windowMs;
      const run = (async () => {
        while (Date.now() < until || copies.length === 0) {
          copies.push((await runTask<SnapshotResult>({ op: 'snapshot', source: plain, dest, key: null, method, lowPriority: false })).ms);
          rmrf(dest);
        }
      })();
      const w = await searchLoop(psearch, run);
      await run;
      methods[method] = { copies: copies.length, copyS: round(copies.reduce((a, b) => a + b, 0) / copies.length / 1000, 3), readers: w, p99Ratio: ratio(w.searches, pIdle.searches) };
    }
    pdb.close();
    rmrf(plain);
    report.copyMethods = { idle: pIdle, ...methods, note: 'readers: the same searches (SearchEngine, snippets) on a read-only connection in the main thread; copies in a worker thread' };

    // 4. Over HTTP against a real `owlet serve`: idle vs during a backup taken through its API.
    log('owlet serve: HTTP searches idle and during a backup…');
    const serve: LongProcess = start(process.execPath, [OWLET_BIN, 'serve', '--data-dir', data, '--port', '0'], { cwd: REPO, env: { ...process.env, OWLET_ALLOW_ROOT: '1', NO_COLOR: '1' } });
    try {
      const url = (await serve.waitFor(/serving on (http:\/\/\S+)/, 120_000))[1]!;
      const headers = { Authorization: `Bearer ${fs.readFileSync(path.join(data, 'api-token'), 'utf8').trim()}` };
      for (let i = 0; i < 600; i++) {
        const s = (await (await fetch(`${url}/api/v1/status`, { headers })).json()) as { progress: { phase: string; finishedAt: string | null } };
        if (s.progress.phase === 'idle' && s.progress.finishedAt) break;
        await sleep(100);
      }
      await httpLoop(url, headers, 1000);
      const hIdle = await httpLoop(url, headers, windowMs);
      const h0 = performance.now();
      const post = fetch(`${url}/api/v1/backups`, { method: 'POST', headers: { ...headers, 'Content-Type': 'application/json' }, body: '{}', signal: AbortSignal.timeout(30 * 60_000) }).then(async (r) => ({ status: r.status, body: (await r.json()) as { status?: string; ms?: number } }));
      const hDuring = await httpLoop(url, headers, post);
      const res = await post;
      report.serve = { idle: hIdle, duringBackup: hDuring, p99Ratio: ratio(hDuring.searches, hIdle.searches), backupS: round((performance.now() - h0) / 1000, 2), backupStatus: res.status };
    } finally {
      await serve.stop('SIGTERM', 30_000);
    }

    // 5. Recovery: a copy of the data folder (index, keys, backups), its index damaged.
    log('recovery from a corrupted index…');
    const rdata = path.join(work, 'recover');
    fs.cpSync(data, rdata, { recursive: true });
    fs.rmSync(path.join(rdata, 'service.json'), { force: true });
    const damaged = damagePages(path.join(rdata, 'index.db'), 0.05);
    const r0 = performance.now();
    const g = await ProtectedIndex.open({ dataDir: rdata, log: nullLogger, create: (hooks) => new OwletService({ dataDir: rdata, log: nullLogger, watch: false, ...hooks }) });
    const readyMs = performance.now() - r0;
    const firstHit = g.service.search(queryTexts[0]!, 10, 0).total;
    await g.start();
    while (g.guardian.phase !== 'serving' && g.guardian.phase !== 'failed') await sleep(50);
    await g.service.rescan();
    const reconciledMs = performance.now() - r0;
    report.recovery = { damagedPages: damaged, action: g.guardian.lastRecovery?.action ?? null, backupId: g.guardian.lastRecovery?.backupId ?? null, readyS: round(readyMs / 1000, 2), reconciledS: round(reconciledMs / 1000, 2), searchableAtReady: firstHit > 0 };
    await g.stop();

    // Summary.
    const b = report.backup as { totalS: number; copyS: number };
    const s = report.serve as { p99Ratio: number; idle: Window; duringBackup: Window };
    const rec = report.recovery as { readyS: number; reconciledS: number };
    const cm = report.copyMethods as Record<string, { copyS: number; p99Ratio: number; readers: Window }>;
    const targets = [
      { name: 'backup of the index < 60 s', value: b.totalS, pass: b.totalS < 60 },
      { name: 'search p99 during backup ≤ 2× idle (owlet serve, HTTP)', value: s.p99Ratio, pass: s.p99Ratio <= 2 },
      { name: 'recovery from corruption to ready < 30 s (+ reconciliation)', value: rec.readyS, pass: rec.readyS < 30 },
    ];
    report.targets = targets;
    report.env = { ...(report.env as object), loadavgEnd: os.loadavg() };
    const lines = [
      `corpus ${corpusName}: ${tree.files} files; index ${(indexBytes / 1048576).toFixed(1)} MB`,
      `backup: ${b.totalS} s total (copy ${b.copyS} s), ${((report.backup as { compressedBytes: number }).compressedBytes / 1048576).toFixed(1)} MB, verified`,
      `search p99 idle / during backup: in-process ${(report.inProcess as { idle: Window }).idle.searches.p99} / ${(report.inProcess as { duringBackup: Window }).duringBackup.searches.p99} ms; HTTP ${s.idle.searches.p99} / ${s.duringBackup.searches.p99} ms (ratio ${s.p99Ratio}); failures ${s.duringBackup.failures}`,
      `readers during the copy (plaintext copy): idle p99 ${(cm.idle as unknown as Window).searches.p99} ms; VACUUM INTO ${cm.vacuum!.copyS} s, p99 ×${cm.vacuum!.p99Ratio}; online backup API ${cm['backup-api']!.copyS} s, p99 ×${cm['backup-api']!.p99Ratio}`,
      `corruption trap overhead: search p50 ×${(report.trapOverhead as { p50Ratio: number }).p50Ratio}`,
      `recovery: ready in ${rec.readyS} s, reconciled in ${rec.reconciledS} s (${(report.recovery as { action: string }).action})`,
      ...targets.map((t) => `target ${t.pass ? 'PASS' : 'FAIL'}: ${t.name}: ${t.value}`),
    ];
    for (const l of lines) console.log(l);
    const outDir = path.resolve(values.out ?? path.join(REPO, 'bench', 'results'));
    fs.mkdirSync(outDir, { recursive: true });
    const file = path.join(outDir, `${new Date().toISOString().slice(0, 19).replace(/:/g, '-')}Z-backup-${corpusName}.json`);
    fs.writeFileSync(file, JSON.stringify(report, null, 1));
    log(`saved ${file}`);
    return 0;
  } finally {
    killAllStarted();
    if (values.keep) log(`kept ${work}`);
    else rmrf(work);
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`backup bench failed: ${e instanceof Error ? e.stack : String(e)}`);
    killAllStarted();
    process.exit(1);
  },
);
