// "Pause indexing for 1 hour / until tomorrow" (#13): the pause route takes an optional `until`,
// validated; the service host resumes by itself at that time and shows it in the status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { saveConfig } from '../../../src/indexer/config/load.js';
import { defaultConfig } from '../../../src/indexer/config/schema.js';
import { buildServer, type ServiceApi } from '../../../src/indexer/http/server.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';
import { ServiceHost } from '../../../src/indexer/service/host.js';
import { PauseSchedule, type PauseTimers } from '../../../src/indexer/service/pause-schedule.js';
import { OwletService } from '../../../src/indexer/service/service.js';
import type { StatusReport } from '../../../src/shared/api.js';
import { tmpDir } from '../../helpers/tmp.js';

/** A clock the test moves by hand; `fire()` runs every timer that is due. */
function manualTimers(start = Date.parse('2026-12-02T10:00:00Z')) {
  let now = start;
  const pending = new Map<number, { at: number; cb: () => void }>();
  let next = 1;
  const timers: PauseTimers = {
    now: () => now,
    setTimeout: (cb, ms) => {
      const id = next++;
      pending.set(id, { at: now + ms, cb });
      return id;
    },
    clearTimeout: (h) => void pending.delete(h as number),
  };
  return {
    timers,
    pending,
    advance(ms: number) {
      now += ms;
      for (const [id, t] of [...pending]) {
        if (t.at <= now) {
          pending.delete(id);
          t.cb();
        }
      }
    },
    get now() {
      return now;
    },
  };
}

test('a timed pause resumes once at its time; a new pause or a resume replaces the timer', () => {
  const clock = manualTimers();
  let resumed = 0;
  const s = new PauseSchedule(() => resumed++, clock.timers);
  s.set(clock.now + 3_600_000);
  assert.equal(s.until, clock.now + 3_600_000);
  clock.advance(3_599_000);
  assert.equal(resumed, 0, 'not before its time');
  clock.advance(1_000);
  assert.equal(resumed, 1);
  assert.equal(s.until, null, 'nothing is scheduled after it ran');

  s.set(clock.now + 1000);
  s.set(null); // "until resumed" replaces the timed pause
  assert.equal(clock.pending.size, 0);
  clock.advance(5000);
  assert.equal(resumed, 1, 'an untimed pause never resumes by itself');

  s.set(clock.now + 1000);
  s.clear(); // the user resumed by hand
  clock.advance(5000);
  assert.equal(resumed, 1);
});

function fakeApi(): ServiceApi & { pauses: (number | undefined)[] } {
  const pauses: (number | undefined)[] = [];
  return {
    pauses,
    isReady: () => true,
    status: () => ({ state: 'idle' }) as StatusReport,
    search: () => ({ total: 0, hits: [] }),
    problems: () => [],
    pause: (until) => void pauses.push(until),
    resume: () => {},
    rescan: async () => {},
  };
}

test('POST /api/v1/index/pause takes an optional "until" from 1 s to 7 days ahead and refuses anything else', async () => {
  const api = fakeApi();
  const app = buildServer(api);
  const post = (body?: unknown) =>
    app.inject({ method: 'POST', url: '/api/v1/index/pause', ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) }) });

  const plain = await post();
  assert.equal(plain.statusCode, 200);
  assert.deepEqual(plain.json(), { paused: true, until: null });

  const inHour = new Date(Date.now() + 3_600_000);
  const timed = await post({ until: inHour.toISOString() });
  assert.equal(timed.statusCode, 200);
  assert.equal(timed.json().until, inHour.toISOString());
  // An offset is accepted and means the same instant.
  const tomorrow = new Date(Date.now() + 20 * 3_600_000);
  const withOffset = tomorrow.toISOString().replace('Z', '+00:00');
  assert.equal((await post({ until: withOffset })).statusCode, 200);
  assert.deepEqual(api.pauses, [undefined, inHour.getTime(), tomorrow.getTime()]);

  for (const [body, re] of [
    [{ until: 'tomorrow' }, /ISO 8601/],
    [{ until: new Date(Date.now() - 60_000).toISOString() }, /future/],
    [{ until: new Date(Date.now() + 8 * 86_400_000).toISOString() }, /7 days/],
    [{ until: 12345 }, /until/],
    [{ minutes: 60 }, /minutes/],
  ] as const) {
    const r = await post(body);
    assert.equal(r.statusCode, 400, JSON.stringify(body));
    assert.equal(r.json().error.code, 'OWL_ERR_ARG_INVALID');
    assert.match(r.json().error.message, re);
  }
  assert.equal(api.pauses.length, 3, 'a refused request pauses nothing');
  await app.close();
});

test('the service host resumes a timed pause by itself and shows pausedUntil in the status meanwhile', async () => {
  const data = tmpDir('owlet-pause-data-');
  const root = tmpDir('owlet-pause-root-');
  saveConfig(data, { ...defaultConfig(), roots: [root] });
  const clock = manualTimers(Date.now());
  const host = new ServiceHost({ dataDir: data, log: nullLogger, create: (hooks) => new OwletService({ dataDir: data, log: nullLogger, watch: false, ...hooks }), pauseTimers: clock.timers });
  host.adopt(host.open());
  try {
    const until = clock.now + 3_600_000;
    host.pause(until);
    let s = host.status();
    assert.equal(s.paused, true);
    assert.deepEqual(s.pausedBecause, ['user']);
    assert.equal(s.pausedUntil, new Date(until).toISOString());

    clock.advance(3_600_000);
    s = host.status();
    assert.equal(s.paused, false, 'indexing resumed at the time asked for');
    assert.equal(s.pausedUntil, undefined);

    host.pause(); // until resumed
    clock.advance(10 * 86_400_000);
    assert.equal(host.status().paused, true, 'an untimed pause holds');
    assert.equal(host.status().pausedUntil, undefined);
    host.resume();
    assert.equal(host.status().paused, false);
    host.pause(clock.now + 60_000);
    assert.equal(clock.pending.size, 1);
  } finally {
    await host.stop();
  }
  assert.equal(clock.pending.size, 0, 'stopping leaves no timer behind');
});
