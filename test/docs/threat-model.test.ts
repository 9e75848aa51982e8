import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The threat model names, for each mitigation, the test that proves it ("file.test.ts › *title*",
 * later titles in the same cell or paragraph belong to the file named last). Every such reference
 * must point at a test that exists, so the document cannot drift from the suite.
 */

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const doc = fs.readFileSync(path.join(root, 'docs/security/threat-model.md'), 'utf8');

/** Every (file, title) the document cites; a title ending in "…" is a prefix. */
function citations(text: string): { file: string; title: string }[] {
  const out: { file: string; title: string }[] = [];
  let file: string | null = null;
  const token = /`((?:[\w-]+\/)*[\w.-]+\.test\.ts)`|› \*([^*]+)\*/g;
  for (const m of text.matchAll(token)) {
    if (m[1]) file = m[1];
    else if (m[2] && file) out.push({ file, title: m[2].replace(/\\(.)/g, '$1') });
  }
  return out;
}

test('every test the threat model cites exists, under test/indexer/ or test/', () => {
  const cited = citations(doc);
  assert.ok(cited.length >= 40, `the threat model cites ${cited.length} tests`);
  const missing: string[] = [];
  for (const { file, title } of cited) {
    const candidates = [path.join(root, 'test/indexer', file), path.join(root, 'test', file)];
    const found = candidates.find((f) => fs.existsSync(f));
    if (!found) {
      missing.push(`${file} (no such file)`);
      continue;
    }
    // Test sources escape quotes ('another user\\'s'); an ellipsis inside a title skips words.
    const source = fs.readFileSync(found, 'utf8').replace(/\\(['"`])/g, '$1');
    const parts = title.split('…').map((p) => p.trim()).filter(Boolean);
    let at = 0;
    const ok = parts.every((p) => {
      const i = source.indexOf(p, at);
      if (i < 0) return false;
      at = i + p.length;
      return true;
    });
    if (!ok) missing.push(`${file} › ${title}`);
  }
  assert.deepEqual(missing, [], 'cited tests that do not exist');
});

test('every finding of the audit (#11, points 1 to 15) has a before-and-after row', () => {
  const rows = doc.split('## Findings: before and after')[1]?.split('\n## ')[0] ?? '';
  for (let n = 1; n <= 15; n++) assert.match(rows, new RegExp(`^\\| ${n} \\| `, 'm'), `finding ${n} has no row`);
});
