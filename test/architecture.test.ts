import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Layering by runtime, enforced (VS Code does this with a lint rule): the indexer runs as plain
 * Node, so it may not import Electron; the renderer is a web page, so it may not import Node or
 * anything outside itself; shared contracts depend on nothing but themselves.
 */
const root = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (/\.(ts|mts|js|mjs)$/.test(e.name)) out.push(p);
  }
  return out;
}

function importsOf(file: string): string[] {
  const src = fs.readFileSync(file, 'utf8');
  const specs: string[] = [];
  for (const m of src.matchAll(/(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    specs.push((m[1] ?? m[2] ?? m[3])!);
  }
  return specs;
}

test('nothing under src/indexer imports electron', () => {
  const offenders = sources(path.join(root, 'src/indexer')).filter((f) => importsOf(f).some((s) => s === 'electron' || s.startsWith('electron/')));
  assert.deepEqual(offenders.map((f) => path.relative(root, f)), []);
});

test('src/shared imports nothing outside src/shared (and no runtime packages)', () => {
  for (const f of sources(path.join(root, 'src/shared'))) {
    for (const s of importsOf(f)) {
      assert.ok(s.startsWith('./'), `${path.relative(root, f)} imports ${s}`);
    }
  }
});

test('the renderer imports neither Node built-ins nor electron nor code outside src/renderer', () => {
  for (const f of sources(path.join(root, 'src/renderer'))) {
    for (const s of importsOf(f)) {
      assert.ok(s.startsWith('./'), `${path.relative(root, f)} imports ${s}`);
    }
  }
});

test('the layering check itself sees imports (guards against a vacuous pass)', () => {
  const sample = path.join(root, 'src/indexer/cli/main.ts');
  assert.ok(importsOf(sample).includes('commander'));
});
