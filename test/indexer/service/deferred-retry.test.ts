import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { DeferredRetry } from '../../../src/indexer/service/deferred-retry.js';
import type { BreakerState } from '../../../src/indexer/resilience/breakers.js';
import { OwletService } from '../../../src/indexer/service/service.js';
import { saveConfig } from '../../../src/indexer/config/load.js';
import { defaultConfig } from '../../../src/indexer/config/schema.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';
import { tmpDir, waitFor, writeTree } from '../../helpers/tmp.js';

/** A DeferredRetry over a set of deferred paths and breaker states the test sets; records what it retried. */
function retryOver(waiting: string[], states: Record<string, BreakerState> = {}) {
  const retried: string[][] = [];
  const turns: (() => void)[] = [];
  const retry = new DeferredRetry({
    waiting: () => waiting,
    kindOf: (p) => path.extname(p).slice(1),
    stateOf: (kind) => states[kind] ?? 'closed',
    retry: (paths) => retried.push(paths),
    later: (fn) => turns.push(fn),
  });
  /** Ends the current turn: what was scheduled for after it runs. */
  const endTurn = () => turns.splice(0).forEach((fn) => fn());
  return { retry, retried, states, endTurn };
}

test('half-open, one deferred file of the kind is retried as its probe; closed, all of them; open, none', () => {
  const { retry, retried } = retryOver(['a.pdf', 'b.html', 'c.pdf', 'd.pdf']);
  retry.breakerChanged('pdf', 'open');
  assert.deepEqual(retried, []);
  retry.breakerChanged('pdf', 'half-open');
  assert.deepEqual(retried, [['a.pdf']]);
  retry.breakerChanged('pdf', 'closed');
  assert.deepEqual(retried, [['a.pdf'], ['a.pdf', 'c.pdf', 'd.pdf']], 'other kinds are left to their own breaker');
  retry.breakerChanged('docx', 'closed');
  assert.equal(retried.length, 2, 'a kind with nothing deferred retries nothing');
});

test('files recorded as deferred after their kind closed again are retried at once, those of one turn together; one deferred while open or probing waits', () => {
  const { retry, retried, states, endTurn } = retryOver([], { pdf: 'open', html: 'half-open' });
  retry.deferred('late-1.txt');
  retry.deferred('late-2.txt');
  assert.deepEqual(retried, [], 'not before the turn ends: the pool refuses a whole queue of the kind at once');
  endTurn();
  assert.deepEqual(retried, [['late-1.txt', 'late-2.txt']], 'closed: the drain at closing has already run, so they would have waited for the next full pass');
  retry.deferred('waits.pdf');
  retry.deferred('probe-running.html');
  endTurn();
  assert.deepEqual(retried, [['late-1.txt', 'late-2.txt']]);
  states.pdf = 'closed';
  retry.deferred('refused-during-probe.pdf');
  endTurn();
  assert.deepEqual(retried, [['late-1.txt', 'late-2.txt'], ['refused-during-probe.pdf']]);
});

/**
 * A real service over a.txt and b.txt whose breakers' guard answers `deferred` for a.txt the first
 * `refusals` times it is asked (every breaker stays closed): the refusal a worker gave while the
 * probe still held the kind, recorded once the breaker had closed again.
 */
function serviceRefusingA(aText: string, refusals: number) {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  saveConfig(data, { ...defaultConfig(), roots: [root] });
  writeTree(root, { 'a.txt': aText, 'b.txt': 'beta' });
  const svc = new OwletService({ dataDir: data, log: nullLogger, watch: false });
  const guard = svc.breakers.guard.bind(svc.breakers);
  let asked = 0;
  svc.breakers.guard = async (job) => {
    if (path.basename(job.path) === 'a.txt' && asked++ < refusals) return { ok: false, reason: 'deferred', message: 'refused while the probe ran' };
    return guard(job);
  };
  return { svc, asked: () => asked };
}

test('in the service, a file whose deferral is recorded after its breaker closed is indexed without waiting for a rescan', async () => {
  const { svc, asked } = serviceRefusingA('alpha lateword', 1);
  try {
    await svc.indexOnce();
    await waitFor(() => svc.search('lateword', 10, 0).total === 1, 30_000, 'the late deferral to be retried and indexed');
    assert.equal(asked(), 2, 'refused once, then run');
    assert.equal(svc.status().resilience.deferred, 0);
  } finally {
    await svc.stop();
  }
});

test('a file deferred again while it already waits is not retried again (the next change of its breaker retries it): no retry loop', async () => {
  const { svc, asked } = serviceRefusingA('alpha', 2);
  try {
    await svc.indexOnce();
    await waitFor(() => asked() === 2, 30_000, 'the late deferral to be retried once');
    // A second announcement would retry it at once, and the third attempt would index it.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(asked(), 2);
    assert.equal(svc.status().resilience.deferred, 1);
  } finally {
    await svc.stop();
  }
});
