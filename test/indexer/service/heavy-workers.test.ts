import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { saveConfig } from '../../../src/indexer/config/load.js';
import { ConfigSchema, defaultConfig } from '../../../src/indexer/config/schema.js';
import { handleFromChild } from '../../../src/indexer/extract/launcher.js';
import type { WorkerLauncher } from '../../../src/indexer/extract/pool.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';
import { OwletService } from '../../../src/indexer/service/service.js';
import { tmpDir, waitFor, writeTree } from '../../helpers/tmp.js';

const WORKER = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../fixtures/scripted-worker.mjs');

/** Scripted workers (they answer a file's bytes as its text) that record which worker got which file. */
function recordingWorkers(): { launch: WorkerLauncher; jobsOf: Map<number, string[]> } {
  const jobsOf = new Map<number, string[]>();
  let n = 0;
  const launch: WorkerLauncher = () => {
    const h = handleFromChild(fork(WORKER, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced', execArgv: [] }), { forwardStderr: false });
    const jobs: string[] = [];
    jobsOf.set(n++, jobs);
    return {
      ...h,
      get pid() {
        return h.pid;
      },
      send(msg) {
        const p = (msg as { path?: unknown }).path;
        if (typeof p === 'string') jobs.push(path.basename(p));
        h.send(msg);
      },
    };
  };
  return { launch, jobsOf };
}

/** Issue #14: how many workers load PDFium is a setting, so the memory/time trade-off is the user's. */
test('extractors.heavyWorkers 1: the service sends every PDF to one worker while the other takes the rest', { timeout: 60_000 }, async () => {
  const root = tmpDir('owlet-heavy-root-');
  const data = tmpDir('owlet-heavy-data-');
  const files: Record<string, string> = {};
  for (let i = 0; i < 48; i++) files[`doc${i}.pdf`] = `portable ${i}`;
  for (let i = 0; i < 24; i++) files[`note${i}.txt`] = `plain ${i}`;
  writeTree(root, files);
  const base = defaultConfig();
  saveConfig(data, { ...base, roots: [root], extractors: { ...base.extractors, workers: 2, heavyWorkers: 1 } });
  const { launch, jobsOf } = recordingWorkers();
  const svc = new OwletService({ dataDir: data, log: nullLogger, watch: false, launchWorker: launch, tickMs: 50, power: { onBattery: async () => false } });
  try {
    await svc.start();
    await waitFor(() => svc.status().state === 'idle' && svc.status().counts.indexed === 72, 30_000, 'first pass');
    assert.equal(svc.search('portable', 100, 0).total, 48);
    const withPdf = [...jobsOf.values()].filter((jobs) => jobs.some((j) => j.endsWith('.pdf')));
    assert.equal(withPdf.length, 1, `PDFs went to ${withPdf.length} workers: ${JSON.stringify([...jobsOf.values()])}`);
    assert.equal(withPdf[0]!.filter((j) => j.endsWith('.pdf')).length, 48);
    assert.equal(jobsOf.size, 2, 'both workers ran');
  } finally {
    await svc.stop();
  }
});

test('extractors.heavyWorkers defaults to 0 (any worker takes PDFs) and rejects a negative count', () => {
  assert.equal(defaultConfig().extractors.heavyWorkers, 0);
  assert.equal(ConfigSchema.safeParse({ extractors: { heavyWorkers: -1 } }).success, false);
  assert.equal(ConfigSchema.parse({ extractors: { heavyWorkers: 1 } }).extractors.heavyWorkers, 1);
});
