#!/usr/bin/env node
// Runs every test/**/*.test.ts with Node's own test runner (tsx strips types; Node 20 cannot),
// the longest files first (scripts/test-runner.mjs keeps this order; `node --test` would sort it).
// Usage: node scripts/run-tests.mjs [path-substring ...]   e.g. `node scripts/run-tests.mjs search`
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
function find(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...find(p));
    else if (e.name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}
/**
 * The longest files start first (longest-first scheduling over the two runners): in alphabetical
 * order the update end-to-end files (200 s and 100 s of real processes) started last, and one runner
 * was still in them while the other had finished (CI of 285ba4c: 609 s for ~1,070 s of tests).
 * Durations from that run; the order of the rest stays alphabetical.
 */
const LONGEST_FIRST = [
  'test/indexer/update/kill.e2e.test.ts', // 202 s
  'test/indexer/update/e2e.test.ts', // 102 s
  'test/bench/chaos.test.ts', // 76 s
  'test/indexer/service/pause-restart.test.ts', // 43 s
  'test/renderer/flows.test.ts', // 25 s
  'test/indexer/update/refusals.e2e.test.ts', // 22 s
];
const rank = (f) => (LONGEST_FIRST.includes(f) ? LONGEST_FIRST.indexOf(f) : LONGEST_FIRST.length);
const filters = process.argv.slice(2);
const all = find(path.join(root, 'test')).map((f) => path.relative(root, f));
for (const f of LONGEST_FIRST) if (!all.includes(f)) console.error(`run-tests: ${f} (LONGEST_FIRST) no longer exists; update the list`);
const files = all
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort()
  .sort((a, b) => rank(a) - rank(b));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', path.join(root, 'scripts', 'test-runner.mjs'), ...files],
  { cwd: root, stdio: 'inherit', env: { ...process.env, OWLET_ALLOW_ROOT: '1' } },
);
process.exit(r.status ?? 1);
