import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Server } from 'node:net';
import { acceptPause } from '../../../src/indexer/host/accept-pause.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';

/** A server's listening state and calls (the real socket hand-back is tested in standby.test.ts). */
class FakeServer extends EventEmitter {
  listening = true;
  calls: string[] = [];
  close(cb?: () => void) {
    this.calls.push('close');
    this.listening = false;
    cb?.();
    return this;
  }
  listen(opts: { handle: unknown }, cb: () => void) {
    this.calls.push(`listen ${String(opts.handle)}`);
    this.listening = true;
    cb();
    return this;
  }
}

function setup(answer: () => Promise<{ handle: object; host: string; port: number } | Error>) {
  const server = new FakeServer();
  const timers: { fn: () => void; ms: number }[] = [];
  const lost: string[] = [];
  let asked = 0;
  const gate = acceptPause({
    server: server as unknown as Server,
    requestSocket: () => {
      asked++;
      return answer();
    },
    log: nullLogger,
    maxPauseMs: 5_000,
    onLost: (why) => lost.push(why),
    setTimer: (fn, ms) => (timers.push({ fn, ms }), {}),
    clearTimer: () => undefined,
  });
  return { server, gate, timers, lost, asked: () => asked };
}

const socket = { handle: { toString: () => 'h2' }, host: '127.0.0.1', port: 1 };

test('a pause closes the socket once; resume takes it back from the host and listens on it', async () => {
  const s = setup(async () => socket);
  s.gate.pause('recovery');
  s.gate.pause('again');
  assert.equal(s.gate.paused, true);
  await s.gate.resume('index back');
  assert.equal(s.gate.paused, false);
  assert.deepEqual(s.server.calls, ['close', 'listen h2']);
  assert.equal(s.asked(), 1);
  await s.gate.resume('nothing to do');
  assert.equal(s.asked(), 1, 'resuming when not paused asks for nothing');
});

test('answers given while paused close their connection; afterwards keep-alive is left alone', async () => {
  const s = setup(async () => socket);
  const res = () => ({ shouldKeepAlive: true });
  const during = res();
  s.gate.pause('recovery');
  s.server.emit('request', {}, during);
  await s.gate.resume('back');
  const afterwards = res();
  s.server.emit('request', {}, afterwards);
  assert.deepEqual([during.shouldKeepAlive, afterwards.shouldKeepAlive], [false, true]);
});

test('a pause ends by itself at its time limit, recovered or not', async () => {
  const s = setup(async () => socket);
  s.gate.pause('recovery');
  assert.deepEqual(s.timers.map((t) => t.ms), [5_000]);
  s.timers[0]!.fn();
  await new Promise((r) => setImmediate(r));
  assert.equal(s.gate.paused, false);
  assert.deepEqual(s.server.calls, ['close', 'listen h2']);
});

test('a socket the host does not send back is reported lost (the host then restarts the service)', async () => {
  const s = setup(async () => new Error('the host did not send the listening socket within 10 s'));
  s.gate.pause('recovery');
  await s.gate.resume('back');
  assert.deepEqual(s.lost, ['the host did not send the listening socket within 10 s']);
  assert.equal(s.gate.paused, false);
});

test('a server that is not listening is not paused', () => {
  const s = setup(async () => socket);
  s.server.listening = false;
  s.gate.pause('recovery');
  assert.equal(s.gate.paused, false);
  assert.deepEqual(s.server.calls, []);
});

test('a stop during a pause closes the gate: the recovery that ends later does not listen again', async () => {
  const s = setup(async () => socket);
  s.gate.pause('recovery');
  s.gate.close();
  await s.gate.resume('index back');
  s.timers[0]?.fn();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(s.server.calls, ['close']);
  assert.equal(s.asked(), 0);
});

test('a socket that arrives after the stop began is closed, not listened on', async () => {
  let release: () => void = () => undefined;
  let closedHandle = false;
  const late = { handle: { close: () => (closedHandle = true), toString: () => 'late' }, host: '127.0.0.1', port: 1 };
  const s = setup(() => new Promise((r) => (release = () => r(late))));
  s.gate.pause('recovery');
  const resumed = s.gate.resume('index back');
  s.gate.close();
  release();
  await resumed;
  assert.deepEqual(s.server.calls, ['close']);
  assert.equal(closedHandle, true);
});

test('the index detached again while the socket comes back: paused again once listening', async () => {
  let release: () => void = () => undefined;
  const s = setup(() => new Promise((r) => (release = () => r(socket))));
  s.gate.pause('first recovery');
  const resumed = s.gate.resume('index back');
  s.gate.pause('second recovery');
  release();
  await resumed;
  assert.equal(s.gate.paused, true);
  assert.deepEqual(s.server.calls, ['close', 'listen h2', 'close']);
});
