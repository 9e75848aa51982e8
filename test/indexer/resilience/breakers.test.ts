import type { StatusReport } from '../../../src/shared/api.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { OwletService } from '../../../src/indexer/service/service.js';
import { saveConfig } from '../../../src/indexer/config/load.js';
import { defaultConfig, type Config } from '../../../src/indexer/config/schema.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';
import { handleFromChild } from '../../../src/indexer/extract/launcher.js';
import type { WorkerLauncher } from '../../../src/indexer/extract/pool.js';
import { tmpDir, waitFor, writeTree } from '../../helpers/tmp.js';

/** Resilience of the pipeline, with a scripted extraction worker (real processes) whose failures the test chooses. */
const WORKER = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../fixtures/scripted-worker.mjs');
const scripted: WorkerLauncher = () => handleFromChild(fork(WORKER, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced', execArgv: [] }), { forwardStderr: false });

function configure(data: string, root: string, over: (c: Config) => Config): void {
  saveConfig(data, over({ ...defaultConfig(), roots: [root] }));
}

function problems(svc: OwletService) {
  return Object.fromEntries(svc.problems(1000, 0).map((p) => [path.basename(p.path), p.reason]));
}

test('an extractor kind that keeps hanging opens its breaker: its files are deferred, other kinds flow, a probe closes it and the deferred are indexed', async () => {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  const files: Record<string, string> = {};
  for (let i = 0; i < 4; i++) files[`a-hang-${i}.txt`] = 'never answered';
  for (let i = 0; i < 6; i++) files[`z-good-${i}.txt`] = `good text ${i} goodword`;
  for (let i = 0; i < 3; i++) files[`m-other-${i}.html`] = `<p>page otherword ${i}</p>`;
  writeTree(root, files);
  configure(data, root, (c) => ({
    ...c,
    extractors: { ...c.extractors, workers: 1, timeoutMs: 150 },
    resilience: { ...c.resilience, breaker: { errorThresholdPercentage: 50, volumeThreshold: 3, resetTimeoutMs: 400, rollingWindowMs: 60_000 } },
  }));
  const svc = new OwletService({ dataDir: data, log: nullLogger, watch: false, launchWorker: scripted });
  const changes: string[] = [];
  // The status while the breaker is open, taken the moment it opens: with a 400 ms reset it may
  // already be half-open or closed again by the time indexOnce returns on a loaded machine.
  let whileOpen = null as StatusReport | null;
  svc.breakers.onDidChange(({ kind, state }) => {
    changes.push(`${kind}:${state}`);
    if (kind === 'text' && state === 'open') whileOpen ??= svc.status();
  });
  try {
    const first = await svc.indexOnce();
    const p = problems(svc);
    assert.equal(p['a-hang-0.txt'], 'timeout');
    assert.ok(changes.includes('text:open'), `breaker opened: ${changes}`);
    const deferred = Object.entries(p).filter(([, r]) => r === 'deferred').map(([n]) => n);
    assert.ok(deferred.length >= 1, `some text files were deferred instead of tried: ${JSON.stringify(p)}`);
    assert.ok(whileOpen, 'the status was read while the breaker was open');
    assert.equal(whileOpen!.state, 'degraded');
    assert.ok(whileOpen!.degraded.some((d) => d.component === 'breaker:text'));
    assert.equal(svc.search('otherword', 10, 0).total, 3, 'html files (another extractor kind) kept flowing while text was open');
    assert.ok(first.failed >= 4);
    // Half-open after the reset timeout: a probe runs, succeeds, the breaker closes, the deferred are retried.
    await waitFor(() => changes.includes('text:closed'), 10_000, 'breaker to close after a successful probe');
    await waitFor(() => svc.search('goodword', 20, 0).total === 6, 10_000, 'deferred files indexed');
    assert.equal(svc.status().resilience.deferred, 0);
    assert.ok(changes.indexOf('text:half-open') < changes.indexOf('text:closed'));
  } finally {
    await svc.stop();
  }
});

test('a file on which workers died on earlier runs is quarantined until it changes', async () => {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  writeTree(root, { 'killer.txt': 'took the process down', 'fine.txt': 'fineword' });
  configure(data, root, (c) => ({ ...c, resilience: { ...c.resilience, quarantineAttempts: 2 } }));
  // Workers died on killer.txt twice in earlier runs: those deaths are on record.
  const st = fs.statSync(path.join(root, 'killer.txt'));
  let svc = new OwletService({ dataDir: data, log: nullLogger, watch: false, launchWorker: scripted });
  for (let i = 0; i < 2; i++) svc.quarantine.recordDeath({ path: path.join(root, 'killer.txt'), size: st.size, mtimeMs: Math.floor(st.mtimeMs) });
  try {
    await svc.indexOnce();
    assert.equal(problems(svc)['killer.txt'], 'quarantined');
    assert.match(svc.problems(10, 0)[0]!.message, /workers crashed or hung on this file 2 times/);
    assert.equal(svc.search('fineword', 10, 0).total, 1);
    assert.equal(svc.status().resilience.quarantined, 1);
    assert.equal((await svc.indexOnce()).unchanged, 2, 'not tried again while unchanged');
  } finally {
    await svc.stop();
  }
  fs.appendFileSync(path.join(root, 'killer.txt'), ' edited killerword');
  svc = new OwletService({ dataDir: data, log: nullLogger, watch: false, launchWorker: scripted });
  try {
    await svc.indexOnce();
    assert.equal(svc.search('killerword', 10, 0).total, 1, 'changed on disk: extracted again');
    assert.equal(svc.status().resilience.quarantined, 0);
  } finally {
    await svc.stop();
  }
});

test('a worker that crashes on a file marks it failed, is replaced, and the file is quarantined after repeated crashes', async () => {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  writeTree(root, { 'crash-me.txt': 'x', 'ok.txt': 'okword' });
  configure(data, root, (c) => ({ ...c, resilience: { ...c.resilience, quarantineAttempts: 2 } }));
  const svc = new OwletService({ dataDir: data, log: nullLogger, watch: false, launchWorker: scripted });
  try {
    await svc.indexOnce();
    assert.equal(problems(svc)['crash-me.txt'], 'crash');
    assert.equal(svc.search('okword', 10, 0).total, 1);
    await svc.indexOnce(); // retried once more (worker deaths count towards the quarantine)
    await svc.indexOnce();
    assert.equal(problems(svc)['crash-me.txt'], 'quarantined');
    assert.ok(svc.pool.stats().crashes >= 2);
  } finally {
    await svc.stop();
  }
});

test('false quarantine: workers that cannot start, and a worker that answers "crash" but lives on, never count towards quarantine (only a worker that died or hung on the file does)', async () => {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  writeTree(root, { 'notes.md': '# small notes', 'readme.md': 'readmeword', 'x-throws.txt': 'the extractor throws on me' });
  configure(data, root, (c) => ({ ...c, resilience: { ...c.resilience, quarantineAttempts: 2 } }));
  const cannotStart: WorkerLauncher = () =>
    handleFromChild(fork(WORKER, ['die-at-start'], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced', execArgv: [] }), { forwardStderr: false });
  // Three starts in a row whose workers cannot start (e.g. a machine thrashing during a bulk copy).
  for (let i = 0; i < 3; i++) {
    const svc = new OwletService({ dataDir: data, log: nullLogger, watch: false, launchWorker: cannotStart });
    try {
      await svc.indexOnce();
      assert.equal(svc.pool.stats().crashes + svc.pool.stats().timeouts, 0, 'no worker died on a file');
      assert.notEqual(problems(svc)['notes.md'], 'quarantined', `start ${i + 1}: not quarantined`);
      assert.equal(svc.status().resilience.quarantined, 0);
    } finally {
      await svc.stop();
    }
  }
  // Workers that start: every file is extracted; the one whose extractor keeps throwing is failed, never quarantined.
  const svc = new OwletService({ dataDir: data, log: nullLogger, watch: false, launchWorker: scripted });
  try {
    for (let i = 0; i < 3; i++) await svc.indexOnce();
    const p = problems(svc);
    assert.equal(p['notes.md'], undefined, 'indexed');
    assert.equal(p['readme.md'], undefined, 'indexed');
    assert.equal(p['x-throws.txt'], 'crash', 'failed with its reason, tried again next pass');
    assert.equal(svc.status().resilience.quarantined, 0);
    assert.equal(svc.search('readmeword', 10, 0).total, 1);
  } finally {
    await svc.stop();
  }
});

test('a transient read error is retried with backoff from the persistent queue, on an injected clock', async () => {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  writeTree(root, { 'busy.txt': 'lockedword', 'busy.txt.busy-count': '2' });
  configure(data, root, (c) => ({ ...c, exclude: [...c.exclude, '*.busy-count'], resilience: { ...c.resilience, retry: { maxAttempts: 5, baseMs: 10_000, maxMs: 60_000 } } }));
  let now = 1_000_000_000_000;
  const svc = new OwletService({ dataDir: data, log: nullLogger, watch: false, launchWorker: scripted, now: () => now });
  try {
    await svc.indexOnce();
    assert.equal(problems(svc)['busy.txt'], 'io-error');
    assert.match(svc.problems(10, 0)[0]!.message, /retry 1 scheduled/);
    assert.equal(svc.retries.size(), 1);
    await svc.runDueRetries();
    assert.equal(svc.search('lockedword', 10, 0).total, 0, 'not due yet: nothing retried before the backoff delay');
    now += 10_000; // attempt 1's delay is below baseMs
    await svc.runDueRetries();
    assert.equal(svc.retries.attemptsOf(path.join(root, 'busy.txt')), 2, 'second failure, rescheduled');
    now += 20_000;
    await svc.runDueRetries();
    assert.equal(svc.search('lockedword', 10, 0).total, 1, 'third try succeeds');
    assert.equal(svc.retries.size(), 0);
  } finally {
    await svc.stop();
  }
});

test('indexing pauses on battery and resumes on mains, with the reason in status', async () => {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  writeTree(root, { 'a.txt': 'x' });
  configure(data, root, (c) => c);
  let battery = true;
  const svc = new OwletService({ dataDir: data, log: nullLogger, watch: true, launchWorker: scripted, power: { onBattery: async () => battery }, tickMs: 50, powerCheckMs: 50 });
  try {
    await svc.start();
    await waitFor(() => svc.status().pausedBecause.includes('battery'), 5000, 'battery pause');
    assert.equal(svc.status().state, 'degraded');
    battery = false;
    await waitFor(() => !svc.status().paused, 5000, 'resume');
    await waitFor(() => svc.status().counts.indexed === 1, 10_000, 'indexing after resume');
  } finally {
    await svc.stop();
  }
});
