/** The printed summary: a compact table, the ratios and the targets. */
import type { BaselineResult } from './baseline.js';
import type { CliLatency, LatencyResult, LiveResult, OwletIndexResult, ServeLatencyResult } from './owlet.js';
import type { RecollResult } from './recoll.js';
import { formatCliStartup, type CliStartupResult } from './cli-startup.js';
import { formatMemory, type MemoryProfile } from './memory.js';
import type { DbBreakdown } from './lib/dbstat.js';
import type { TreePeak } from './lib/proc.js';
import { mb, ratio, type Summary } from './lib/stats.js';

export interface Target {
  name: string;
  target: string;
  value: string;
  pass: boolean | null;
  note?: string;
}

export interface BenchReport {
  corpus: { name: string; dir: string; files: number; bytes: number; byExt: Record<string, { files: number; bytes: number }> };
  env: Record<string, unknown>;
  owlet: {
    index: OwletIndexResult;
    /** Every indexing run (--runs); `index` is the median one. */
    indexRuns: { wallS: number; cpuS: number | null; peakTreeBytes: number | null; exitCode: number | null }[];
    workers: number | null;
    search: { inProcess: LatencyResult | null; http: LatencyResult | null; serve: ServeLatencyResult | { error: string } | null; cli: CliLatency | null };
    live: LiveResult | { skipped: string } | null;
    /** `node -e 0` vs `owlet --version | --help | status | search`, with and without a service (issue #14). */
    cliStartup: CliStartupResult | null;
    /** Peak and idle RSS of `owlet serve`'s process tree, per process. */
    memory: MemoryProfile | { skipped: string } | null;
  };
  baseline: BaselineResult | { skipped: string } | { error: string };
  /** The faster of the Recoll configurations run (recollVariants): the one Owlet is compared against. */
  recoll: RecollResult | { skipped: string } | { error: string };
  recollVariants?: { variant: string; ok: boolean; wallS: number | null; peakTreeBytes: number | null; cliMedianMs: number | null; error?: string }[];
  ratios: Record<string, number | null>;
  targets: Target[];
}

const isObj = <T extends object>(x: unknown, key: string): x is T => typeof x === 'object' && x !== null && key in x;

export function asRecoll(r: BenchReport['recoll']): RecollResult | null {
  return isObj<RecollResult>(r, 'wallS') && r.ok ? r : null;
}
export function asBaseline(b: BenchReport['baseline']): BaselineResult | null {
  return isObj<BaselineResult>(b, 'insertS') ? b : null;
}
export function asServe(s: BenchReport['owlet']['search']['serve']): ServeLatencyResult | null {
  return isObj<ServeLatencyResult>(s, 'overall') ? s : null;
}
export function asLive(l: BenchReport['owlet']['live']): LiveResult | null {
  return isObj<LiveResult>(l, 'trials') ? l : null;
}

/** Ratios of ours to theirs (and to the FTS5 baseline). */
export function computeRatios(r: Omit<BenchReport, 'ratios' | 'targets'>): Record<string, number | null> {
  const o = r.owlet.index;
  const rc = asRecoll(r.recoll);
  const b = asBaseline(r.baseline);
  const ip = r.owlet.search.inProcess;
  return {
    // Three decimals: a pass/fail decided on a rounded 2.00 would be wrong for 1.996.
    throughputVsRecoll: rc ? ratio(rc.wallS, o.wallS, 3) : null,
    peakRssVsRecoll: rc?.peak && o.peak ? ratio(o.peak.peakTreeBytes, rc.peak.peakTreeBytes) : null,
    indexSizeVsRecoll: rc ? ratio(o.indexBytes + o.walBytes, rc.indexBytes, 3) : null,
    cliMedianVsRecollq: rc?.cli && r.owlet.search.cli ? ratio(r.owlet.search.cli.overallMedianMs, rc.cli.overallMedianMs, 3) : null,
    indexSizeVsFts5Baseline: b ? ratio(o.indexBytes + o.walBytes, b.dbBytes) : null,
    indexWallVsFts5BaselineInsert: b ? ratio(o.wallS, b.insertS) : null,
    searchP50VsFts5Snippet: b && ip ? ratio(ip.overall.p50, b.overallSnippet.p50) : null,
    searchP99VsFts5Snippet: b && ip ? ratio(ip.overall.p99, b.overallSnippet.p99) : null,
    searchP50VsFts5Plain: b && ip ? ratio(ip.overall.p50, b.overallPlain.p50) : null,
  };
}

export function computeTargets(r: Omit<BenchReport, 'targets'>, isFull: boolean): Target[] {
  const o = r.owlet.index;
  const rc = asRecoll(r.recoll);
  const t: Target[] = [];
  const scope = isFull ? undefined : 'target is for the full corpus; this run is not';
  const x = (v: number | null) => (v === null ? 'n/a' : `${v}×`);
  t.push({
    name: `indexing throughput vs Recoll${rc ? ` (${rc.variant}, the faster)` : ''}`,
    target: '≥ 2×',
    value: x(r.ratios.throughputVsRecoll ?? null),
    pass: r.ratios.throughputVsRecoll == null ? null : r.ratios.throughputVsRecoll >= 2,
    note: rc ? scope : 'recoll not measured',
  });
  t.push({
    name: 'indexing peak RSS (process tree)',
    target: '< 300 MB',
    value: o.peak ? `${mb(o.peak.peakTreeBytes)} MB` : 'n/a',
    pass: o.peak ? o.peak.peakTreeBytes < 300 * 1048576 : null,
    note: scope,
  });
  t.push({
    name: 'index size vs Recoll',
    target: '≤ 0.5×',
    value: x(r.ratios.indexSizeVsRecoll ?? null),
    pass: r.ratios.indexSizeVsRecoll == null ? null : r.ratios.indexSizeVsRecoll <= 0.5,
    note: rc ? scope : 'recoll not measured',
  });
  const ip = r.owlet.search.inProcess;
  t.push({ name: 'search p99 in-process (snippets)', target: '< 10 ms', value: ip ? `${ip.overall.p99} ms` : 'n/a', pass: ip ? ip.overall.p99 < 10 : null });
  const h = r.owlet.search.http;
  t.push({ name: 'search p99 over HTTP (in-process server)', target: '< 20 ms', value: h ? `${h.overall.p99} ms` : 'n/a', pass: h ? h.overall.p99 < 20 : null });
  const s = asServe(r.owlet.search.serve);
  if (s) t.push({ name: 'search p99 over HTTP (owlet serve process)', target: '< 20 ms', value: `${s.overall.p99} ms`, pass: s.overall.p99 < 20 });
  const c = r.owlet.search.cli;
  t.push({
    name: '`owlet search` median vs `recollq` median',
    target: '≤ 1×',
    value: rc?.cli && c ? `${c.overallMedianMs} ms vs ${rc.cli.overallMedianMs} ms (${x(r.ratios.cliMedianVsRecollq ?? null)})` : c ? `${c.overallMedianMs} ms` : 'n/a',
    pass: r.ratios.cliMedianVsRecollq == null ? null : r.ratios.cliMedianVsRecollq <= 1,
    note: rc ? undefined : 'recoll not measured',
  });
  const cs = r.owlet.cliStartup;
  if (cs) {
    for (const row of cs.rows.filter((x) => !x.name.startsWith('compare: ') && x.name.startsWith('owlet '))) {
      t.push({ name: `\`${row.name.split(' ').slice(0, 2).join(' ')}\`${row.service === 'n/a' ? '' : ` (service ${row.service})`} vs node -e 0`, target: '≤ 2×', value: row.ratio === null ? 'n/a' : `${row.ratio}× (${row.medianMs} ms)`, pass: row.ratio === null ? null : row.ratio <= 2 });
    }
  }
  const mem = isObj<MemoryProfile>(r.owlet.memory, 'peakTreeMb') && r.owlet.memory.ok ? r.owlet.memory : null;
  if (mem) {
    t.push({ name: 'owlet serve: peak RSS of the tree indexing', target: '< 300 MB', value: `${mem.peakTreeMb} MB`, pass: mem.peakTreeMb < 300, note: scope });
    t.push({ name: `owlet serve: tree RSS ${mem.idleAfterS} s after indexing`, target: '< 100 MB', value: `${mem.idleTreeMb} MB`, pass: mem.idleTreeMb === null ? null : mem.idleTreeMb < 100, note: mem.idleAfterS < 60 ? 'the target is for 60 s' : undefined });
  }
  const l = asLive(r.owlet.live);
  t.push({
    name: 'change on disk visible in search',
    target: '≤ 2000 ms',
    value: l ? `max ${fmt(l.overall.max)} ms, p50 ${fmt(l.overall.p50)} ms, ${l.overall.timeouts} timeouts` : 'n/a',
    pass: l ? l.allWithinTarget : null,
  });
  return t;
}

function describeDb(d: DbBreakdown): string {
  const parts = d.objects.slice(0, 3).map((x) => {
    const waste = x.overflowUnused > x.bytes * 0.1 ? ` incl. ${mb(x.overflowUnused)} MB unused in overflow pages` : '';
    return `${x.name} ${mb(x.bytes)} MB${waste}`;
  });
  const rest = d.objects.slice(3).reduce((a, x) => a + x.bytes, 0);
  if (rest) parts.push(`others ${mb(rest)} MB`);
  if (d.freelistPages) parts.push(`free ${mb(d.freelistPages * d.pageSize)} MB`);
  return parts.join(', ') + ` (${d.pageSize} B pages)`;
}

const fmt = (n: number | null | undefined, d = 1): string => (n == null || !Number.isFinite(n) ? '—' : n.toFixed(d));
const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number) => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? pad(c, widths[i]!) : lpad(c, widths[i]!))).join('  ');
}

function latRow(label: string, s: Summary | null | undefined, widths: number[]): string {
  return row([label, fmt(s?.p50, 3), fmt(s?.p95, 3), fmt(s?.p99, 3), fmt(s?.max, 3)], widths);
}

export function printReport(r: BenchReport, out: (s: string) => void): void {
  const c = r.corpus;
  const o = r.owlet.index;
  const rc = asRecoll(r.recoll);
  const b = asBaseline(r.baseline);
  out('');
  out(`Owlet benchmark — corpus "${c.name}": ${c.files} files, ${mb(c.bytes)} MB (${c.dir})`);
  out(
    `  ${Object.entries(c.byExt)
      .sort((a, b2) => b2[1].files - a[1].files)
      .slice(0, 10)
      .map(([e, v]) => `${v.files} ${e || '(none)'}`)
      .join(', ')}`,
  );
  out(`  ${String(r.env.node)}, ${String(r.env.cpus)} CPUs, ${String(r.env.memGb)} GB RAM, SQLite ${String(r.env.sqlite ?? '?')}${rc?.version ? `, Recoll ${rc.version}` : ''}`);
  const la = (x: unknown) => (Array.isArray(x) ? x.map((v) => Number(v).toFixed(2)).join(' ') : '?');
  const busy = [r.env.loadavgStart, r.env.loadavgEnd].some((x) => Array.isArray(x) && Number(x[0]) > Number(r.env.cpus) * 0.25);
  out(`  load average at start ${la(r.env.loadavgStart)}, at end ${la(r.env.loadavgEnd)}${busy ? '  — WARNING: other work was running; figures are noisy' : ''}`);
  if (r.owlet.indexRuns.length > 1)
    out(`  ${r.owlet.indexRuns.length} indexing runs, median shown; owlet walls ${r.owlet.indexRuns.map((x) => x.wallS).join(', ')} s${rc ? `; recoll walls ${rc.runs.map((x) => x.wallS).join(', ')} s` : ''}`);
  out('');
  const w1 = [28, 7, 7, 8, 6, 21, 8, 8];
  out(row(['Indexing', 'wall s', 'CPU s', 'files/s', 'MB/s', 'peak RSS tree/main MB', 'index MB', 'idx/corp'], w1));
  const s = o.summary;
  const rss = (p: TreePeak | null) => (p ? `${mb(p.peakTreeBytes, 0)} / ${mb(p.peakMainBytes, 0)}` : '—');
  out(
    row(
      [`owlet index (${r.owlet.workers ?? '?'} workers)`, fmt(o.wallS, 2), fmt(o.peak?.cpuS), fmt(o.filesPerS), fmt(o.mbPerS, 2), rss(o.peak), fmt(mb(o.indexBytes + o.walBytes)), fmt(o.indexFraction, 3)],
      w1,
    ),
  );
  for (const v of r.recollVariants ?? []) if (!rc || v.variant !== rc.variant) out(row([`recollindex -z (${v.variant})`.slice(0, 28), fmt(v.wallS, 2), '', '', '', v.peakTreeBytes ? `${mb(v.peakTreeBytes, 0)}` : '—', '', ''], w1) + (v.error ? `  error: ${v.error}` : ''));
  if (rc) out(row([`recollindex -z (${rc.variant})`.slice(0, 28), fmt(rc.wallS, 2), fmt(rc.peak?.cpuS), fmt(rc.filesPerS), fmt(rc.mbPerS, 2), rss(rc.peak), fmt(mb(rc.indexBytes)), fmt(rc.indexFraction, 3)], w1));
  else out(`  recoll: ${'skipped' in r.recoll ? r.recoll.skipped : 'error' in r.recoll ? `error: ${r.recoll.error}` : 'failed (see JSON)'}`);
  if (b) out(row(['fts5 baseline (insert only)', fmt(b.insertS, 2), '—', fmt(b.docsPerS), `${fmt(b.textMbPerS, 1)}t`, '—', fmt(mb(b.dbBytes)), fmt(b.indexFraction, 3)], w1));
  else out(`  fts5 baseline: ${'skipped' in r.baseline ? r.baseline.skipped : 'error' in r.baseline ? r.baseline.error : '?'}`);
  if (s)
    out(
      `  owlet: ${s.indexed} indexed, ${s.skipped} skipped, ${s.failed} failed; ${o.peak?.maxProcs ?? '?'} processes at most, ${o.peak?.distinctPids ?? '?'} pids seen` +
        (o.leftoverProcesses ? `, ${o.leftoverProcesses} left running after exit!` : ''),
    );
  else out(`  owlet index FAILED: exit ${o.exitCode}${o.timedOut ? ' (timed out)' : ''}: ${o.stderrTail.slice(-400)}`);
  if (o.problems && o.problems.total)
    out(`  owlet errors: ${Object.entries(o.problems.byStatusReason).map(([k, v]) => `${v} ${k}`).join(', ')} (by extension: ${Object.entries(o.problems.byExt).map(([k, v]) => `${v} ${k ? '.' + k : '(none)'}`).join(', ')})`);
  if (rc)
    out(
      `  recoll: ${rc.status.docsdone ?? '?'} docs, ${rc.status.fileerrors ?? '?'} file errors` +
        (rc.missingHelpers.length ? `; missing helpers: ${rc.missingHelpers.join('; ')}` : '') +
        (!rc.helpers.pdftotext ? '; pdftotext NOT installed: recoll skips PDF text' : ''),
    );
  if (rc && Object.keys(rc.diagnostics).length) out(`  recoll diagnostics: ${Object.entries(rc.diagnostics).map(([k, v]) => `${v} ${k}`).join(', ')}`);
  if (o.peak) out(`  owlet peak RSS of one worker ${mb(o.peak.peakChildBytes, 0)} MB${rc?.peak ? `; recoll's largest helper ${mb(rc.peak.peakChildBytes, 0)} MB` : ''}`);
  if (o.dbstat) out(`  owlet index.db: ${describeDb(o.dbstat)}`);
  if (b) out(`  fts5 baseline: ${b.docs} docs, ${mb(b.textBytes)} MB of extracted text (its MB/s column is text, not input)${b.dbstat ? `; ${describeDb(b.dbstat)}` : ''}`);
  out('');

  const w2 = [44, 8, 8, 8, 8];
  out(row([`Search latency ms (limit 10, ${r.owlet.search.inProcess?.reps ?? '?'} reps/query)`, 'p50', 'p95', 'p99', 'max'], w2));
  out(latRow('owlet in-process (snippets)', r.owlet.search.inProcess?.overall, w2));
  out(latRow('owlet HTTP, in-process Fastify + fetch', r.owlet.search.http?.overall, w2));
  const sv = asServe(r.owlet.search.serve);
  if (sv) out(latRow('owlet HTTP, `owlet serve` process', sv.overall, w2));
  else if (r.owlet.search.serve && 'error' in r.owlet.search.serve) out(`  owlet serve: error: ${r.owlet.search.serve.error}`);
  if (b) {
    out(latRow('fts5 baseline, no snippet', b.overallPlain, w2));
    out(latRow('fts5 baseline, snippet()', b.overallSnippet, w2));
  }
  out('');
  const w3 = [8, 24, 17, 17, 17, 22];
  out(row(['query', '', 'in-proc p50/p99', 'HTTP p50/p99', 'fts5+snip p50/p99', 'hits owlet/fts5/recoll'], w3));
  for (const q of r.owlet.search.inProcess?.queries ?? []) {
    const h = r.owlet.search.http?.queries.find((x) => x.id === q.id);
    const bq = b?.queries.find((x) => x.id === q.id);
    const rq = rc?.cli?.queries.find((x) => x.id === q.id);
    out(
      row(
        [
          q.id,
          q.q,
          `${fmt(q.ms.p50, 2)}/${fmt(q.ms.p99, 2)}`,
          `${fmt(h?.ms.p50, 2)}/${fmt(h?.ms.p99, 2)}`,
          bq ? `${fmt(bq.snippet.p50, 2)}/${fmt(bq.snippet.p99, 2)}` : '—',
          `${q.total}/${bq?.count ?? '—'}/${rq?.count ?? '—'}`,
        ],
        w3,
      ) +
        (q.hits > 0 && q.marked < q.hits ? `  (${q.hits - q.marked} snippets without <mark>)` : '') +
        (bq && bq.snippet.n < q.ms.n ? `  (fts5 snippet(): ${bq.snippet.n} runs, time-capped)` : ''),
    );
  }
  out('');
  const cli = r.owlet.search.cli;
  if (cli) {
    out(`CLI end to end, median of ${cli.reps} runs, process start included (node -e 0: ${fmt(cli.nodeStartMedianMs)} ms)`);
    out(`  owlet search: ${fmt(cli.overallMedianMs)} ms${rc?.cli ? `   recollq -n 10 -A: ${fmt(rc.cli.overallMedianMs)} ms` : ''}`);
    out(
      '  ' +
        cli.queries
          .map((q) => {
            const rq = rc?.cli?.queries.find((x) => x.id === q.id);
            return `${q.id} ${fmt(q.medianMs, 0)}${rq ? `/${fmt(rq.medianMs, 0)}` : ''}${q.failures ? ` (${q.failures} failed)` : ''}`;
          })
          .join(', ') + (rc?.cli ? '  (owlet/recollq ms)' : ''),
    );
    out('');
  }
  if (r.owlet.cliStartup) {
    for (const line of formatCliStartup(r.owlet.cliStartup)) out(line);
    out('');
  }
  if (r.owlet.memory) {
    if ('skipped' in r.owlet.memory) out(`Memory: ${r.owlet.memory.skipped}`);
    else for (const line of formatMemory(r.owlet.memory)) out(line);
    out('');
  }
  const l = asLive(r.owlet.live);
  if (l) {
    out(`Live updates: owlet serve on a ${l.copiedFiles}-file copy (first pass ${fmt(l.initialIndexMs / 1000, 1)} s); change → visible in search, ms`);
    if (l.error) out(`  ERROR: ${l.error}`);
    for (const [k, v] of Object.entries(l.byKind)) out(`  ${pad(k, 7)} n=${v.n}  p50 ${fmt(v.p50)}  max ${fmt(v.max)}${v.timeouts ? `  ${v.timeouts} not seen within 15 s` : ''}`);
    out(`  stopped by SIGTERM in ${fmt(l.stopMs)} ms, exit ${l.exitCode}`);
    out('');
  } else if (r.owlet.live && 'skipped' in r.owlet.live) out(`Live updates: ${r.owlet.live.skipped}\n`);

  out('Ratios (ours / theirs)');
  const rr = r.ratios;
  const x = (v: number | null | undefined) => (v == null ? 'n/a' : `${v}×`);
  if (rc)
    out(
      `  vs Recoll:  throughput ${x(rr.throughputVsRecoll)} (higher is better), peak RSS ${x(rr.peakRssVsRecoll)}, index size ${x(rr.indexSizeVsRecoll)}, CLI search median ${x(rr.cliMedianVsRecollq)}`,
    );
  else out('  vs Recoll:  n/a (recoll not measured)');
  if (b)
    out(
      `  vs FTS5:    index size ${x(rr.indexSizeVsFts5Baseline)}, whole indexing wall / baseline insert ${x(rr.indexWallVsFts5BaselineInsert)}, search p50 ${x(rr.searchP50VsFts5Snippet)} and p99 ${x(rr.searchP99VsFts5Snippet)} of FTS5+snippet()`,
    );
  out('');
  out('Targets');
  for (const t of r.targets) {
    const mark = t.pass === null ? ' n/a ' : t.pass ? ' PASS' : ' FAIL';
    out(`  [${mark}] ${pad(t.name, 44)} ${pad(t.target, 10)} ${t.value}${t.note ? `  (${t.note})` : ''}`);
  }
}
