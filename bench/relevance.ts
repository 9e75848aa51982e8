/**
 * `npm run bench:relevance`: ranking quality of Owlet and Recoll on the same judged query set
 * (bench/relevance-queries.ts) over the small generated corpus.
 *
 *   node --import tsx bench/relevance.ts [--corpus DIR] [--cache DIR] [--no-recoll] [--json FILE]
 *                                        [--reuse DIR] [--keep] [--per-query]
 *
 * `--reuse DIR` keeps both indexes in DIR and, on later runs, searches them instead of indexing
 * again (ranking changes need no new index; delete DIR after a change to what is indexed).
 * `--per-query` prints each query's reciprocal rank for Owlet (tuned) and Recoll, both halves.
 *
 * Reports MRR@10 and nDCG@10 (binary relevance) for both, the recall@100 of the stemmed queries,
 * search latency with snippets in-process (p50/p99 over the set), the index size and what the
 * stems column costs (the same index rebuilt without stems). Owlet's BM25 column weights are tuned
 * on one half of the queries (even positions) and every figure is reported on the other half.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { fileBytes, makeTmp, rmrf, walkFiles } from './lib/fsutil.js';
import { killAllStarted, run } from './lib/proc.js';
import { round, summarize } from './lib/stats.js';
import { indexCorpus, REPO } from './owlet.js';
import { recollEnv, recollInstalled } from './recoll.js';
import { JUDGED, judgingKey, type JudgedQuery } from './relevance-queries.js';
import { openIndex } from '../src/indexer/service/context.js';
import { parseQuery } from '../src/indexer/search/query.js';
import { DEFAULT_WEIGHTS, type RankWeights } from '../src/indexer/search/search.js';
import { rebuildFts } from '../src/indexer/store/fts-rebuild.js';

const log = (m: string): void => console.error(`[relevance] ${m}`);

type Ranking = (q: JudgedQuery, depth: number) => Promise<string[]> | string[];

interface Scores {
  mrr10: number;
  ndcg10: number;
  /** Stemmed queries only. */
  recall100Stemmed: number;
  perQuery: { id: string; kind: string; rr: number; ndcg: number; recall100: number }[];
}

function ndcgAt(keys: string[], relevant: Set<string>, k: number): number {
  let dcg = 0;
  const seen = new Set<string>();
  keys.slice(0, k).forEach((key, i) => {
    if (relevant.has(key) && !seen.has(key)) {
      seen.add(key);
      dcg += 1 / Math.log2(i + 2);
    }
  });
  let ideal = 0;
  for (let i = 0; i < Math.min(k, relevant.size); i++) ideal += 1 / Math.log2(i + 2);
  return ideal === 0 ? 0 : dcg / ideal;
}

async function score(queries: readonly JudgedQuery[], rank: Ranking, corpus: string): Promise<Scores> {
  const perQuery: Scores['perQuery'] = [];
  for (const q of queries) {
    const keys = (await rank(q, 100)).map((p) => judgingKey(path.relative(corpus, p)));
    const relevant = new Set(q.relevant);
    const first = keys.slice(0, 10).findIndex((k) => relevant.has(k));
    const found = new Set(keys.filter((k) => relevant.has(k)));
    perQuery.push({ id: q.id, kind: q.kind, rr: first < 0 ? 0 : 1 / (first + 1), ndcg: ndcgAt(keys, relevant, 10), recall100: found.size / relevant.size });
  }
  const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  return {
    mrr10: round(mean(perQuery.map((p) => p.rr)), 3),
    ndcg10: round(mean(perQuery.map((p) => p.ndcg)), 3),
    recall100Stemmed: round(mean(perQuery.filter((p) => p.kind === 'stemmed').map((p) => p.recall100)), 3),
    perQuery,
  };
}

async function recollRanking(corpus: string, work: string, reuse: boolean): Promise<{ rank: Ranking; indexBytes: number; wallS: number | null } | null> {
  if (!recollInstalled()) return null;
  const conf = path.join(work, 'recoll');
  const confText = `topdirs = ${corpus}\nnoaspell = 1\nloglevel = 2\n`;
  const confFile = path.join(conf, 'recoll.conf');
  let wallS: number | null = null;
  if (reuse && fs.existsSync(path.join(conf, 'xapiandb')) && fs.existsSync(confFile) && fs.readFileSync(confFile, 'utf8') === confText) {
    log(`reusing the Recoll index in ${conf}`);
  } else {
    rmrf(conf);
    fs.mkdirSync(conf, { recursive: true });
    fs.writeFileSync(confFile, confText);
    log('indexing with recollindex (stemming English, its default)…');
    const r = await run('recollindex', ['-c', conf, '-z'], { env: recollEnv(), timeoutMs: 60 * 60_000, maxOutput: 64 * 1024 });
    if (r.code !== 0) {
      log(`recollindex failed (exit ${r.code}): ${r.stderr.slice(-500)}`);
      rmrf(conf);
      return null;
    }
    wallS = round(r.wallMs / 1000, 1);
  }
  let indexBytes = 0;
  walkFiles(path.join(conf, 'xapiandb'), (_abs, size) => (indexBytes += size));
  const rank: Ranking = async (q, depth) => {
    const out = await run('recollq', ['-c', conf, '-b', '-n', `0-${depth}`, q.recoll ?? q.q], { env: recollEnv(), timeoutMs: 60_000, maxOutput: 4 * 1024 * 1024 });
    return out.stdout
      .split('\n')
      .filter((l) => l.startsWith('file://'))
      .map((l) => decodeURI(l.slice('file://'.length).trim()));
  };
  return { rank, indexBytes, wallS };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      corpus: { type: 'string' },
      cache: { type: 'string', default: path.join(os.homedir(), '.cache', 'owlet-bench') },
      'no-recoll': { type: 'boolean', default: false },
      json: { type: 'string' },
      keep: { type: 'boolean', default: false },
      reuse: { type: 'string' },
      'per-query': { type: 'boolean', default: false },
    },
  });
  const corpus = fs.realpathSync(values.corpus ?? path.join(values.cache!, 'corpus-small'));
  if (!fs.existsSync(corpus)) throw new Error(`no corpus at ${corpus}: run "npm run bench" once (it builds it) or pass --corpus DIR`);
  const missing = JUDGED.flatMap((q) => q.relevant).filter((k) => !['.html', '.pdf', '.md', '.txt'].some((e) => fs.existsSync(path.join(corpus, k + e))));
  if (missing.length) throw new Error(`the corpus lacks judged documents (not the small generated corpus?): ${missing.slice(0, 5).join(', ')}`);
  const tune = JUDGED.filter((_, i) => i % 2 === 0);
  const test = JUDGED.filter((_, i) => i % 2 === 1);
  const loadStart = os.loadavg();
  const reuse = values.reuse !== undefined;
  const work = reuse ? path.resolve(values.reuse!) : makeTmp('owlet-relevance-');
  fs.mkdirSync(work, { recursive: true });
  try {
    let bytes = 0;
    let files = 0;
    walkFiles(corpus, (_a, s) => {
      bytes += s;
      files++;
    });
    const data = path.join(work, 'owlet');
    const db = path.join(data, 'index.db');
    let idx: { indexBytes: number; walBytes: number; wallS: number | null };
    if (reuse && fs.existsSync(path.join(data, 'done'))) {
      log(`reusing the Owlet index in ${data}`);
      idx = { indexBytes: fileBytes(db), walBytes: fileBytes(db + '-wal'), wallS: null };
    } else {
      rmrf(data);
      log(`indexing ${files} files with owlet index…`);
      const r = await indexCorpus(corpus, bytes, files, data, 60 * 60_000);
      if (!r.ok) throw new Error(`owlet index failed: ${r.stderrTail}`);
      idx = r;
      // Marks a finished index: an interrupted run leaves none, and the next one indexes again.
      fs.writeFileSync(path.join(data, 'done'), new Date().toISOString());
    }
    const ctx = openIndex(data, { readonly: true });
    const languages = ctx.config.search.languages;
    const owletRank = (weights: RankWeights): Ranking => (q, depth) => {
      ctx.search.setWeights(weights);
      return ctx.search.search(parseQuery(q.q, { languages }), { limit: depth, offset: 0 }).hits.map((h) => h.path);
    };
    // Tuning: title, stems and name weights on the tuning half, by nDCG@10 then MRR@10.
    let best = { weights: DEFAULT_WEIGHTS, s: await score(tune, owletRank(DEFAULT_WEIGHTS), corpus) };
    for (const title of [1, 2, 5, 10, 20]) {
      for (const stems of [0.1, 0.25, 0.5, 1]) {
        for (const name of [0, 2, 5, 10, 20, 40]) {
          const weights = { title, body: 1, stems, name };
          const s = await score(tune, owletRank(weights), corpus);
          if (s.ndcg10 > best.s.ndcg10 || (s.ndcg10 === best.s.ndcg10 && s.mrr10 > best.s.mrr10)) best = { weights, s };
        }
      }
    }
    log(`tuned weights: ${JSON.stringify(best.weights)} (tuning half nDCG@10 ${best.s.ndcg10})`);
    const owletTest = await score(test, owletRank(best.weights), corpus);
    const owletDefault = await score(test, owletRank(DEFAULT_WEIGHTS), corpus);
    // What the name signal brings: the tuned weights without it.
    const owletNoName = await score(test, owletRank({ ...best.weights, name: 0 }), corpus);
    // Latency with snippets, in-process, the tuned weights, page of 10; beside it, interleaved so
    // both see the same machine load, the same search without the name signal (BM25 alone).
    const ms: number[] = [];
    const msBm25: number[] = [];
    const bm25Only = { ...best.weights, name: 0 };
    for (let rep = 0; rep < 20; rep++) {
      for (const q of JUDGED) {
        for (const [weights, into] of rep % 2 ? ([[best.weights, ms], [bm25Only, msBm25]] as const) : ([[bm25Only, msBm25], [best.weights, ms]] as const)) {
          ctx.search.setWeights(weights);
          const t0 = performance.now();
          ctx.search.search(parseQuery(q.q, { languages }), { limit: 10, offset: 0 }, q.q);
          into.push(performance.now() - t0);
        }
      }
    }
    ctx.close();
    // What the stems column costs: the same index, rebuilt without stems, both vacuumed.
    const bare = path.join(work, 'bare');
    rmrf(bare);
    fs.cpSync(data, bare, { recursive: true });
    const wctx = openIndex(bare);
    const fullBytes = (() => {
      wctx.db.exec('VACUUM');
      return fileBytes(path.join(bare, 'index.db'));
    })();
    rebuildFts(wctx.db, { languages: [] });
    wctx.db.exec('VACUUM');
    wctx.close();
    const bareBytes = fileBytes(path.join(bare, 'index.db'));

    rmrf(bare);

    const rec = values['no-recoll'] ? null : await recollRanking(corpus, work, reuse);
    const recollTest = rec ? await score(test, rec.rank, corpus) : null;
    const report = {
      corpus: { dir: corpus, files, mb: round(bytes / 1048576, 1) },
      queries: { total: JUDGED.length, tuning: tune.length, reported: test.length },
      tunedWeights: best.weights,
      owlet: { tuned: owletTest, defaultWeights: owletDefault, withoutNameSignal: owletNoName, indexBytes: idx.indexBytes + idx.walBytes, indexWallS: idx.wallS },
      recoll: rec && recollTest ? { ...recollTest, indexBytes: rec.indexBytes, indexWallS: rec.wallS } : null,
      stemsColumn: { indexBytesWithStems: fullBytes, indexBytesWithout: bareBytes, costFraction: round(fullBytes / bareBytes - 1, 3) },
      searchMsWithSnippets: summarize(ms),
      searchMsWithSnippetsBm25Only: summarize(msBm25),
      env: { cpus: os.cpus().length, loadavgStart: loadStart.map((x) => round(x, 2)), loadavgEnd: os.loadavg().map((x) => round(x, 2)) },
    };
    if (values['per-query']) {
      const owletTune = best.s;
      const recTune = rec ? await score(tune, rec.rank, corpus) : null;
      const rows = (half: string, o: Scores, r: Scores | null): string[] =>
        o.perQuery.map((p, i) => `  ${half.padEnd(8)} ${p.kind.padEnd(8)} ${p.id.padEnd(22)} owlet rr ${p.rr.toFixed(2)} ndcg ${p.ndcg.toFixed(2)}   recoll ${r ? `rr ${r.perQuery[i]!.rr.toFixed(2)} ndcg ${r.perQuery[i]!.ndcg.toFixed(2)}` : '-'}`);
      console.log(['Per query (tuned weights):', ...rows('tuning', owletTune, recTune), ...rows('reported', owletTest, recollTest)].join('\n'));
    }

    console.log(`
Relevance on the reported half (${test.length} of ${JUDGED.length} judged queries), small corpus (${files} files)
                       MRR@10   nDCG@10   recall@100 (stemmed)
  Owlet (tuned)        ${owletTest.mrr10.toFixed(3)}    ${owletTest.ndcg10.toFixed(3)}     ${owletTest.recall100Stemmed.toFixed(3)}
  Owlet (defaults)     ${owletDefault.mrr10.toFixed(3)}    ${owletDefault.ndcg10.toFixed(3)}     ${owletDefault.recall100Stemmed.toFixed(3)}
  Owlet (no name sig.) ${owletNoName.mrr10.toFixed(3)}    ${owletNoName.ndcg10.toFixed(3)}     ${owletNoName.recall100Stemmed.toFixed(3)}
  Recoll               ${recollTest ? `${recollTest.mrr10.toFixed(3)}    ${recollTest.ndcg10.toFixed(3)}     ${recollTest.recall100Stemmed.toFixed(3)}` : 'not run (not installed or --no-recoll)'}
Tuned weights (title, body, stems, name): ${best.weights.title}, ${best.weights.body}, ${best.weights.stems}, ${best.weights.name}
Index: ${round(report.owlet.indexBytes / 1048576, 1)} MB${rec ? ` vs Recoll ${round(rec.indexBytes / 1048576, 1)} MB (ratio ${round(report.owlet.indexBytes / rec.indexBytes, 2)})` : ''}; stems column costs ${round(report.stemsColumn.costFraction * 100, 1)} % (${round(fullBytes / 1048576, 1)} MB vs ${round(bareBytes / 1048576, 1)} MB without stems, both vacuumed)
Search with snippets, in-process: p50 ${round(report.searchMsWithSnippets.p50, 2)} ms, p99 ${round(report.searchMsWithSnippets.p99, 2)} ms (${ms.length} searches); without the name signal, interleaved: p50 ${round(report.searchMsWithSnippetsBm25Only.p50, 2)} ms, p99 ${round(report.searchMsWithSnippetsBm25Only.p99, 2)} ms
Load average (1 min) at start ${report.env.loadavgStart[0]}, at end ${report.env.loadavgEnd[0]} on ${report.env.cpus} CPUs${Math.max(report.env.loadavgStart[0]!, report.env.loadavgEnd[0]!) > report.env.cpus * 0.25 ? ' (other work was running: the timings are noisy, the relevance figures are not affected)' : ''}`);
    const out = values.json ?? path.join(REPO, 'bench', 'results', `${new Date().toISOString().replace(/[:.]/g, '-')}-relevance.json`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify(report, null, 2));
    log(`report written to ${out}`);
  } finally {
    killAllStarted();
    if (!values.keep && !reuse) rmrf(work);
    else log(`kept ${work}`); // --reuse keeps it too, silently
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack ?? e.message : String(e));
  process.exitCode = 1;
});
