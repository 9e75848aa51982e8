/**
 * `npm run chaos -- [--minutes N] [--seed S] [--corpus DIR] [--files N] [--every-ms MS] [--kinds a,b] [--max-faults N] [--keep]`
 * Runs Owlet under injected faults and prints (and saves to bench/results/) the JSON summary
 * described in docs/operations/validation.md. Exit code 1 when a target is missed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FAULT_KINDS, type FaultKind } from './chaos/faults.js';
import { runChaos } from './chaos/run.js';
import { killAllStarted } from './lib/proc.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    seed: { type: 'string', default: '1' },
    corpus: { type: 'string' },
    files: { type: 'string', default: '3000' },
    'every-ms': { type: 'string', default: '5000' },
    'max-faults': { type: 'string' },
    'burst-files': { type: 'string', default: '5000' },
    kinds: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'skip-hostile': { type: 'boolean', default: false },
  },
});

const num = (name: string, v: string | undefined, min: number): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) {
    console.error(`chaos: --${name} must be a number ≥ ${min} (got ${v})`);
    process.exit(2);
  }
  return n;
};
const kinds = values.kinds?.split(',').map((k) => k.trim()) as FaultKind[] | undefined;
for (const k of kinds ?? []) {
  if (!FAULT_KINDS.includes(k)) {
    console.error(`chaos: unknown fault kind "${k}"; the kinds are ${FAULT_KINDS.join(', ')}`);
    process.exit(2);
  }
}
process.on('SIGINT', () => {
  killAllStarted();
  process.exit(130);
});

const summary = await runChaos({
  minutes: num('minutes', values.minutes, 0.1),
  seed: num('seed', values.seed, 0),
  files: num('files', values.files, 10),
  faultEveryMs: num('every-ms', values['every-ms'], 500),
  burstFiles: num('burst-files', values['burst-files'], 10),
  corpus: values.corpus,
  kinds,
  ...(values['max-faults'] ? { maxFaults: num('max-faults', values['max-faults'], 1) } : {}),
  keep: values.keep,
  hostile: !values['skip-hostile'],
  log: (l) => console.error(l),
});
const dir = path.resolve(path.dirname(new URL(import.meta.url).pathname), 'results');
fs.mkdirSync(dir, { recursive: true });
const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-chaos.json`);
fs.writeFileSync(file, JSON.stringify(summary, null, 2) + '\n');
const p = summary.probes;
console.log(`availability ${(p.availability * 100).toFixed(3)}% (${p.ok}/${p.total} probes; target ≥ 99.9%)`);
for (const [k, r] of Object.entries(summary.recovery)) console.log(`  ${k.padEnd(14)} ×${r.count}${r.skipped ? ` (${r.skipped} skipped)` : ''}  recovery max ${r.maxMs ?? '-'} ms, p95 ${r.p95Ms ?? '-'} ms, unrecovered ${r.unrecovered}, failed probes ${r.failedProbes}`);
console.log(`documents: ${summary.documents.expected} expected, ${summary.documents.lost} lost, ${summary.documents.phantom} phantom`);
console.log(`freshness: p50 ${summary.freshness.p50Ms} ms, p95 ${summary.freshness.p95Ms} ms, never searchable ${summary.freshness.neverSearchable}`);
console.log(`alerts expected: ${JSON.stringify(summary.alerts.expected)}; still firing: ${summary.alerts.stillFiring.join(', ') || 'none'}; vanished: ${summary.alerts.vanished.join(', ') || 'none'}`);
console.log(`doctor: ${summary.doctor.clean ? 'clean' : 'NOT clean: ' + summary.doctor.failed.join('; ')}`);
console.log(`peak: ${summary.resources.peakRssMb} MB RSS, ${summary.resources.peakFds} fds, ${summary.resources.peakProcesses} processes`);
console.log(`equivalent to ${summary.equivalence.realWorldDays} real-world days of faults (${summary.equivalence.assumption})`);
console.log(`saved ${file}`);
process.exit(Object.values(summary.targets).every(Boolean) ? 0 : 1);
