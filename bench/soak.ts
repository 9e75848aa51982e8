/**
 * `npm run soak -- [--minutes 30] [--files 1500] [--seed 1]`
 * A real `owlet run` with a steady trickle of file changes and searches. Every minute it samples
 * the tree's resident memory, the service's V8 heap, open descriptors, the WAL, metrics.db and the
 * log folder; at the end it fails on any series that keeps growing instead of levelling off.
 * The JSON summary (format `owlet-soak/1`) is saved in bench/results/ and described in
 * docs/operations/validation.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { saveConfig } from '../src/indexer/config/load.js';
import { defaultConfig } from '../src/indexer/config/schema.js';
import { DEFAULT_LOG_FILES, DEFAULT_LOG_MAX_BYTES } from '../src/indexer/log/rotating-sink.js';
import { writeChaosCorpus, writeDocument, tokenFor } from './lib/doc-corpus.js';
import { killAllStarted } from './lib/proc.js';
import { seeded } from './lib/rng.js';
import { request, settle, startTarget } from './lib/target.js';
import { trend, type Trend } from './lib/trend.js';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '30' }, files: { type: 'string', default: '1500' }, seed: { type: 'string', default: '1' } } });
const minutes = Number(values.minutes);
if (!Number.isFinite(minutes) || minutes < 3) {
  console.error('soak: --minutes must be at least 3 (a trend needs samples)');
  process.exit(2);
}
process.on('SIGINT', () => {
  killAllStarted();
  process.exit(130);
});

const rng = seeded(Number(values.seed));
const work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'owlet-soak-')));
const root = path.join(work, 'docs');
const dataDir = path.join(work, 'data');
fs.mkdirSync(dataDir, { mode: 0o700 });
const corpus = writeChaosCorpus(root, Number(values.files), rng);
const d = defaultConfig();
saveConfig(dataDir, { ...d, roots: [root], resilience: { ...d.resilience, pauseOnBattery: false }, security: { ...d.security, http: { ...d.security.http, rateLimitPerMinute: 100_000 } } });
const target = startTarget({ dataDir });

const dirBytes = (dir: string): number => {
  let n = 0;
  try {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? dirBytes(path.join(dir, e.name)) : fs.statSync(path.join(dir, e.name)).size;
  } catch {
    /* gone */
  }
  return n;
};
const size = (f: string) => {
  try {
    return fs.statSync(f).size;
  } catch {
    return 0;
  }
};
async function heapUsed(): Promise<number> {
  const r = await request(target, '/metrics');
  const m = typeof r.body === 'string' ? /^nodejs_heap_size_used_bytes (\d+(?:\.\d+)?)/m.exec(r.body) : null;
  return m ? Number(m[1]) : NaN;
}

interface Sample {
  minute: number;
  rssMb: number;
  heapMb: number;
  fds: number;
  walMb: number;
  metricsDbMb: number;
  logsMb: number;
  searchErrors: number;
}
const samples: Sample[] = [];
let searchErrors = 0;
let searches = 0;
let changes = 0;
try {
  await target.proc.waitFor(/serving on (http:\S+)/, 60_000);
  console.error(`soak: initial index settled after ${await settle(target, 15 * 60_000)} ms; soaking ${minutes} min`);
  const tokens = [...corpus.good.keys()];
  const trickle = setInterval(() => {
    // One change every 2 s: an edit, a new file, or a deletion of a file this soak made.
    const k = rng.int(0, 2);
    const id = `soak${changes++}`;
    if (k === 0) writeDocument(path.join(root, 'soak'), id, rng, 6);
    else if (k === 1) fs.appendFileSync(corpus.good.get(tokenFor(rng.int(0, 50)))!, ` edited ${id}`);
    else fs.rmSync(path.join(root, 'soak', `doc-soak${rng.int(0, changes)}.txt`), { force: true });
  }, 2000);
  const searcher = setInterval(() => {
    searches++;
    void request(target, `/api/v1/search?q=${encodeURIComponent(rng.pick(tokens))}`).then((r) => {
      if (!r.ok) searchErrors++;
    });
  }, 200);
  const t0 = Date.now();
  for (let m = 1; m <= minutes; m++) {
    await new Promise((r) => setTimeout(r, t0 + m * 60_000 - Date.now()));
    const s = target.sample();
    samples.push({
      minute: m,
      rssMb: s.rss / 1048576,
      heapMb: (await heapUsed()) / 1048576,
      fds: s.fds,
      walMb: size(path.join(dataDir, 'index.db-wal')) / 1048576,
      metricsDbMb: (size(path.join(dataDir, 'metrics.db')) + size(path.join(dataDir, 'metrics.db-wal'))) / 1048576,
      logsMb: dirBytes(path.join(dataDir, 'logs')) / 1048576,
      searchErrors,
    });
    const last = samples[samples.length - 1]!;
    console.error(`soak: min ${m}: rss ${last.rssMb.toFixed(0)} MB, heap ${last.heapMb.toFixed(1)} MB, fds ${last.fds}, wal ${last.walMb.toFixed(1)} MB, metrics.db ${last.metricsDbMb.toFixed(1)} MB, logs ${last.logsMb.toFixed(1)} MB`);
  }
  clearInterval(trickle);
  clearInterval(searcher);
} finally {
  await target.stop();
}

// Logs grow by design until rotation caps them: judge them against the cap, not by their trend.
// Every component (service, supervisor, audit) rotates the same way; allow one set each.
const LOG_CAP_MB = (3 * DEFAULT_LOG_MAX_BYTES * (DEFAULT_LOG_FILES + 1)) / 1048576;
const series: Record<string, Trend> = {};
for (const key of ['rssMb', 'heapMb', 'fds', 'walMb'] as const) series[key] = trend(samples.map((s) => s[key]));
const leaks = Object.entries(series).filter(([, t]) => t.growing).map(([k]) => k);
const logsOk = (samples[samples.length - 1]?.logsMb ?? 0) <= LOG_CAP_MB;
// metrics.db fills towards its designed bound (raw samples kept rawHours, then downsampled: about
// 29,500 rows, under 12 MiB) for a day before it levels off: judge it against that bound, like logs.
const METRICS_CAP_MB = 16;
const metricsOk = Math.max(...samples.map((x) => x.metricsDbMb)) <= METRICS_CAP_MB;
const summary = { format: 'owlet-soak/1', minutes, files: Number(values.files), changes, searches, searchErrors, samples, series, leaks, logsWithinCap: logsOk, metricsDbWithinCap: metricsOk, pass: leaks.length === 0 && logsOk && metricsOk && searchErrors === 0 };
const dir = path.resolve(path.dirname(new URL(import.meta.url).pathname), 'results');
fs.mkdirSync(dir, { recursive: true });
const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-soak.json`);
fs.writeFileSync(file, JSON.stringify(summary, null, 2) + '\n');
fs.rmSync(work, { recursive: true, force: true });
for (const [k, t] of Object.entries(series)) console.log(`${k.padEnd(12)} first ${t.first.toFixed(1)}  last ${t.last.toFixed(1)}  slope (2nd half) ${t.slopePerHour.toFixed(2)}/h  ${t.growing ? 'GROWING' : 'levels off'}`);
console.log(`searches ${searches}, errors ${searchErrors}; changes ${changes}; logs ${logsOk ? 'within' : 'OVER'} the rotation cap; metrics.db ${metricsOk ? 'within' : 'OVER'} its ${METRICS_CAP_MB} MB bound`);
console.log(`${summary.pass ? 'PASS' : 'FAIL'}; saved ${file}`);
process.exit(summary.pass ? 0 : 1);
