#!/usr/bin/env node
// Build step after `tsc`: compiles the dashboard (browser target) and copies its static files.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const src = path.join(root, 'src', 'renderer');
const out = path.join(root, 'dist', 'renderer');
fs.mkdirSync(out, { recursive: true });
if (fs.readdirSync(src).some((f) => f.endsWith('.ts'))) {
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.renderer.json'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
for (const f of fs.readdirSync(src)) {
  if (/\.(html|css|svg|png|ico)$/.test(f)) fs.copyFileSync(path.join(src, f), path.join(out, f));
}
