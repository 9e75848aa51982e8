import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { applyThroughSupervisor, controlSocketPath } from '../../../src/indexer/update/control.js';
import { tmpDir } from '../../helpers/tmp.js';

/**
 * `owlet update apply` follows the new supervisor's health gate over the control socket. A real
 * socket in a temp data folder stands in for the supervisors: it answers what the test scripts, and
 * closes when the test says the tree was killed. The clock is the test's: each sleep moves it.
 */
async function supervisorOn(dataDir: string, statusAnswers: number) {
  let answered = 0;
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.method === 'POST' && req.url === '/apply') return res.end(JSON.stringify({ outcome: 'handed-over', from: '1.0.0', to: '1.1.0' }));
    answered++;
    res.end(JSON.stringify({ running: '1.1.0', supervisor: { version: '1.1.0', pid: 1 }, pending: { version: '1.1.0', phase: 'gating' }, lastResult: null }));
    // Killed during the gate: from then on nobody answers on the socket (kept-alive connections too).
    if (answered === statusAnswers)
      res.on('finish', () => {
        server.close();
        server.closeAllConnections();
      });
  });
  await new Promise<void>((r) => server.listen(controlSocketPath(dataDir), r));
  return { server, answered: () => answered };
}

test('a supervisor that stops answering during the gate ends the wait with a message that says what to do, not at the end of the gate', async (t) => {
  const data = tmpDir('owlet-data-');
  const sup = await supervisorOn(data, 3);
  t.after(() => sup.server.close());
  let clock = 0;
  const r = await applyThroughSupervisor(data, {}, { followMs: 10 * 60_000, unansweredMs: 20_000, now: () => clock, sleep: async (ms) => void (clock += ms) });
  assert.equal(r.outcome, 'refused');
  assert.equal(r.to, '1.1.0');
  assert.match(r.message ?? '', /stopped answering during the update to 1\.1\.0 .*start it again.*owlet update status/);
  assert.equal(sup.answered(), 3);
  // Three answers at 250 ms apart, then 20 s of silence: not the ten minutes the gate may take.
  assert.ok(clock >= 20_000 && clock <= 21_500, `gave up after ${clock} ms of the test's clock`);
});

test('a silence shorter than the limit is a hand-over between supervisors: the wait goes on to the end of the gate', async (t) => {
  const data = tmpDir('owlet-data-');
  const sup = await supervisorOn(data, 1_000_000);
  t.after(() => sup.server.close());
  let clock = 0;
  const r = await applyThroughSupervisor(data, {}, { followMs: 30_000, unansweredMs: 20_000, now: () => clock, sleep: async (ms) => void (clock += ms) });
  assert.equal(r.outcome, 'handed-over', 'still gating when the follow time ran out');
  assert.match(r.message ?? '', /still running the health gate/);
  assert.ok(clock >= 30_000);
});
