import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { DOCUMENTED, REFERENCE_FILE, loadNotes, render, rows } from '../../scripts/config-reference.js';

/** The configuration reference is generated from the schema; it may neither drift nor leave a key unexplained. */

test('docs/operations/configuration.md is what the schema renders (run "npm run docs:config" after a schema change)', () => {
  assert.equal(fs.readFileSync(REFERENCE_FILE, 'utf8'), render());
});

test('every configuration key has a meaning', () => {
  for (const d of DOCUMENTED) {
    const missing = rows(d.schema, d.sources, loadNotes()).filter((r) => !r.meaning).map((r) => r.key);
    assert.deepEqual(missing, [], `${d.file}: add a schema comment or a docs/operations/config-notes.json entry`);
  }
});

test('the notes name only keys that exist (a renamed key fails here)', () => {
  const keys = new Set(DOCUMENTED.flatMap((d) => rows(d.schema, d.sources, {}).map((r) => r.key)));
  assert.deepEqual(Object.keys(loadNotes()).filter((k) => !keys.has(k)), []);
});

test('the reference shows the real default and limits of a key', () => {
  const r = rows(DOCUMENTED[0]!.schema, DOCUMENTED[0]!.sources, loadNotes()).find((x) => x.key === 'extractors.workers');
  assert.ok(r);
  assert.equal(r.default, '`2`');
  assert.equal(r.limits, '≥ 1, ≤ 16');
});
