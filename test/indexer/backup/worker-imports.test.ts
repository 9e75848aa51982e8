import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

/**
 * A thread is started for every backup, and what it loads at start is paid by every backup, the
 * small daily increment included (issue 16: an increment ≤ 5% of a full backup's time). Loading
 * the manifest schema (zod) and the restore machinery (migrations, every stemmer, language
 * detection) was most of an increment's time, so the worker loads them only for the tasks that
 * restore (verify, unpack). This follows the worker's static imports (not `import type`, not
 * `import()`), through the whole source tree.
 */

const SRC = path.resolve(fileURLToPath(new URL('../../../src/indexer/backup/', import.meta.url)));

function staticImports(file: string): string[] {
  const src = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of src.matchAll(/^(?:import|export)\s+(?!type\s)[^'"]*?from\s*['"]([^'"]+)['"]|^import\s+['"]([^'"]+)['"]/gm)) out.push((m[1] ?? m[2])!);
  return out;
}

function graph(entry: string): Set<string> {
  const seen = new Set<string>();
  const walk = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of staticImports(file)) {
      if (!spec.startsWith('.')) {
        seen.add(spec);
        continue;
      }
      walk(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
    }
  };
  walk(entry);
  return seen;
}

test('the backup worker starts without the schema library or the restore machinery', () => {
  const loaded = graph(path.join(SRC, 'worker.ts'));
  const rel = [...loaded].map((f) => (path.isAbsolute(f) ? path.relative(path.join(SRC, '..'), f) : f));
  assert.ok(rel.includes('backup/dump.ts') && rel.includes('backup/signed-manifest.ts'), `the graph was followed: ${rel.join(', ')}`);
  for (const heavy of ['zod', 'franc-min', 'backup/manifest.ts', 'backup/load.ts', 'backup/chain.ts', 'store/migrations.ts', 'text/stem.ts']) {
    assert.equal(rel.includes(heavy), false, `the worker loads ${heavy} at start; import it inside the task that needs it`);
  }
  assert.equal(rel.some((f) => f.startsWith('@orama/stemmers')), false, 'no stemmer at start');
});
