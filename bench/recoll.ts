/**
 * Recoll, the reference desktop indexer (Xapian), when installed: `recollindex -c CONF -z` on the
 * same corpus (wall time, peak RSS of its process tree, xapiandb size) and `recollq` per query,
 * process start included.
 */
import fs from 'node:fs';
import path from 'node:path';
import { diskBytes } from './lib/fsutil.js';
import { run, which, type TreePeak } from './lib/proc.js';
import { median, round, summarize } from './lib/stats.js';
import { LIMIT, type BenchQuery } from './queries.js';

/**
 * Recoll's filters are scripts run through `python3` from PATH; a per-user Python (pyenv, venv)
 * usually lacks the system's python3-lxml and then docx/odt fail. Put the system directories first.
 */
export function recollEnv(): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `/usr/bin:/bin:${process.env.PATH ?? ''}`, LC_ALL: 'C.UTF-8' };
}

export function recollInstalled(): { recollindex: string; recollq: string } | null {
  const p = recollEnv().PATH;
  const recollindex = which('recollindex', p);
  const recollq = which('recollq', p);
  return recollindex && recollq ? { recollindex, recollq } : null;
}

/**
 * How Recoll is configured for a run. By default it runs the system's `file -i` (and through
 * xdg-utils `xdg-mime`) for every file whose type its extension does not give; on a desktop that
 * is what dominates its indexing time. `usesystemfilecommand = 0` is Recoll at its best, and the
 * comparison is made against the faster of the two (issue #14).
 */
export interface RecollVariant {
  name: string;
  /** Extra recoll.conf lines. */
  conf: string;
}

export const RECOLL_VARIANTS: readonly RecollVariant[] = [
  { name: 'defaults', conf: '' },
  { name: 'usesystemfilecommand = 0', conf: 'usesystemfilecommand = 0\n' },
];

export interface RecollResult {
  /** Which configuration (RECOLL_VARIANTS) this is. */
  variant: string;
  /** Its configuration folder (recollq -c). */
  conf: string;
  version: string | null;
  ok: boolean;
  exitCode: number | null;
  timedOut: boolean;
  wallS: number;
  filesPerS: number;
  mbPerS: number;
  peak: TreePeak | null;
  indexBytes: number;
  indexFraction: number;
  /** From idxstatus.txt: documents (files and embedded docs) indexed, file errors. */
  status: Record<string, string>;
  /** Helper programs recoll reported missing (their documents are indexed by name only). */
  missingHelpers: string[];
  /** --diagsfile lines grouped by their first word (Error, MissingHelper, ...) and the file's extension. */
  diagnostics: Record<string, number>;
  /** Which extraction helpers were found (without pdftotext, PDFs are not indexed for text). */
  helpers: Record<string, boolean>;
  stderrTail: string;
  /** Every indexing run (--runs); the fields above describe the median one. */
  runs: { wallS: number; cpuS: number | null; peakTreeBytes: number | null; exitCode: number | null }[];
  cli: { reps: number; overallMedianMs: number; queries: { id: string; q: string; medianMs: number; minMs: number; maxMs: number; count: number | null; failures: number }[] } | null;
}

function parseKv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of text.split('\n')) {
    const m = /^\s*(\w+)\s*=\s*(.*?)\s*$/.exec(l);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

interface IndexRun {
  conf: string;
  code: number | null;
  timedOut: boolean;
  wallMs: number;
  peak: TreePeak | null;
  stderr: string;
  diags: string;
}

async function indexOnce(corpus: string, conf: string, diags: string, timeoutMs: number, extraConf: string): Promise<IndexRun> {
  fs.mkdirSync(conf, { recursive: true });
  // noaspell: the spelling dictionary is an extra pass Owlet has no equivalent of (and it fails
  // without aspell language data anyway). Everything else keeps recoll's defaults.
  fs.writeFileSync(path.join(conf, 'recoll.conf'), `topdirs = ${corpus}\nnoaspell = 1\nloglevel = 2\n${extraConf}`);
  const r = await run('recollindex', ['-c', conf, '-z', '--diagsfile', diags], { env: recollEnv(), timeoutMs, sampleMemory: true, maxOutput: 256 * 1024 });
  return { conf, code: r.code, timedOut: r.timedOut, wallMs: r.wallMs, peak: r.peak, stderr: r.stderr, diags };
}

export async function runRecoll(
  corpus: string,
  corpusBytes: number,
  corpusFiles: number,
  workDir: string,
  queries: readonly BenchQuery[],
  cliReps: number,
  timeoutMs: number,
  runs = 1,
  beforeEachRun: () => void = () => {},
  variant: RecollVariant = RECOLL_VARIANTS[0]!,
): Promise<RecollResult> {
  const tag = variant.name.replace(/[^a-z0-9]+/gi, '-');
  // Several runs (--runs): the one with the median wall time is reported, the others are listed.
  const all: IndexRun[] = [];
  for (let i = 0; i < runs; i++) {
    beforeEachRun();
    all.push(await indexOnce(corpus, path.join(workDir, `recoll-conf-${tag}-${i}`), path.join(workDir, `recoll-diags-${tag}-${i}.txt`), timeoutMs, variant.conf));
    if (all[i]!.code !== 0) break;
  }
  const sorted = [...all].sort((a, b) => a.wallMs - b.wallMs);
  const r = all.some((x) => x.code !== 0) ? all[all.length - 1]! : sorted[Math.floor((sorted.length - 1) / 2)]!;
  const conf = r.conf;
  const diags = r.diags;
  const env = recollEnv();
  const wallS = r.wallMs / 1000;
  const xapian = path.join(conf, 'xapiandb');
  const indexBytes = diskBytes(xapian);
  let status: Record<string, string> = {};
  try {
    status = parseKv(fs.readFileSync(path.join(conf, 'idxstatus.txt'), 'utf8'));
  } catch {
    /* none */
  }
  let missingHelpers: string[] = [];
  try {
    missingHelpers = fs.readFileSync(path.join(conf, 'missing'), 'utf8').split('\n').map((s) => s.trim()).filter(Boolean);
  } catch {
    /* none missing */
  }
  const diagnostics: Record<string, number> = {};
  try {
    for (const l of fs.readFileSync(diags, 'utf8').split('\n')) {
      const m = /^(\S+)\s+(.*?)\s*\|/.exec(l);
      if (!m) continue;
      const key = `${m[1]} .${path.extname(m[2]!).slice(1).toLowerCase()}`;
      diagnostics[key] = (diagnostics[key] ?? 0) + 1;
    }
  } catch {
    /* no diagnostics */
  }
  const helpers: Record<string, boolean> = {};
  for (const h of ['pdftotext', 'python3', 'xsltproc', 'untex']) helpers[h] = which(h, env.PATH) !== null;

  let version: string | null = null;
  let cli: RecollResult['cli'] = null;
  if (r.code === 0) {
    const v = await run('recollq', ['-c', conf, '-Q', 'x'], { env, timeoutMs: 30_000 });
    version = /Recoll\s+(\S+)\s*\+\s*Xapian\s+(\S+)/.exec(v.stderr + v.stdout)?.slice(1, 3).join(' / Xapian ') ?? null;
    const allMs: number[] = [];
    const qs: NonNullable<RecollResult['cli']>['queries'] = [];
    for (const bq of queries) {
      // -n 10 -A: first 10 results with their abstracts (recoll's snippets), like `owlet search --limit 10`.
      const args = ['-c', conf, '-n', String(LIMIT), '-A', bq.recoll];
      await run('recollq', args, { env, timeoutMs: 30_000 }); // warm the page cache
      const ms: number[] = [];
      let count: number | null = null;
      let failures = 0;
      for (let i = 0; i < cliReps; i++) {
        const q = await run('recollq', args, { env, timeoutMs: 30_000 });
        if (q.code !== 0) {
          failures++;
          continue;
        }
        ms.push(q.wallMs);
        const m = /^(\d+) results/m.exec(q.stdout);
        count = m ? Number(m[1]) : count;
      }
      allMs.push(...ms);
      const s = summarize(ms);
      qs.push({ id: bq.id, q: bq.recoll, medianMs: s.p50, minMs: s.min, maxMs: s.max, count, failures });
    }
    cli = { reps: cliReps, overallMedianMs: round(median(allMs), 1), queries: qs };
  }
  return {
    variant: variant.name,
    conf,
    version,
    ok: r.code === 0,
    exitCode: r.code,
    timedOut: r.timedOut,
    wallS: round(wallS, 2),
    filesPerS: round(corpusFiles / wallS, 1),
    mbPerS: round(corpusBytes / 1048576 / wallS, 2),
    peak: r.peak,
    indexBytes,
    indexFraction: round(indexBytes / corpusBytes, 4),
    status,
    missingHelpers,
    diagnostics,
    helpers,
    stderrTail: r.stderr.slice(-2000),
    cli,
    runs: all.map((x) => ({ wallS: round(x.wallMs / 1000, 2), cpuS: x.peak?.cpuS ?? null, peakTreeBytes: x.peak?.peakTreeBytes ?? null, exitCode: x.code })),
  };
}
