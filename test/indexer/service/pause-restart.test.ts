// A pause survives a restart (#13): "for 1 hour / until tomorrow" keeps its end time and "until
// resumed" holds, through a relaunch, `owlet run` restarting a SIGKILLed child, and a SIGKILL of
// everything. The saved pause is a private file in the data folder, written atomically.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { saveConfig } from '../../../src/indexer/config/load.js';
import { defaultConfig } from '../../../src/indexer/config/schema.js';
import { createLogger, nullLogger, type Logger } from '../../../src/indexer/log/logger.js';
import { ServiceHost } from '../../../src/indexer/service/host.js';
import type { PauseTimers } from '../../../src/indexer/service/pause-schedule.js';
import { PAUSE_FILE } from '../../../src/indexer/service/pause-store.js';
import { OwletService } from '../../../src/indexer/service/service.js';
import type { StatusReport } from '../../../src/shared/api.js';
import { fetchAuthed } from '../../helpers/auth.js';
import { startOwlet, waitExit } from '../../helpers/cli.js';
import { tmpDir, waitFor, writeTree } from '../../helpers/tmp.js';

function manualClock(start: number) {
  let now = start;
  const pending = new Map<number, { at: number; cb: () => void }>();
  let next = 1;
  const timers: PauseTimers = {
    now: () => now,
    setTimeout: (cb, ms) => (pending.set(next, { at: now + ms, cb }), next++),
    clearTimeout: (h) => void pending.delete(h as number),
  };
  return {
    timers,
    advance(ms: number) {
      now += ms;
      for (const [id, t] of [...pending]) if (t.at <= now) (pending.delete(id), t.cb());
    },
    get now() {
      return now;
    },
  };
}

function hostOn(data: string, timers: PauseTimers, log: Logger = nullLogger): ServiceHost {
  const host = new ServiceHost({ dataDir: data, log, create: (hooks) => new OwletService({ dataDir: data, log: nullLogger, watch: false, ...hooks }), pauseTimers: timers });
  host.adopt(host.open());
  return host;
}

test('a restarted service host stays paused until the saved time, then resumes by itself; "until resumed" holds until resumed', async () => {
  const data = tmpDir('owlet-pause-restart-');
  saveConfig(data, { ...defaultConfig(), roots: [tmpDir('owlet-pause-root-')] });
  const clock = manualClock(Date.now());
  const file = path.join(data, PAUSE_FILE);

  let host = hostOn(data, clock.timers);
  await host.start();
  const until = clock.now + 3_600_000;
  host.pause(until);
  assert.ok(fs.existsSync(file), 'the pause is saved');
  if (process.platform !== 'win32') assert.equal(fs.statSync(file).mode & 0o777, 0o600, 'owner-only');
  await host.stop();
  assert.ok(fs.existsSync(file), 'stopping keeps the saved pause');

  // Restarted half an hour later: still paused, with the same end time.
  clock.advance(1_800_000);
  host = hostOn(data, clock.timers);
  await host.start();
  let s = host.status();
  assert.deepEqual([s.paused, s.pausedBecause, s.pausedUntil], [true, ['user'], new Date(until).toISOString()]);
  clock.advance(1_800_000);
  s = host.status();
  assert.equal(s.paused, false, 'resumed at the saved time');
  assert.equal(fs.existsSync(file), false, 'an ended pause is forgotten');

  host.pause(); // until resumed
  await host.stop();
  clock.advance(30 * 86_400_000);
  host = hostOn(data, clock.timers);
  await host.start();
  assert.deepEqual([host.status().paused, host.status().pausedUntil], [true, undefined], '"until resumed" outlives any time');
  host.resume();
  assert.equal(fs.existsSync(file), false, 'resume forgets the pause');
  await host.stop();
  host = hostOn(data, clock.timers);
  await host.start();
  assert.equal(host.status().paused, false);

  // A pause that ended while the service was stopped: indexing runs, the file is gone.
  host.pause(clock.now + 60_000);
  await host.stop();
  clock.advance(120_000);
  host = hostOn(data, clock.timers);
  await host.start();
  assert.equal(host.status().paused, false);
  assert.equal(fs.existsSync(file), false);
  await host.stop();

  // A damaged file is reported in the log and dropped; indexing runs.
  fs.writeFileSync(file, '{"version":1,"until":"soon"');
  const lines: string[] = [];
  host = hostOn(data, clock.timers, createLogger({ write: (l) => void lines.push(l) }, { component: 'test' }));
  await host.start();
  assert.equal(host.status().paused, false);
  assert.ok(lines.some((l) => l.includes('the saved pause was unreadable')), lines.join(''));
  assert.equal(fs.existsSync(file), false);
  await host.stop();

  // A pause file a newer Owlet wrote (a rolled-back update) is not this version's to delete.
  fs.writeFileSync(file, '{"version":2,"until":null,"reason":"meeting"}');
  lines.length = 0;
  host = hostOn(data, clock.timers, createLogger({ write: (l) => void lines.push(l) }, { component: 'test' }));
  await host.start();
  assert.equal(host.status().paused, false);
  assert.ok(lines.some((l) => l.includes('the saved pause cannot be read now and is kept')), lines.join(''));
  assert.ok(fs.existsSync(file), 'kept for the version that wrote it');
  await host.stop();
});

async function statusOf(data: string): Promise<StatusReport & { url: string }> {
  const info = JSON.parse(fs.readFileSync(path.join(data, 'service.json'), 'utf8')) as { url: string };
  const r = await fetchAuthed(data, `${info.url}/api/v1/status`);
  if (r.status !== 200) throw new Error(`status ${r.status}`);
  return { ...((await r.json()) as StatusReport), url: info.url };
}
const servicePid = (data: string) => (JSON.parse(fs.readFileSync(path.join(data, 'service.json'), 'utf8')) as { pid: number }).pid;

test('a real service: a timed pause holds through SIGKILLs (child restarted by owlet run, then everything) and ends by itself at its time', async () => {
  const data = tmpDir('owlet-pause-kill-');
  const root = tmpDir('owlet-pause-kill-root-');
  writeTree(root, { 'a.txt': 'alpha owl', 'b.md': '# beta owl' });
  saveConfig(data, { ...defaultConfig(), roots: [root] });
  const sup = startOwlet(['run', '--data-dir', data]);
  let serve: ReturnType<typeof startOwlet> | null = null;
  try {
    const first = await waitFor(() => statusOf(data).then((s) => (s.ready ? s : null)), 60_000, 'the service under owlet run');
    const firstPid = servicePid(data);
    // Long enough to outlive two restarts on a loaded machine, short enough to watch it end.
    const until = new Date(Date.now() + 40_000);
    const r = await fetchAuthed(data, `${first.url}/api/v1/index/pause`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ until: until.toISOString() }) });
    assert.equal(r.status, 200);

    process.kill(firstPid, 'SIGKILL');
    const second = await waitFor(async () => (servicePid(data) !== firstPid ? statusOf(data).then((s) => (s.ready ? s : null)) : null), 60_000, 'the child restarted by the supervisor');
    assert.ok(Date.now() < until.getTime(), 'the restart came before the deadline (else this test proves nothing)');
    assert.deepEqual([second.paused, second.pausedBecause, second.pausedUntil], [true, ['user'], until.toISOString()], 'the restarted child is still paused');

    // Everything killed: the supervisor, then its child.
    const childPid = servicePid(data);
    process.kill(sup.pid!, 'SIGKILL');
    await waitExit(sup, 10_000);
    try {
      process.kill(childPid, 'SIGKILL');
    } catch {
      /* it noticed its supervisor go and left by itself */
    }
    await waitFor(() => {
      try {
        process.kill(childPid, 0);
        return false;
      } catch {
        return true;
      }
    }, 10_000, 'the child gone');
    serve = startOwlet(['serve', '--data-dir', data, '--port', '0']);
    const third = await waitFor(async () => (servicePid(data) === serve!.pid ? statusOf(data).then((s) => (s.ready ? s : null)) : null), 60_000, 'owlet serve on the same data folder');
    assert.ok(Date.now() < until.getTime(), 'started again before the deadline');
    assert.deepEqual([third.paused, third.pausedUntil], [true, until.toISOString()], 'still paused after a SIGKILL of everything');

    const resumed = await waitFor(() => statusOf(data).then((s) => (s.paused ? null : s)), until.getTime() - Date.now() + 20_000, 'the pause to end by itself');
    assert.ok(Date.now() >= until.getTime() - 1000, 'not before its time');
    assert.equal(resumed.pausedUntil, undefined);
    assert.equal(fs.existsSync(path.join(data, PAUSE_FILE)), false);

    // "Until resumed" survives a SIGKILL too.
    await fetchAuthed(data, `${resumed.url}/api/v1/index/pause`, { method: 'POST' });
    serve.kill('SIGKILL');
    await waitExit(serve, 10_000);
    serve = startOwlet(['serve', '--data-dir', data, '--port', '0']);
    const fourth = await waitFor(async () => (servicePid(data) === serve!.pid ? statusOf(data).then((s) => (s.ready ? s : null)) : null), 60_000, 'owlet serve again');
    assert.deepEqual([fourth.paused, fourth.pausedBecause, fourth.pausedUntil], [true, ['user'], undefined]);
  } finally {
    if (sup.exitCode === null && sup.signalCode === null) {
      sup.kill('SIGTERM');
      await waitExit(sup, 30_000);
    }
    if (serve) {
      serve.kill('SIGTERM');
      await waitExit(serve, 30_000);
    }
  }
});
