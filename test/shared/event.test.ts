import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DisposableStore, Emitter } from '../../src/shared/event.js';

test('every listener hears an event; disposing one leaves the others subscribed', () => {
  const e = new Emitter<number>();
  const a: number[] = [];
  const b: number[] = [];
  const subA = e.event((n) => a.push(n));
  e.event((n) => b.push(n));
  e.fire(1);
  subA.dispose();
  e.fire(2);
  assert.deepEqual(a, [1]);
  assert.deepEqual(b, [1, 2]);
  assert.equal(e.size, 1);
});

test('the same function subscribed twice is called twice and each subscription disposes alone', () => {
  const e = new Emitter<string>();
  const seen: string[] = [];
  const fn = (s: string) => seen.push(s);
  const one = e.event(fn);
  e.event(fn);
  e.fire('x');
  one.dispose();
  e.fire('y');
  assert.deepEqual(seen, ['x', 'x', 'y']);
});

test('a listener that throws is reported and does not stop the others or the firing code', () => {
  const errors: unknown[] = [];
  const e = new Emitter<number>((err) => errors.push(err));
  const seen: number[] = [];
  e.event(() => {
    throw new Error('listener broke');
  });
  e.event((n) => seen.push(n));
  assert.doesNotThrow(() => e.fire(7));
  assert.deepEqual(seen, [7]);
  assert.equal(errors.length, 1);
  assert.match((errors[0] as Error).message, /listener broke/);
});

test('a listener added while an event fires hears the next one, not the current one', () => {
  const e = new Emitter<number>();
  const late: number[] = [];
  e.event(() => void e.event((n) => late.push(n)));
  e.fire(1);
  assert.deepEqual(late, []);
  e.fire(2);
  assert.deepEqual(late, [2]);
});

test('a DisposableStore disposes everything it holds, once', () => {
  const e = new Emitter<number>();
  const store = new DisposableStore();
  const seen: number[] = [];
  store.add(e.event((n) => seen.push(n)));
  store.add(e.event((n) => seen.push(n * 10)));
  e.fire(1);
  store.dispose();
  store.dispose();
  e.fire(2);
  assert.deepEqual(seen, [1, 10]);
  assert.equal(e.size, 0);
});
