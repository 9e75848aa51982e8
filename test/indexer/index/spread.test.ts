import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spreadOut } from '../../../src/indexer/index/indexer.js';

test('spreadOut keeps every file once, in order within each kind, with the heavy ones spread evenly', () => {
  const files = [...Array.from({ length: 6 }, (_, i) => `p${i}.pdf`), ...Array.from({ length: 12 }, (_, i) => `h${i}.html`)];
  const out = spreadOut(files, (f) => f.endsWith('.pdf'));
  assert.deepEqual([...out].sort(), [...files].sort());
  assert.deepEqual(out.filter((f) => f.endsWith('.pdf')), files.slice(0, 6));
  assert.deepEqual(out.filter((f) => f.endsWith('.html')), files.slice(6));
  const at = out.map((f, i) => (f.endsWith('.pdf') ? i : -1)).filter((i) => i >= 0);
  for (let k = 1; k < at.length; k++) assert.equal(at[k]! - at[k - 1]!, 3, `one PDF every third file: ${out.join(' ')}`);
  assert.deepEqual(spreadOut(['a.pdf', 'b.pdf'], (f) => f.endsWith('.pdf')), ['a.pdf', 'b.pdf']);
  assert.deepEqual(spreadOut([], () => true), []);
});
