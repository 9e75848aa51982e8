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
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3-multiple-ciphers';
import zlib from 'node:zlib';
import { newBackupId } from '../src/indexer/backup/manifest.js';
import { ProtectedIndex } from '../src/indexer/recovery/protected-index.js';
import { DEFAULT_BACKUP_CONFIG } from '../src/indexer/config/backup-settings.js';
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

/**
 * The backup code as it ships (dist/, built by `npm run bench:backup`): its worker thread then
 * loads compiled JavaScript, as in the app. Imported from src/ through tsx, every backup's thread
 * would first compile TypeScript, a start-up cost the app does not pay.
 */
const built = <T>(rel: string): Promise<T> => import(pathToFileURL(path.join(REPO, 'dist', 'indexer', rel)).href) as Promise<T>;
const { createBackup } = await built<typeof import('../src/indexer/backup/create.js')>('backup/create.js');
const { runTask } = await built<typeof import('../src/indexer/backup/runner.js')>('backup/runner.js');

const USAGE = `usage: node --import tsx bench/backup.ts [--small | --full | --corpus DIR] [options]

  --small / --full     the corpora built by \`npm run bench\` (default --small)
  --corpus DIR         any folder
  --cache DIR          where the corpora live (default ~/.cache/owlet-bench)
  --seconds N          length of each idle / comparison search window (default 5)
  --rounds N           the full write and the previous method, alternated N times; medians (default 3)
  --data DIR           an already indexed data folder of that corpus (copied; skips indexing)
  --quick              only the issue-16 figures: skip the copy-method comparison, the trap
                       overhead, the HTTP run and the recovery run
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

/** gzip in 4 MiB members, as the previous backup code did; returns the compressed size. */
function gzipFile(src: string, dest: string): number {
  const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
  const input = fs.openSync(src, 'r');
  const output = fs.openSync(dest, 'w');
  let out = 0;
  try {
    for (let n; (n = fs.readSync(input, buf, 0, buf.length, null)) > 0; ) {
      const z = zlib.gzipSync(buf.subarray(0, n), { level: 1 });
      fs.writeSync(output, z);
      out += z.length;
    }
    fs.fsyncSync(output);
  } finally {
    fs.closeSync(input);
    fs.closeSync(output);
  }
  return out;
}

/** Rewrites the rows and passages of a share of the documents (same content): an edit, to the change tracking. */
function touchDocuments(data: string, share: number): number {
  const ctx = openIndex(data);
  try {
    const ids = ctx.db.prepare("SELECT id FROM documents WHERE status = 'indexed' ORDER BY random()").pluck().all() as number[];
    const pick = ids.slice(0, Math.max(1, Math.round(ids.length * share)));
    const passages = ctx.db.prepare('SELECT id, data FROM doc_text WHERE id >= ? AND id < ?');
    const del = ctx.db.prepare('DELETE FROM doc_text WHERE id >= ? AND id < ?');
    const ins = ctx.db.prepare('INSERT INTO doc_text (id, data) VALUES (?, ?)');
    const upd = ctx.db.prepare('UPDATE documents SET mtime_ms = mtime_ms + 1, indexed_at = ? WHERE id = ?');
    ctx.db.transaction(() => {
      for (const id of pick) {
        const from = id * 1048576;
        const rows = passages.all(from, from + 1048576) as { id: number; data: Buffer }[];
        del.run(from, from + 1048576);
        for (const r of rows) ins.run(r.id, r.data);
        upd.run(Date.now(), id);
      }
    })();
    return pick.length;
  } finally {
    ctx.close();
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      small: { type: 'boolean' },
      full: { type: 'boolean' },
      corpus: { type: 'string' },
      cache: { type: 'string' },
      seconds: { type: 'string' },
      rounds: { type: 'string' },
      data: { type: 'string' },
      quick: { type: 'boolean' },
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
  const rounds = Math.max(1, Number(values.rounds ?? 3));
  const work = makeTmp('owlet-backup-bench-');
  const data = path.join(work, 'data');
  const report: Record<string, unknown> = { corpus: { name: corpusName, dir: corpus }, env: { node: process.version, cpus: os.cpus().length, loadavgStart: os.loadavg() }, startedAt: new Date().toISOString() };
  try {
    // 1. The index.
    const tree = walkFiles(corpus);
    log(`indexing ${tree.files} files (${(tree.bytes / 1048576).toFixed(0)} MB) from ${corpus}`);
    let wallS: number | null = null;
    let summaryIndexed: number | null = null;
    if (values.data) {
      fs.cpSync(path.resolve(values.data), data, { recursive: true });
      fs.rmSync(path.join(data, 'backups'), { recursive: true, force: true });
      fs.rmSync(path.join(data, 'service.json'), { force: true });
    } else {
      const idx = await indexCorpus(corpus, tree.bytes, tree.files, data, 30 * 60_000);
      if (!idx.ok) throw new Error(`owlet index failed: ${idx.stderrTail}`);
      wallS = idx.wallS;
      summaryIndexed = idx.summary?.indexed ?? null;
    }
    const cfgFile = path.join(data, 'config.json');
    const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8')) as Record<string, unknown> & { security?: { http?: Record<string, unknown> } };
    // The bench's own client would otherwise hit the per-client search rate limit.
    cfg.security = { ...cfg.security, http: { ...cfg.security?.http, rateLimitPerMinute: 1_000_000 } };
    fs.writeFileSync(cfgFile, JSON.stringify(cfg, null, 2));
    {
      const w = openIndex(data);
      w.db.pragma('wal_checkpoint(TRUNCATE)');
      w.close();
    }
    const indexBytes = fs.statSync(path.join(data, 'index.db')).size;
    report.index = { files: tree.files, corpusBytes: tree.bytes, indexBytes, wallS, documents: summaryIndexed };
    log(`index: ${(indexBytes / 1048576).toFixed(1)} MB`);

    // 2. In-process: searches on a reader connection, idle vs during Owlet's backup (worker thread).
    const ctx = openIndex(data, { readonly: true });
    const key = ctx.key;
    const search = (q: string) => ctx.search.search(parseQuery(q), { limit: LIMIT, offset: 0 });
    for (const q of queryTexts) for (let i = 0; i < 20; i++) search(q);
    log('in-process searches, idle…');
    const idle = await searchLoop(search, windowMs);
    log('in-process searches during a full backup…');
    const t0 = performance.now();
    const backupP = createBackup({ dataDir: data, settings: DEFAULT_BACKUP_CONFIG, key, log: nullLogger, full: true }, 'manual');
    const during = await searchLoop(search, backupP);
    const made = await backupP;
    const backupMs = performance.now() - t0;
    if (made.status !== 'created') throw new Error(`backup skipped: ${made.skip.message}`);
    (report.env as Record<string, unknown>).loadavgAfterFull = os.loadavg();
    const m = made.manifest;
    log(`full backup ${m.id}: ${(backupMs / 1000).toFixed(1)} s with its verification, ${(m.size / 1048576).toFixed(1)} MB, verified ${m.verification?.ok}`);
    // The write against today's method (before issue 16: VACUUM INTO, then gzip level 1), each
    // without its verification, alternated `rounds` times: on a shared machine the load moves
    // within minutes, so one run of each, minutes apart, compares nothing.
    let oldGz = 0;
    const previousMethod = async (): Promise<number> => {
      const oldDest = path.join(work, 'old.db');
      const o0 = performance.now();
      await runTask<SnapshotResult>({ op: 'snapshot', source: path.join(data, 'index.db'), dest: oldDest, key, method: 'vacuum', lowPriority: true });
      oldGz = gzipFile(oldDest, path.join(work, 'old.db.gz'));
      const ms = performance.now() - o0;
      rmrf(oldDest);
      rmrf(path.join(work, 'old.db.gz'));
      return ms;
    };
    const writeOnly = async (): Promise<number> => {
      fs.mkdirSync(path.join(work, 'dump-only'), { recursive: true, mode: 0o700 });
      const d0 = performance.now();
      await runTask({ op: 'backup', source: path.join(data, 'index.db'), dir: path.join(work, 'dump-only'), id: newBackupId(Date.now()), reason: 'manual', createdAt: new Date().toISOString(), owletVersion: 'bench', config: null, key, parent: null, verify: false, lowPriority: true });
      const ms = performance.now() - d0;
      rmrf(path.join(work, 'dump-only'));
      return ms;
    };
    const oldRuns: number[] = [];
    const writeRuns: number[] = [];
    for (let i = 0; i < rounds; i++) {
      log(`write round ${i + 1}/${rounds}: the previous method (VACUUM INTO + gzip), then the new write…`);
      oldRuns.push(await previousMethod());
      writeRuns.push(await writeOnly());
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const oldMs = median(oldRuns);
    const dumpMs = median(writeRuns);
    const writeRatio = median(writeRuns.map((w, i) => w / oldRuns[i]!));

    // 1% of the documents change: their rows and text are written again (same text), which is
    // what the change tracking sees when files are edited and indexed again.
    const changed = touchDocuments(data, 0.01);
    log(`changed ${changed} documents; incremental backup…`);
    const i0 = performance.now();
    const inc = await createBackup({ dataDir: data, settings: DEFAULT_BACKUP_CONFIG, key, log: nullLogger }, 'scheduled');
    const incMs = performance.now() - i0;
    if (inc.status !== 'created') throw new Error('incremental backup skipped');
    log(`${inc.manifest.kind} backup: ${(incMs / 1000).toFixed(2)} s, ${(inc.manifest.size / 1024).toFixed(0)} KB`);
    const r0x = performance.now();
    await runTask({ op: 'unpack', dir: path.join(data, 'backups'), id: inc.manifest.id, keys: key ? [key] : [], target: path.join(work, 'restored.db') });
    const restoreMs = performance.now() - r0x;
    rmrf(path.join(work, 'restored.db'));
    report.backup = {
      previous: { method: 'VACUUM INTO + gzip -1 (before issue 16)', s: round(oldMs / 1000, 2), runsS: oldRuns.map((x) => round(x / 1000, 2)), bytes: oldGz, ofIndex: round(oldGz / indexBytes, 3) },
      full: { totalS: round(backupMs / 1000, 2), writeS: round(dumpMs / 1000, 2), writeRunsS: writeRuns.map((x) => round(x / 1000, 2)), writeOfPrevious: round(writeRatio, 3), bytes: m.size, ofIndex: round(m.size / indexBytes, 3), codec: m.compression, verified: m.verification?.ok ?? false, documents: m.documentCount },
      incremental: { changedDocuments: changed, kind: inc.manifest.kind, totalS: round(incMs / 1000, 2), bytes: inc.manifest.size, ofFullBytes: round(inc.manifest.size / m.size, 4), ofFullTime: round(incMs / backupMs, 4), ofFullWrite: round(incMs / dumpMs, 4) },
      restoreChainS: round(restoreMs / 1000, 2),
    };
    report.inProcess = { idle, duringBackup: during, p99Ratio: ratio(during.searches, idle.searches) };
    // The figures issue 16 asks for, printed by both the quick and the whole run.
    const fig = report.backup as { previous: { s: number; bytes: number; ofIndex: number }; full: { totalS: number; writeS: number; writeOfPrevious: number; bytes: number; ofIndex: number; codec: string }; incremental: { totalS: number; bytes: number; ofFullBytes: number; ofFullTime: number; ofFullWrite: number; changedDocuments: number }; restoreChainS: number };
    const mbs = (n: number) => `${(n / 1048576).toFixed(1)} MB`;
    const issue16 = [
      `corpus ${corpusName}: ${tree.files} files; index.db ${mbs(indexBytes)}`,
      `previous backup (VACUUM INTO + gzip): ${mbs(fig.previous.bytes)} = ${(fig.previous.ofIndex * 100).toFixed(0)}% of index.db, ${fig.previous.s} s`,
      `full backup (rows -> ${fig.full.codec} -> AES-256-GCM chunks): ${mbs(fig.full.bytes)} = ${(fig.full.ofIndex * 100).toFixed(0)}% of index.db; written in ${fig.full.writeS} s (x${fig.full.writeOfPrevious} the previous method's time, median of ${rounds} alternated rounds), ${fig.full.totalS} s with its verification (a full restore)`,
      `incremental after ${fig.incremental.changedDocuments} documents changed (1%): ${(fig.incremental.bytes / 1024).toFixed(0)} KB = ${(fig.incremental.ofFullBytes * 100).toFixed(2)}% of the full size, ${fig.incremental.totalS} s = ${(fig.incremental.ofFullTime * 100).toFixed(1)}% of the full backup's time (${(fig.incremental.ofFullWrite * 100).toFixed(1)}% of its write alone)`,
      `load average now: ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} (start ${(report.env as { loadavgStart: number[] }).loadavgStart.map((x) => x.toFixed(1)).join(' ')}) on ${os.cpus().length} CPUs`,
      `restore from full + increment: ${fig.restoreChainS} s`,
      `search p99 in-process: idle ${idle.searches.p99} ms, during the full backup ${during.searches.p99} ms (x${ratio(during.searches, idle.searches)}); failures ${during.failures}`,
    ];
    if (values.quick) {
      const lines = issue16;
      report.env = { ...(report.env as object), loadavgEnd: os.loadavg() };
      for (const l of lines) console.log(l);
      report.summary = lines;
      const outDir = path.resolve(values.out ?? path.join(REPO, 'bench', 'results'));
      fs.mkdirSync(outDir, { recursive: true });
      const file = path.join(outDir, `${new Date().toISOString().slice(0, 19).replace(/:/g, '-')}Z-backup-${corpusName}.json`);
      fs.writeFileSync(file, JSON.stringify(report, null, 1));
      log(`saved ${file}`);
      return 0;
    }

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
      // A full backup (one before an update always is): this data folder already holds a chain, and
      // an incremental would be over before the searches measured anything.
      const post = fetch(`${url}/api/v1/backups`, { method: 'POST', headers: { ...headers, 'Content-Type': 'application/json' }, body: '{"reason":"pre-update"}', signal: AbortSignal.timeout(30 * 60_000) }).then(async (r) => ({ status: r.status, body: (await r.json()) as { status?: string; ms?: number } }));
      const hDuring = await httpLoop(url, headers, post);
      const res = await post;
      report.serve = { idle: hIdle, duringBackup: hDuring, p99Ratio: ratio(hDuring.searches, hIdle.searches), backupS: round((performance.now() - h0) / 1000, 2), backupStatus: res.status, backupKind: (res.body as { manifest?: { kind?: string } }).manifest?.kind ?? null };
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
    const b = { totalS: (report.backup as { full: { totalS: number } }).full.totalS, copyS: (report.backup as { full: { writeS: number } }).full.writeS };
    const s = report.serve as { p99Ratio: number; idle: Window; duringBackup: Window };
    const rec = report.recovery as { readyS: number; reconciledS: number };
    const cm = report.copyMethods as Record<string, { copyS: number; p99Ratio: number; readers: Window }>;
    const targets = [
      { name: 'backup of the index < 60 s', value: b.totalS, pass: b.totalS < 60 },
      { name: 'search p99 during backup ≤ 2× idle (owlet serve, HTTP)', value: s.p99Ratio, pass: s.p99Ratio <= 2 },
      { name: 'recovery from corruption to ready < 30 s (+ reconciliation)', value: rec.readyS, pass: rec.readyS < 30 },
      { name: 'full backup ≤ 40% of index.db (#16)', value: fig.full.ofIndex, pass: fig.full.ofIndex <= 0.4 },
      { name: 'full backup written no slower than the previous method (#16, median ratio)', value: fig.full.writeOfPrevious, pass: fig.full.writeOfPrevious <= 1 },
      { name: 'incremental after 1% changed ≤ 5% of a full backup in size (#16)', value: fig.incremental.ofFullBytes, pass: fig.incremental.ofFullBytes <= 0.05 },
      { name: 'incremental after 1% changed ≤ 5% of a full backup in time (#16)', value: fig.incremental.ofFullTime, pass: fig.incremental.ofFullTime <= 0.05 },
    ];
    report.targets = targets;
    report.env = { ...(report.env as object), loadavgEnd: os.loadavg() };
    const lines = [
      ...issue16,
      `backup: ${b.totalS} s total (written in ${b.copyS} s), ${((report.backup as { full: { bytes: number } }).full.bytes / 1048576).toFixed(1)} MB, verified`,
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
