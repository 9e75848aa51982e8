// The supervisor's state machine with object-literal child fakes and a fake clock: no processes,
// exact timing. The behaviour against real processes is in supervisor.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { HostMessage } from '../../../src/shared/protocol.js';
import type { ChildHandle } from '../../../src/indexer/host/launcher.js';
import {
  createSupervisor,
  DEFAULT_SUPERVISOR_OPTIONS,
  type CrashInfo,
  type Supervisor,
  type SupervisorEvent,
  type SupervisorOptions,
} from '../../../src/indexer/host/supervisor.js';
import { backoffDelay, CrashWindow } from '../../../src/indexer/host/backoff.js';
import { FakeClock } from './helpers.js';

interface FakeChild {
  handle: ChildHandle;
  sent: HostMessage[];
  kills: string[];
  /** Answer every ping synchronously with a heartbeat. */
  autoHeartbeat: boolean;
  /** Exit when SIGKILLed (false: a process stuck in the kernel). */
  diesOnKill: boolean;
  emit(m: unknown): void;
  exit(code: number | null, signal: string | null): void;
  ready(): void;
}

function fakeChild(pid: number): FakeChild {
  const onMsg: ((m: unknown) => void)[] = [];
  const onExit: ((c: number | null, s: string | null) => void)[] = [];
  const c: FakeChild = {
    sent: [],
    kills: [],
    autoHeartbeat: true,
    diesOnKill: true,
    handle: {
      pid,
      send: (m) => {
        c.sent.push(m);
        if (m.type === 'ping' && c.autoHeartbeat) c.emit({ type: 'heartbeat', seq: m.seq, at: 0, state: 'idle' });
      },
      kill: (s = 'SIGTERM') => {
        c.kills.push(s);
        if (s === 'SIGKILL' && c.diesOnKill) c.exit(null, 'SIGKILL');
      },
      onMessage: (cb) => void onMsg.push(cb),
      onExit: (cb) => void onExit.push(cb),
    },
    emit: (m) => onMsg.forEach((cb) => cb(m)),
    exit: (code, signal) => onExit.forEach((cb) => cb(code, signal)),
    ready: () => c.emit({ type: 'ready', protocol: 1, url: `http://127.0.0.1:${pid}`, port: pid, pid }),
  };
  return c;
}

function setup(opts: Partial<Omit<SupervisorOptions, 'launch' | 'clock'>> = {}, launch?: () => ChildHandle) {
  const clock = new FakeClock();
  const children: FakeChild[] = [];
  const events: SupervisorEvent[] = [];
  const crashes: CrashInfo[] = [];
  const sup: Supervisor = createSupervisor({
    launch:
      launch ??
      (() => {
        const c = fakeChild(1000 + children.length);
        children.push(c);
        return c.handle;
      }),
    clock,
    log: (e) => void events.push(e),
    ...opts,
  });
  sup.onDidCrash((c) => void crashes.push(c));
  const last = (): FakeChild => {
    const c = children.at(-1);
    assert.ok(c, 'a child was launched');
    return c;
  };
  return { sup, clock, children, events, crashes, last };
}

describe('backoff arithmetic', () => {
  test('doubles from initialMs and caps at maxMs', () => {
    const o = { initialMs: 500, maxMs: 30_000, factor: 2 };
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 1000].map((n) => backoffDelay(n, o)), [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    assert.equal(backoffDelay(0, o), 500);
  });

  test('the crash window forgets crashes older than windowMs', () => {
    const w = new CrashWindow({ maxCrashes: 3, windowMs: 100 });
    assert.equal(w.record(0), 1);
    assert.equal(w.record(50), 2);
    assert.equal(w.isLooping(60), false);
    assert.equal(w.record(99), 3);
    assert.equal(w.isLooping(99), true);
    assert.equal(w.count(100), 2); // the crash at 0 is now exactly windowMs old
    w.clear();
    assert.equal(w.count(100), 0);
  });
});

describe('supervisor state machine (fake children)', () => {
  test('pings with increasing seq while running; answered pings never trip the watchdog', () => {
    const { sup, clock, last } = setup();
    sup.start();
    last().ready();
    assert.equal(sup.state, 'running');
    clock.advance(60_000);
    assert.equal(sup.state, 'running');
    const pings = last().sent.filter((m) => m.type === 'ping');
    assert.equal(pings.length, 30);
    assert.deepEqual(pings.slice(0, 3), [{ type: 'ping', seq: 1 }, { type: 'ping', seq: 2 }, { type: 'ping', seq: 3 }]);
  });

  test('hang is declared exactly heartbeatTimeoutMs after the last heartbeat', () => {
    const { sup, clock, last, crashes } = setup();
    sup.start();
    last().ready();
    clock.advance(5_000); // heartbeats at 2000 and 4000
    last().autoHeartbeat = false;
    clock.advance(4_000 + 10_000 - 5_000 - 1);
    assert.equal(sup.state, 'running');
    clock.advance(1);
    // The fake dies on SIGKILL synchronously, so the supervisor is already in backoff.
    assert.deepEqual(last().kills, ['SIGKILL']);
    assert.equal(sup.state, 'backoff');
    assert.deepEqual(crashes, [{ reason: 'hung', code: null, signal: 'SIGKILL' }]);
  });

  test('backoff resets after a healthy run of healthyResetMs', () => {
    const { sup, clock, last, events } = setup();
    const delays = () => events.flatMap((e) => (e.type === 'backoff' ? [e.delayMs] : []));
    sup.start();
    last().ready();
    last().exit(1, null);
    clock.advance(500);
    last().ready();
    last().exit(1, null);
    assert.deepEqual(delays(), [500, 1000]);
    clock.advance(1000);
    last().ready();
    clock.advance(60_000);
    assert.ok(events.some((e) => e.type === 'healthy'));
    last().exit(1, null);
    assert.deepEqual(delays(), [500, 1000, 500]);
  });

  test('crashes spread wider than the window never make a crash loop', () => {
    const { sup, clock, last } = setup({ healthyResetMs: 3_600_000 });
    sup.start();
    for (let i = 0; i < 8; i++) {
      last().ready();
      clock.advance(50_000);
      last().exit(1, null);
      assert.equal(sup.state, 'backoff', `crash ${i + 1}`);
      clock.advance(30_000);
    }
  });

  test('a launcher that throws counts as a crash and is retried with backoff', () => {
    let fail = true;
    const child = fakeChild(7);
    const { sup, clock, crashes, events } = setup({}, () => {
      if (fail) throw new Error('spawn EAGAIN');
      return child.handle;
    });
    sup.start();
    assert.equal(sup.state, 'backoff');
    assert.deepEqual(crashes, [{ reason: 'exit', code: null, signal: null }]);
    assert.ok(events.some((e) => e.type === 'launch-error' && e.message === 'spawn EAGAIN'));
    fail = false;
    clock.advance(500);
    child.ready();
    assert.equal(sup.state, 'running');
    assert.equal(sup.stats.starts, 2);
  });

  test('events from a replaced child are ignored', () => {
    const { sup, clock, children, crashes } = setup();
    sup.start();
    const old = children[0]!;
    old.exit(1, null);
    clock.advance(500);
    const fresh = children[1]!;
    old.ready();
    old.exit(1, null);
    assert.equal(sup.state, 'starting');
    assert.equal(crashes.length, 1);
    fresh.ready();
    assert.equal(sup.state, 'running');
    assert.equal(sup.pid, 1001);
  });

  test('a child that ignores SIGKILL is abandoned after killTimeoutMs; its late exit is ignored', () => {
    const { sup, clock, last, events, crashes } = setup();
    sup.start();
    last().ready();
    const stuck = last();
    stuck.autoHeartbeat = false;
    stuck.diesOnKill = false;
    clock.advance(10_000);
    assert.equal(sup.state, 'hung');
    clock.advance(5_000);
    assert.ok(events.some((e) => e.type === 'abandon'));
    assert.equal(sup.state, 'backoff');
    stuck.exit(null, 'SIGKILL');
    assert.equal(crashes.length, 1);
  });

  test('a child that announces stopping is not probed, but must exit before the deadline', () => {
    const { sup, clock, last, crashes } = setup();
    sup.start();
    last().ready();
    last().autoHeartbeat = false;
    last().emit({ type: 'stopping', reason: 'SIGTERM received' });
    clock.advance(10_000 - 1);
    assert.equal(sup.state, 'running');
    assert.deepEqual(last().kills, []);
    clock.advance(1);
    assert.deepEqual(last().kills, ['SIGKILL']);
    assert.equal(crashes[0]?.reason, 'hung');
  });

  test('an unrequested clean exit is still restarted', () => {
    const { sup, last, crashes } = setup();
    sup.start();
    last().ready();
    last().exit(0, null);
    assert.equal(sup.state, 'backoff');
    assert.deepEqual(crashes, [{ reason: 'exit', code: 0, signal: null }]);
  });

  test('stop() without a child, during backoff, and start() during stopping', async () => {
    const { sup, clock, last } = setup();
    await sup.stop();
    assert.equal(sup.state, 'stopped');
    sup.start();
    last().exit(1, null);
    assert.equal(sup.state, 'backoff');
    await sup.stop();
    assert.equal(sup.state, 'stopped');
    assert.equal(clock.pending, 0, 'no restart timer survives stop()');

    sup.start();
    last().ready();
    const p = sup.stop('bye');
    assert.deepEqual(last().sent.at(-1), { type: 'shutdown', reason: 'bye' });
    assert.equal(sup.stop(), p, 'concurrent stop() calls share one promise');
    assert.throws(() => sup.start(), /stopping/);
    last().exit(0, null);
    await p;
    assert.equal(sup.state, 'stopped');
    assert.equal(clock.pending, 0);
  });

  test('an exit reported synchronously while handling shutdown counts as the stop, not a crash', async () => {
    const { sup, clock, last, crashes } = setup();
    sup.start();
    last().ready();
    const child = last();
    const send = child.handle.send;
    child.handle.send = (m) => (m.type === 'shutdown' ? child.exit(0, null) : send(m));
    await sup.stop();
    assert.equal(sup.state, 'stopped');
    assert.deepEqual(sup.stats.lastExit, { code: 0, signal: null, reason: 'stop' });
    assert.deepEqual(crashes, []);
    assert.equal(clock.pending, 0);
  });

  test('listeners that throw are contained; a listener may stop() from onDidCrash', async () => {
    const { sup, clock, last, events } = setup();
    sup.onDidChangeState(() => {
      throw new Error('bad listener');
    });
    let stopped: Promise<void> | undefined;
    const sub = sup.onDidCrash(() => void (stopped = sup.stop('giving up')));
    sup.start();
    last().ready();
    last().exit(1, null);
    await stopped;
    assert.equal(sup.state, 'stopped');
    assert.equal(clock.pending, 0);
    assert.ok(events.some((e) => e.type === 'listener-error' && e.message === 'bad listener'));
    sub.dispose();
  });

  test('disposed listeners are not called', () => {
    const { sup, last } = setup();
    let n = 0;
    const d = sup.onDidBecomeReady(() => void n++);
    d.dispose();
    sup.start();
    last().ready();
    assert.equal(n, 0);
  });

  test('a child killed after running stableRunMs restarts at the first backoff step, however often', () => {
    const { sup, clock, last, events } = setup();
    sup.start();
    // A kill every 10.5 s for over three minutes: far more than 5 deaths in the 2-minute window.
    for (let i = 0; i < 20; i++) {
      last().ready();
      clock.advance(DEFAULT_SUPERVISOR_OPTIONS.stableRunMs);
      last().exit(null, 'SIGKILL');
      assert.equal(sup.state, 'backoff', `death ${i + 1}`);
      clock.advance(500);
      assert.equal(sup.state, 'starting', `restart ${i + 1}`);
    }
    assert.ok(events.filter((e) => e.type === 'backoff').every((e) => e.type === 'backoff' && e.delayMs === 500 && e.attempt === 1));
    assert.ok(events.filter((e) => e.type === 'crash').every((e) => e.type === 'crash' && e.stable && e.crashesInWindow === 0));
    assert.equal(events.filter((e) => e.type === 'crash-loop').length, 0);
  });

  test('a stable child that keeps crashing on its own (exit 1, 15 s after ready) backs off up to backoff.maxMs, never a restart storm', () => {
    const { sup, clock, last, events } = setup();
    sup.start();
    for (let i = 0; i < 8; i++) {
      last().ready();
      clock.advance(15_000);
      last().exit(1, null);
      assert.equal(sup.state, 'backoff', `death ${i + 1}: never a crash loop (it ran stably), never a restart storm`);
      const delay = events.flatMap((e) => (e.type === 'backoff' ? [e.delayMs] : [])).at(-1)!;
      clock.advance(delay);
    }
    assert.deepEqual(
      events.flatMap((e) => (e.type === 'backoff' ? [e.delayMs] : [])),
      [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000],
      'escalating to the cap: only healthyResetMs (60 s) of running resets it',
    );
    assert.equal(events.filter((e) => e.type === 'crash-loop').length, 0);
  });

  test('a child that dies young counts: one ms short of stableRunMs backs off and loops as before', () => {
    const { sup, clock, last, events } = setup();
    sup.start();
    const delays = [500, 1000, 2000, 4000];
    for (const [i, d] of delays.entries()) {
      last().ready();
      clock.advance(DEFAULT_SUPERVISOR_OPTIONS.stableRunMs - 1);
      last().exit(null, 'SIGKILL');
      assert.equal(sup.state, 'backoff');
      const crash = events.filter((e) => e.type === 'crash').at(-1);
      assert.deepEqual(crash && crash.type === 'crash' ? [crash.stable, crash.crashesInWindow] : [], [false, i + 1]);
      clock.advance(d);
    }
    last().ready();
    clock.advance(DEFAULT_SUPERVISOR_OPTIONS.stableRunMs - 1);
    last().exit(null, 'SIGKILL');
    assert.equal(sup.state, 'crash-loop');
  });

  /** Five children that exit before ready, each restarted after its backoff: a crash loop. */
  function dieYoungIntoCrashLoop(sup: ReturnType<typeof setup>['sup'], clock: ReturnType<typeof setup>['clock'], last: ReturnType<typeof setup>['last']): void {
    sup.start();
    for (const d of [500, 1000, 2000, 4000]) {
      last().exit(1, null);
      clock.advance(d);
    }
    last().exit(1, null);
    assert.equal(sup.state, 'crash-loop');
  }

  test('children that die before ready make a crash loop, retried every minute at most', () => {
    const { sup, clock, last, events } = setup();
    assert.ok(DEFAULT_SUPERVISOR_OPTIONS.slowRetryMs <= 60_000, 'the requirement is recovery within 2 minutes');
    dieYoungIntoCrashLoop(sup, clock, last);
    assert.deepEqual(
      events.flatMap((e) => (e.type === 'crash-loop' ? [e.retryInMs] : [])),
      [DEFAULT_SUPERVISOR_OPTIONS.slowRetryMs],
    );
    clock.advance(DEFAULT_SUPERVISOR_OPTIONS.slowRetryMs - 1);
    assert.equal(sup.state, 'crash-loop');
    clock.advance(1);
    assert.equal(sup.state, 'starting');
  });

  test('a stable run ends a crash loop: its death restarts at the first step, a young death after it loops again', () => {
    const { sup, clock, last, events } = setup({ slowRetryMs: 60_000 });
    dieYoungIntoCrashLoop(sup, clock, last);
    clock.advance(60_000);
    last().ready();
    clock.advance(10_000);
    last().exit(null, 'SIGKILL');
    assert.equal(sup.state, 'backoff');
    assert.equal(events.flatMap((e) => (e.type === 'backoff' ? [e.delayMs] : [])).at(-1), 500);
    clock.advance(500);
    // Still five young deaths in the window: the guard trips again at once.
    last().exit(1, null);
    assert.equal(sup.state, 'crash-loop');
  });

  test('a hang is judged by the run before its last heartbeat, not by the silence before the kill', () => {
    const { sup, clock, last, crashes, events } = setup();
    sup.start();
    // Ready at 0, heartbeats until 4 s, declared hung at 14 s: ran 4 s, a young death.
    last().ready();
    clock.advance(5_000);
    last().autoHeartbeat = false;
    clock.advance(9_000);
    assert.equal(crashes.at(-1)?.reason, 'hung');
    const delays = () => events.flatMap((e) => (e.type === 'backoff' ? [e.delayMs] : []));
    assert.deepEqual(delays(), [500]);
    clock.advance(500);
    // Ready, answering for 12 s, then silent: a stable death, not counted towards a crash loop (its
    // own hang still backs off: only a kill from outside restarts at the first step).
    last().ready();
    clock.advance(13_000);
    last().autoHeartbeat = false;
    clock.advance(10_000);
    assert.equal(crashes.length, 2);
    const judged = events.flatMap((e) => (e.type === 'crash' ? [{ stable: e.stable, inWindow: e.crashesInWindow }] : []));
    assert.deepEqual(judged, [{ stable: false, inWindow: 1 }, { stable: true, inWindow: 1 }]);
    assert.deepEqual(delays(), [500, 1000]);
  });

  test('invalid options are rejected', () => {
    const launch = () => fakeChild(1).handle;
    assert.throws(() => createSupervisor({ launch, heartbeatTimeoutMs: 0 }), RangeError);
    assert.throws(() => createSupervisor({ launch, backoff: { factor: 0.5 } }), RangeError);
    assert.throws(() => createSupervisor({ launch, crashLoop: { windowMs: Number.NaN } }), RangeError);
    assert.throws(() => createSupervisor({ launch, stableRunMs: -1 }), RangeError);
  });
});
