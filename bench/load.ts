/**
 * `npm run load -- [--files 3000] [--seconds 20]`
 * Concurrent search clients (autocannon) against a real `owlet run` that is indexing at the same
 * time: 1, 8 and 32 connections, each while a fresh batch of documents is being indexed, then the
 * same at rest for comparison. Prints p50/p99/errors and saves `owlet-load/1` JSON in bench/results/.
 */
import autocannon from 'autocannon';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { saveConfig } from '../src/indexer/config/load.js';
import { defaultConfig } from '../src/indexer/config/schema.js';
import { writeChaosCorpus, writeDocument } from './lib/doc-corpus.js';
import { killAllStarted } from './lib/proc.js';
import { seeded } from './lib/rng.js';
import { request, settle, startTarget } from './lib/target.js';

const { values } = parseArgs({ options: { files: { type: 'string', default: '3000' }, seconds: { type: 'string', default: '20' }, seed: { type: 'string', default: '1' } } });
const seconds = Number(values.seconds);
process.on('SIGINT', () => {
  killAllStarted();
  process.exit(130);
});

const rng = seeded(Number(values.seed));
const work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'owlet-load-')));
const root = path.join(work, 'docs');
const dataDir = path.join(work, 'data');
fs.mkdirSync(dataDir, { mode: 0o700 });
writeChaosCorpus(root, Number(values.files), rng);
const d = defaultConfig();
// The bench measures search, not the limiter: the run sets its own rate limit (see #14).
saveConfig(dataDir, { ...d, roots: [root], resilience: { ...d.resilience, pauseOnBattery: false }, security: { ...d.security, http: { ...d.security.http, rateLimitPerMinute: 1_000_000 } } });
const target = startTarget({ dataDir });

interface Row {
  connections: number;
  indexing: boolean;
  requests: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  documentsIndexedDuring: number;
}
const rows: Row[] = [];
const queries = ['report', 'quarterly figures', 'budget OR invoice', '"summary draft"', 'alpha bravo', 'meet*', 'chaos17tok', 'zulu -alpha'];

async function indexedCount(): Promise<number> {
  const r = await request(target, '/api/v1/status');
  return (r.body as { counts?: { indexed: number } } | null)?.counts?.indexed ?? 0;
}

async function round(connections: number, indexing: boolean, batch: number): Promise<void> {
  if (indexing) {
    // A fresh batch to index while the clients search: the writer and the readers compete.
    const dir = path.join(root, `load-${connections}`);
    for (let i = 0; i < 1500; i++) writeDocument(dir, `L${batch}x${i}`, rng);
    await new Promise((r) => setTimeout(r, 1000));
  }
  const before = await indexedCount();
  const token = target.token()!;
  const result = await autocannon({
    url: target.url()!,
    connections,
    duration: seconds,
    headers: { authorization: `Bearer ${token}` },
    requests: queries.map((q) => ({ method: 'GET', path: `/api/v1/search?q=${encodeURIComponent(q)}&limit=20` })),
  });
  const after = await indexedCount();
  rows.push({ connections, indexing, requests: result.requests.total, p50Ms: result.latency.p50, p99Ms: result.latency.p99, errors: result.errors + result.timeouts, non2xx: result.non2xx, documentsIndexedDuring: after - before });
  const r = rows[rows.length - 1]!;
  console.error(`load: ${connections} conn, ${indexing ? 'indexing' : 'at rest  '}: ${r.requests} requests, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, errors ${r.errors}, non-2xx ${r.non2xx}, ${r.documentsIndexedDuring} documents indexed meanwhile`);
}

try {
  await target.proc.waitFor(/serving on (http:\S+)/, 60_000);
  console.error(`load: initial index settled after ${await settle(target, 15 * 60_000)} ms`);
  let batch = 0;
  for (const c of [1, 8, 32]) {
    await round(c, true, ++batch);
    await settle(target, 5 * 60_000);
    await round(c, false, batch);
  }
} finally {
  await target.stop();
  fs.rmSync(work, { recursive: true, force: true });
}
// "Searches stay fast while indexing runs", as a side-by-side ratio per connection count (same
// run, same machine): p99 while indexing ÷ p99 at rest. A figure to compare runs by, not a pass rule.
const p99WhileIndexingVsRest: Record<string, number | null> = {};
for (const c of [1, 8, 32]) {
  const busy = rows.find((r) => r.connections === c && r.indexing);
  const rest = rows.find((r) => r.connections === c && !r.indexing);
  p99WhileIndexingVsRest[c] = busy && rest && rest.p99Ms > 0 ? Math.round((busy.p99Ms / rest.p99Ms) * 100) / 100 : null;
}
const summary = { format: 'owlet-load/1', files: Number(values.files), seconds, queries, rows, p99WhileIndexingVsRest, pass: rows.every((r) => r.errors === 0 && r.non2xx === 0) };
const dir = path.resolve(path.dirname(new URL(import.meta.url).pathname), 'results');
fs.mkdirSync(dir, { recursive: true });
const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-load.json`);
fs.writeFileSync(file, JSON.stringify(summary, null, 2) + '\n');
console.log('connections  indexing  requests  p50 ms  p99 ms  errors  non-2xx');
for (const r of rows) console.log(`${String(r.connections).padStart(11)}  ${(r.indexing ? 'yes' : 'no').padEnd(8)}  ${String(r.requests).padStart(8)}  ${String(r.p50Ms).padStart(6)}  ${String(r.p99Ms).padStart(6)}  ${String(r.errors).padStart(6)}  ${String(r.non2xx).padStart(7)}`);
console.log(`p99 while indexing ÷ p99 at rest, by connections: ${JSON.stringify(p99WhileIndexingVsRest)}`);
console.log(`${summary.pass ? 'PASS' : 'FAIL'}; saved ${file}`);
process.exit(summary.pass ? 0 : 1);
