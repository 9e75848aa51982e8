import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

/** The self-healing table in the operations guide is backed by tests that exist, and its share is counted right. */

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const doc = fs.readFileSync(path.join(root, 'docs/operations/self-healing.md'), 'utf8');
const rows = doc
  .split('\n')
  .filter((l) => l.startsWith('| ') && !l.startsWith('| failure') && !l.startsWith('| ---'))
  .map((l) => l.split(' | ').map((c) => c.replace(/^\| |\s\|$/g, '').trim()));

test('every row names a test file and a test title that exist', () => {
  assert.ok(rows.length >= 20, `the table has ${rows.length} rows`);
  for (const r of rows) {
    const proof = r[3] ?? '';
    const m = /^(test\/\S+\.test\.ts) › (.+)$/.exec(proof);
    assert.ok(m, `row "${r[0]}" names no test: ${proof}`);
    const file = path.join(root, m[1]!);
    assert.ok(fs.existsSync(file), `${m[1]} does not exist`);
    const title = m[2]!.replace(/\s*\|\s*$/, '');
    assert.ok(fs.readFileSync(file, 'utf8').includes(title), `${m[1]} has no test titled "${title}"`);
  }
});

test('the share of failures that heal themselves is stated as counted', () => {
  const healed = rows.filter((r) => r[1] === 'yes').length;
  const m = /Heals itself: (\d+) of (\d+) rows = \*\*([\d.]+)%\*\*/.exec(doc);
  assert.ok(m, 'the document states the share');
  assert.equal(Number(m[1]), healed);
  assert.equal(Number(m[2]), rows.length);
  assert.equal(Number(m[3]), Math.round((healed / rows.length) * 1000) / 10);
});
