import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Fifo } from '../../../src/indexer/extract/fifo.js';

// A full collection on demand, to see what the queue still keeps reachable.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

test('first in, first out, across compactions', () => {
  const q = new Fifo<number>();
  const out: number[] = [];
  for (let i = 0; i < 5000; i++) {
    q.push(i);
    if (i % 3 === 0) out.push(q.shift()!);
  }
  while (q.length) out.push(q.shift()!);
  assert.deepEqual(out, Array.from({ length: 5000 }, (_, i) => i));
  assert.equal(q.shift(), undefined);
});

test('drain returns what is left, in order, and empties the queue', () => {
  const q = new Fifo<string>();
  for (const x of ['a', 'b', 'c', 'd']) q.push(x);
  q.shift();
  assert.deepEqual(q.drain(), ['b', 'c', 'd']);
  assert.equal(q.length, 0);
});

test('a taken item is no longer kept reachable by the queue (its job may hold a document text)', async () => {
  const q = new Fifo<{ text: string }>();
  const refs: WeakRef<object>[] = [];
  // Fewer than the compaction threshold, with one item left queued: the old slots must still go.
  for (let i = 0; i < 50; i++) {
    const job = { text: 'x'.repeat(10_000) + i };
    refs.push(new WeakRef(job));
    q.push(job);
  }
  for (let i = 0; i < 49; i++) q.shift();
  await new Promise((r) => setImmediate(r));
  gc();
  const alive = refs.filter((r) => r.deref() !== undefined).length;
  assert.equal(alive, 1, `${alive} items still reachable; only the one still queued should be`);
  assert.equal(q.shift()!.text.endsWith('49'), true);
});
