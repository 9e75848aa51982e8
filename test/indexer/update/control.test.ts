import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { applyThroughSupervisor, controlSocketPath } from '../../../src/indexer/update/control.js';
import { tmpDir } from '../../helpers/tmp.js';

/**
 * `owlet update apply` follows the new supervisor's health gate over the control socket. A real
 * socket in a temp data folder stands in for the supervisors, on the test's clock (each sleep moves
 * it): it answers /status with the gate still running, except while `silent(clock)` says nobody
 * answers (the connection is dropped, as when no supervisor holds the socket), and from `installedAt`
 * on with the update installed.
 */
async function supervisors(dataDir: string, o: { silent: (clock: number) => boolean; installedAt?: number }) {
  const clock = { now: 0 };
  const server = http.createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/apply') return res.end(JSON.stringify({ outcome: 'handed-over', from: '1.0.0', to: '1.1.0' }));
    if (o.silent(clock.now)) return res.destroy();
    const installed = o.installedAt !== undefined && clock.now >= o.installedAt;
    res.end(
      JSON.stringify({
        running: '1.1.0',
        supervisor: { version: '1.1.0', pid: 4242 },
        pending: installed ? null : { version: '1.1.0', phase: 'gating' },
        lastResult: installed ? { outcome: 'installed', from: '1.0.0', to: '1.1.0', downtimeMs: 900 } : null,
      }),
    );
  });
  await new Promise<void>((r) => server.listen(controlSocketPath(dataDir), r));
  const follow = (alive: (pid: number) => boolean, followMs = 10 * 60_000) =>
    applyThroughSupervisor(dataDir, {}, { followMs, unansweredMs: 20_000, supervisorPid: 4141, isAlive: alive, now: () => clock.now, sleep: async (ms) => void (clock.now += ms) });
  return { server, clock, follow };
}

test('Owlet killed during the gate (nobody answers, no supervisor alive): apply says so after the limit, not at the end of the gate', async (t) => {
  const data = tmpDir('owlet-data-');
  const sup = await supervisors(data, { silent: (now) => now >= 1_000 });
  t.after(() => sup.server.close());
  const r = await sup.follow(() => false);
  assert.equal(r.outcome, 'handed-over', 'its outcome is not known here: the next start decides it');
  assert.equal(r.to, '1.1.0');
  assert.match(r.message ?? '', /Owlet stopped answering during the update .*when it starts again it finishes the update or rolls it back/);
  assert.ok(sup.clock.now >= 20_750 && sup.clock.now <= 21_500, `gave up at ${sup.clock.now} ms of the test's clock, 20 s after the last answer`);
});

test('a slow hand-over (silent for longer than the limit while the last supervisor seen is alive) is followed to its outcome', async (t) => {
  const data = tmpDir('owlet-data-');
  // Silent from 1 s to 46 s: the old supervisor stopping its service, then the new one starting.
  const sup = await supervisors(data, { silent: (now) => now >= 1_000 && now < 46_000, installedAt: 50_000 });
  t.after(() => sup.server.close());
  const asked: number[] = [];
  const r = await sup.follow((pid) => {
    asked.push(pid);
    return sup.clock.now < 40_000; // gone at 40 s; the new one answers 6 s later
  });
  assert.equal(r.outcome, 'installed', JSON.stringify(r));
  assert.ok(asked.every((pid) => pid === 4242), 'the pid the last answer named is the one watched');
});

test('before any answer, the supervisor that took the request is the one watched', async (t) => {
  const data = tmpDir('owlet-data-');
  const sup = await supervisors(data, { silent: () => true });
  t.after(() => sup.server.close());
  const asked = new Set<number>();
  const r = await sup.follow((pid) => (asked.add(pid), false));
  assert.deepEqual([...asked], [4141]);
  assert.equal(r.outcome, 'handed-over');
  assert.ok(sup.clock.now >= 20_000 && sup.clock.now <= 21_000);
});
