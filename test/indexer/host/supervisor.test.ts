// The supervisor against REAL child processes (test/fixtures/fake-service.mjs). Timing-heavy cases
// inject a FakeClock: the supervisor's timers are the clock's, process events are real.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OWLET_BIN } from '../../../src/indexer/host/run.js';
import { tmpDir } from '../../helpers/tmp.js';
import { forkLauncher } from '../../../src/indexer/host/launcher.js';
import {
  createSupervisor,
  DEFAULT_SUPERVISOR_OPTIONS,
  type CrashInfo,
  type ReadyInfo,
  type Supervisor,
  type SupervisorEvent,
  type SupervisorOptions,
  type SupervisorState,
} from '../../../src/indexer/host/supervisor.js';
import { FakeClock, isAlive, sleep, waitFor, within } from './helpers.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/fake-service.mjs', import.meta.url));

type Mode =
  | 'normal' | 'crash-after-ready' | 'never-ready' | 'silent' | 'block' | 'ignore-shutdown'
  | 'exit-config' | 'fatal' | 'old-protocol' | 'garbage';

interface Harness {
  sup: Supervisor;
  clock: FakeClock | undefined;
  events: SupervisorEvent[];
  pids: number[];
  crashes: CrashInfo[];
  readies: ReadyInfo[];
  states: SupervisorState[];
  /** The mode the NEXT launched child gets. */
  setMode(m: Mode): void;
  ofType<T extends SupervisorEvent['type']>(t: T): Extract<SupervisorEvent, { type: T }>[];
}

const harnesses: Harness[] = [];

function harness(mode: Mode, opts: Partial<SupervisorOptions> & { fakeClock?: boolean } = {}): Harness {
  let next = mode;
  const { fakeClock, launch, ...rest } = opts;
  const clock = fakeClock ? new FakeClock() : undefined;
  const events: SupervisorEvent[] = [];
  const pids: number[] = [];
  const sup = createSupervisor({
    launch: launch ?? (() => forkLauncher({ modulePath: FIXTURE, args: [`--mode=${next}`] })()),
    ...(clock ? { clock } : {}),
    log: (e) => {
      events.push(e);
      if (e.type === 'spawn' && e.pid !== undefined) pids.push(e.pid);
    },
    ...rest,
  });
  const h: Harness = {
    sup,
    clock,
    events,
    pids,
    crashes: [],
    readies: [],
    states: [],
    setMode: (m) => void (next = m),
    ofType: <T extends SupervisorEvent['type']>(t: T) => events.filter((e): e is Extract<SupervisorEvent, { type: T }> => e.type === t),
  };
  sup.onDidCrash((c) => h.crashes.push(c));
  sup.onDidBecomeReady((r) => h.readies.push(r));
  sup.onDidChangeState((s) => h.states.push(s.state));
  harnesses.push(h);
  return h;
}

// Every test ends with no child alive: stop the supervisor (bounded), then check every pid it ever
// spawned with signal 0 (ESRCH = gone). A survivor is killed so it cannot leak, and the test fails.
afterEach(async () => {
  const leaked: number[] = [];
  for (const h of harnesses.splice(0)) {
    const stopping = h.sup.stop('test cleanup');
    // With a fake clock the shutdown deadline only passes when we move time.
    if (h.clock && h.sup.state === 'stopping') {
      await sleep(100);
      if (h.sup.state === 'stopping') h.clock.advance(DEFAULT_SUPERVISOR_OPTIONS.shutdownDeadlineMs);
    }
    await within(stopping, 15_000, 'stop() in cleanup');
    assert.equal(h.sup.state, 'stopped');
    for (const pid of h.pids) {
      if (isAlive(pid)) {
        leaked.push(pid);
        process.kill(pid, 'SIGKILL');
      }
    }
  }
  assert.deepEqual(leaked, [], 'child processes left alive');
});

describe('supervisor with real child processes', () => {
  test('starts the child and reports ready; a SIGKILLed child is restarted and ready again', async (t) => {
    const h = harness('normal');
    assert.equal(h.sup.state, 'idle');
    h.sup.start();
    await waitFor(() => h.sup.state === 'running', 10_000, 'running');
    const first = h.sup.readyInfo;
    assert.ok(first);
    assert.equal(first.pid, h.sup.pid);
    assert.equal(first.url, `http://127.0.0.1:${first.port}`);
    assert.deepEqual(h.readies, [first]);

    const killedPid = first.pid;
    const t0 = performance.now();
    process.kill(killedPid, 'SIGKILL');
    await waitFor(() => h.readies.length === 2, 10_000, 'second ready');
    const killToReadyMs = performance.now() - t0;
    t.diagnostic(`kill → ready: ${killToReadyMs.toFixed(0)} ms (backoff ${DEFAULT_SUPERVISOR_OPTIONS.backoff.initialMs} ms + child start)`);
    console.log(`[supervisor] SIGKILL → ready again in ${killToReadyMs.toFixed(0)} ms`);

    assert.equal(h.sup.state, 'running');
    assert.equal(isAlive(killedPid), false);
    assert.notEqual(h.sup.pid, killedPid);
    assert.deepEqual(h.crashes, [{ reason: 'signal', code: null, signal: 'SIGKILL' }]);
    const s = h.sup.stats;
    assert.equal(s.starts, 2);
    assert.equal(s.crashes, 1);
    assert.equal(s.hangs, 0);
    assert.deepEqual(s.lastExit, { code: null, signal: 'SIGKILL', reason: 'signal' });
    assert.deepEqual(h.states, ['starting', 'running', 'backoff', 'starting', 'running']);
  });

  test('stop() shuts a cooperative child down gracefully: exit 0, no kill', async () => {
    const h = harness('normal');
    h.sup.start();
    await waitFor(() => h.sup.state === 'running', 10_000, 'running');
    const pid = h.sup.pid;
    assert.ok(pid);
    await within(h.sup.stop('user quit'), 5_000, 'stop()');
    assert.equal(h.sup.state, 'stopped');
    assert.equal(h.sup.pid, undefined);
    assert.deepEqual(h.sup.stats.lastExit, { code: 0, signal: null, reason: 'stop' });
    assert.deepEqual(h.ofType('kill'), []);
    assert.deepEqual(h.ofType('child-stopping').map((e) => e.reason), ['user quit']);
    assert.deepEqual(h.crashes, []);
    assert.equal(isAlive(pid), false);
    // stop() again is a no-op; start() after stop works.
    await h.sup.stop();
    h.sup.start();
    await waitFor(() => h.sup.state === 'running', 10_000, 'running again');
  });

  test('stop() SIGKILLs a child that ignores shutdown once the deadline passes', async () => {
    const h = harness('ignore-shutdown', { fakeClock: true });
    const clock = h.clock!;
    h.sup.start();
    await waitFor(() => h.sup.state === 'running', 10_000, 'running');
    const pid = h.sup.pid!;
    const stopped = h.sup.stop('user quit');
    await sleep(150); // real time for the child to (not) react
    assert.equal(h.sup.state, 'stopping');
    clock.advance(DEFAULT_SUPERVISOR_OPTIONS.shutdownDeadlineMs - 1);
    assert.equal(h.sup.state, 'stopping');
    assert.equal(isAlive(pid), true);
    assert.deepEqual(h.ofType('kill'), []);
    clock.advance(1);
    assert.deepEqual(h.ofType('kill').map((e) => e.why), ['shutdown-deadline']);
    await within(stopped, 5_000, 'stop()');
    assert.equal(h.sup.state, 'stopped');
    assert.deepEqual(h.sup.stats.lastExit, { code: null, signal: 'SIGKILL', reason: 'stop' });
    assert.equal(isAlive(pid), false);
    assert.deepEqual(h.crashes, []);
  });

  test('a hung child (no heartbeats) is killed and restarted', async () => {
    const h = harness('silent', { fakeClock: true });
    const clock = h.clock!;
    const { heartbeatIntervalMs, heartbeatTimeoutMs } = DEFAULT_SUPERVISOR_OPTIONS;
    h.sup.start();
    await waitFor(() => h.sup.state === 'running', 10_000, 'running');
    const hungPid = h.sup.pid!;
    // Pings go out every interval; none is answered.
    let elapsed = 0;
    while (elapsed + heartbeatIntervalMs < heartbeatTimeoutMs) {
      clock.advance(heartbeatIntervalMs);
      elapsed += heartbeatIntervalMs;
      await sleep(20);
      assert.equal(h.sup.state, 'running', `still running after ${elapsed} ms`);
    }
    clock.advance(heartbeatTimeoutMs - elapsed - 1);
    assert.equal(h.sup.state, 'running');
    clock.advance(1);
    assert.equal(h.sup.state, 'hung');
    assert.deepEqual(h.ofType('kill').map((e) => e.why), ['hung']);
    await waitFor(() => h.sup.state === 'backoff', 5_000, 'backoff after hang');
    assert.equal(isAlive(hungPid), false);
    assert.deepEqual(h.crashes, [{ reason: 'hung', code: null, signal: 'SIGKILL' }]);
    assert.equal(h.sup.stats.hangs, 1);
    assert.equal(h.sup.stats.crashes, 1);

    h.setMode('normal');
    clock.advance(DEFAULT_SUPERVISOR_OPTIONS.backoff.initialMs);
    assert.equal(h.sup.state, 'starting');
    await waitFor(() => h.sup.state === 'running', 10_000, 'running after restart');
    assert.notEqual(h.sup.pid, hungPid);
  });

  test('real timers: heartbeats keep a healthy child running; a blocked event loop is a hang', async () => {
    const fast = { heartbeatIntervalMs: 100, heartbeatTimeoutMs: 1_000 };
    const healthy = harness('normal', fast);
    // A blocked child cannot hear `shutdown` either: a short deadline keeps cleanup quick.
    const blocked = harness('block', { ...fast, shutdownDeadlineMs: 300 });
    healthy.sup.start();
    blocked.sup.start();
    await waitFor(() => blocked.sup.stats.hangs === 1, 8_000, 'hang of the blocked child');
    assert.equal(blocked.crashes[0]?.reason, 'hung');
    blocked.setMode('normal');
    // By now the healthy child has been pinged ~10+ times in real time and answered every ping.
    await sleep(1_200);
    assert.equal(healthy.sup.state, 'running');
    assert.deepEqual(healthy.sup.stats, { starts: 1, crashes: 0, hangs: 0, lastExit: undefined });
  });

  test('a crash loop stops fast restarts, keeps reporting, and retries on the slow schedule', async () => {
    const h = harness('crash-after-ready', { fakeClock: true });
    const clock = h.clock!;
    const { backoff, crashLoop } = DEFAULT_SUPERVISOR_OPTIONS;
    const slowRetryMs = DEFAULT_SUPERVISOR_OPTIONS.slowRetryMs;
    h.sup.start();
    for (let n = 1; n < crashLoop.maxCrashes; n++) {
      await waitFor(() => h.crashes.length === n, 10_000, `crash ${n}`);
      assert.equal(h.sup.state, 'backoff');
      const delay = Math.min(backoff.maxMs, backoff.initialMs * backoff.factor ** (n - 1));
      clock.advance(delay - 1);
      assert.equal(h.sup.state, 'backoff');
      assert.equal(h.sup.stats.starts, n);
      clock.advance(1);
      assert.equal(h.sup.state, 'starting');
      assert.equal(h.sup.stats.starts, n + 1);
    }
    await waitFor(() => h.crashes.length === crashLoop.maxCrashes, 10_000, 'crash 5');
    assert.equal(h.sup.state, 'crash-loop');
    assert.deepEqual(h.ofType('backoff').map((e) => e.delayMs), [500, 1000, 2000, 4000]);
    assert.ok(h.crashes.every((c) => c.reason === 'exit' && c.code === 1));
    assert.equal(h.ofType('crash-loop').length, 1);

    // No fast restart: nothing happens until the slow retry is due.
    clock.advance(slowRetryMs - 1);
    assert.equal(h.sup.state, 'crash-loop');
    assert.equal(h.sup.stats.starts, 5);
    clock.advance(1);
    assert.equal(h.sup.state, 'starting');
    // The slow retry crashes too: straight back to crash-loop (no new round of fast restarts).
    await waitFor(() => h.crashes.length === 6, 10_000, 'crash 6');
    assert.equal(h.sup.state, 'crash-loop');
    assert.equal(h.ofType('crash-loop').length, 2);

    h.setMode('normal');
    clock.advance(slowRetryMs);
    await waitFor(() => h.sup.state === 'running', 10_000, 'running after the slow retry');
    assert.equal(h.sup.stats.starts, 7);
    assert.equal(h.sup.stats.crashes, 6);
  });

  test('exit 78 (configuration) goes to failed without a restart loop; start() retries', async () => {
    const h = harness('exit-config', { fakeClock: true });
    h.sup.start();
    await waitFor(() => h.sup.state === 'failed', 10_000, 'failed');
    assert.deepEqual(h.sup.failure, {
      reason: 'config',
      message: 'config.json: roots must be an array',
      error: { code: 'OWL_ERR_CONFIG_INVALID', message: 'config.json: roots must be an array' },
    });
    assert.equal(h.crashes.length, 1);
    assert.equal(h.crashes[0]?.code, 78);
    assert.equal(h.crashes[0]?.reason, 'fatal');
    h.clock!.advance(60 * 60_000);
    await sleep(100);
    assert.equal(h.sup.state, 'failed');
    assert.equal(h.sup.stats.starts, 1);
    assert.equal(h.clock!.pending, 0, 'no timer armed in failed');

    h.sup.start();
    await waitFor(() => h.sup.stats.starts === 2 && h.sup.state === 'failed', 10_000, 'failed again after start()');
    assert.equal(h.crashes.length, 2);
  });

  test('a child that never sends ready is killed after readyTimeoutMs and restarted', async () => {
    const h = harness('never-ready', { fakeClock: true });
    h.sup.start();
    await sleep(200); // let it boot for real
    h.clock!.advance(DEFAULT_SUPERVISOR_OPTIONS.readyTimeoutMs - 1);
    assert.equal(h.sup.state, 'starting');
    h.clock!.advance(1);
    assert.equal(h.sup.state, 'hung');
    await waitFor(() => h.sup.state === 'backoff', 5_000, 'backoff');
    assert.deepEqual(h.crashes, [{ reason: 'ready-timeout', code: null, signal: 'SIGKILL' }]);
    assert.equal(h.sup.stats.hangs, 0);
  });

  test('a fatal report is passed on with the crash', async () => {
    const h = harness('fatal', { fakeClock: true });
    h.sup.start();
    await waitFor(() => h.crashes.length === 1, 10_000, 'crash');
    assert.deepEqual(h.crashes[0], {
      reason: 'fatal',
      code: 1,
      signal: null,
      error: { code: 'OWL_ERR_DB_CORRUPT', message: 'database disk image is malformed' },
    });
    assert.equal(h.sup.state, 'backoff');
  });

  test('a service speaking another protocol version is failed, not restarted', async () => {
    const h = harness('old-protocol', { fakeClock: true });
    h.sup.start();
    await waitFor(() => h.sup.state === 'failed', 10_000, 'failed');
    assert.equal(h.sup.failure?.reason, 'protocol');
    assert.deepEqual(h.readies, []);
    assert.deepEqual(h.ofType('kill').map((e) => e.why), ['protocol']);
  });

  test('malformed and unknown messages are ignored and logged, never fatal', async () => {
    const h = harness('garbage');
    h.sup.start();
    await waitFor(() => h.sup.state === 'running', 10_000, 'running');
    const ignored = h.ofType('message-ignored');
    assert.equal(ignored.length, 11);
    assert.ok(ignored.every((e) => e.why === 'malformed'));
    assert.ok(ignored.every((e) => e.messageType.length <= 40), 'logs carry shapes, not contents');
    assert.deepEqual(h.crashes, []);
  });

  // The fatal path with the REAL service (bin/owlet.js serve, built dist/), not only the fixture.
  const realService = (dataDir: string) => () => forkLauncher({ modulePath: OWLET_BIN, args: ['serve', '--data-dir', dataDir, '--port', '0'], env: { ...process.env, OWLET_ALLOW_ROOT: '1' } })();

  test('the real service: an invalid configuration is reported as fatal (kind config) and fails without a restart', async () => {
    const data = tmpDir('owlet-sup-');
    fs.writeFileSync(path.join(data, 'config.json'), JSON.stringify({ version: 1, roots: 42 }));
    const h = harness('normal', { fakeClock: true, launch: realService(data) });
    h.sup.start();
    await waitFor(() => h.sup.state === 'failed', 60_000, 'failed');
    assert.equal(h.sup.failure?.reason, 'config');
    assert.equal(h.sup.failure?.error?.code, 'OWL_ERR_CONFIG_INVALID');
    const fatal = h.ofType('fatal');
    assert.equal(fatal.length, 1);
    assert.equal(fatal[0]!.kind, 'config');
    assert.equal(fatal[0]!.phase, 'startup');
    assert.deepEqual(h.crashes.map((c) => [c.reason, c.code, c.error?.code]), [['fatal', 78, 'OWL_ERR_CONFIG_INVALID']]);
  });

  test('the real service: an unusable data folder is reported as fatal with what to do, then restarted with backoff', async () => {
    const parent = tmpDir('owlet-sup-');
    const notADir = path.join(parent, 'data');
    fs.writeFileSync(notADir, 'a file where the data folder should be');
    const h = harness('normal', { fakeClock: true, launch: realService(notADir) });
    h.sup.start();
    await waitFor(() => h.crashes.length === 1, 60_000, 'the crash');
    assert.equal(h.crashes[0]!.reason, 'fatal');
    assert.equal(h.crashes[0]!.code, 1);
    assert.equal(h.crashes[0]!.error?.code, 'OWL_ERR_DATADIR_UNUSABLE');
    assert.match(h.crashes[0]!.error!.message, /no usable Owlet data directory at .*data/);
    assert.equal(h.ofType('fatal')[0]!.kind, 'environment');
    assert.equal(h.sup.state, 'backoff', 'the environment may recover: restarted, not failed');
  });
});
