import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdleRelease } from '../../../src/indexer/service/idle-release.js';

function clocked(idleMs: number) {
  let t = 1_000;
  let idle = true;
  const released: number[] = [];
  const r = new IdleRelease({ idleMs, isIdle: () => idle, release: () => released.push(t), now: () => t });
  return { r, released, advance: (ms: number) => (t += ms), setIdle: (v: boolean) => (idle = v) };
}

test('memory is released once after the quiet time, not before, and not again until new activity', () => {
  const c = clocked(30_000);
  c.advance(29_999);
  assert.equal(c.r.tick(), false);
  c.advance(1);
  assert.equal(c.r.tick(), true);
  c.advance(60_000);
  assert.equal(c.r.tick(), false, 'one release per idle spell');
  assert.equal(c.released.length, 1);
  c.r.activity();
  c.advance(10_000);
  assert.equal(c.r.tick(), false);
  c.advance(20_000);
  assert.equal(c.r.tick(), true);
  assert.equal(c.r.count, 2);
});

test('never while work is in hand: the quiet time counts from when it ends', () => {
  const c = clocked(5_000);
  c.setIdle(false);
  c.advance(60_000);
  assert.equal(c.r.tick(), false);
  c.setIdle(true);
  c.advance(4_000);
  assert.equal(c.r.tick(), false, 'busy until just now');
  c.advance(1_000);
  assert.equal(c.r.tick(), true);
});

test('idleMs 0 turns it off', () => {
  const c = clocked(0);
  c.advance(1e9);
  assert.equal(c.r.tick(), false);
  assert.equal(c.released.length, 0);
});
