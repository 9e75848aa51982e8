import fs from 'node:fs';
import path from 'node:path';

/**
 * Copies a runnable Owlet tree into a staging folder: the launcher, the compiled code, the
 * package.json (with the release's version), and only the production node_modules of the built
 * checkout, native modules included as already built (never rebuilt from source per release).
 * Production packages are those package-lock.json does not mark `dev`; the staging copy is the
 * pruned one, the checkout is left as it was.
 */
export interface StageOptions {
  /** The checkout (or fixture tree) to release: bin/, dist/, package.json, package-lock.json, node_modules/. */
  root: string;
  version: string;
  /** The index schema this release's code uses, recorded as `owletSchemaVersion` (rollback restores a backup when it differs). */
  schemaVersion?: number;
  /** Top-level entries copied besides node_modules; package.json is always rewritten. */
  entries?: string[];
  dest: string;
}

const DEFAULT_ENTRIES = ['bin', 'dist', 'README.md', 'LICENSE'];

/** Build leftovers of node-gyp that a running module never loads. */
function isBuildLeftover(rel: string): boolean {
  return /(^|\/)build\/(Release|Debug)\/(obj\.target|obj|\.deps)(\/|$)/.test(rel) || /(^|\/)build\/deps(\/|$)/.test(rel) || /\.(o|a|obj|lib|pdb|tlog)$/.test(rel);
}

function copyTree(src: string, dst: string, skip: (rel: string) => boolean): void {
  fs.cpSync(src, dst, {
    recursive: true,
    dereference: false,
    verbatimSymlinks: true,
    filter: (from) => {
      const rel = path.relative(src, from).split(path.sep).join('/');
      return rel === '' || !skip(rel);
    },
  });
}

/** package-lock v2/v3 `packages` paths of production dependencies (nested ones included). */
export function productionPackages(root: string): string[] {
  const lockFile = path.join(root, 'package-lock.json');
  if (!fs.existsSync(lockFile)) return [];
  const lock = JSON.parse(fs.readFileSync(lockFile, 'utf8')) as { packages?: Record<string, { dev?: boolean; link?: boolean }> };
  if (!lock.packages) throw new Error(`${lockFile} has no "packages" map; regenerate it with npm 7 or newer`);
  return Object.entries(lock.packages)
    .filter(([p, meta]) => p.startsWith('node_modules/') && !meta.dev && !meta.link)
    .map(([p]) => p)
    .filter((p) => fs.existsSync(path.join(root, p)))
    .sort();
}

export function stageTree(o: StageOptions): { files: number; bytes: number } {
  fs.mkdirSync(o.dest, { recursive: true });
  for (const e of o.entries ?? DEFAULT_ENTRIES) {
    const src = path.join(o.root, e);
    if (!fs.existsSync(src)) continue;
    copyTree(src, path.join(o.dest, e), (rel) => rel.endsWith('.map') || rel.endsWith('.tsbuildinfo'));
  }
  const pkg = JSON.parse(fs.readFileSync(path.join(o.root, 'package.json'), 'utf8')) as Record<string, unknown>;
  pkg.version = o.version;
  if (o.schemaVersion !== undefined) pkg.owletSchemaVersion = o.schemaVersion;
  delete pkg.devDependencies;
  delete pkg.scripts;
  fs.writeFileSync(path.join(o.dest, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
  for (const p of productionPackages(o.root)) {
    const hasGyp = fs.existsSync(path.join(o.root, p, 'binding.gyp'));
    // Nested node_modules are their own lock entries (copied when production, skipped when dev).
    copyTree(path.join(o.root, p), path.join(o.dest, p), (rel) => rel === 'node_modules' || rel.startsWith('node_modules/') || (hasGyp && isBuildLeftover(rel)));
  }
  return measure(o.dest);
}

export function measure(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    files++;
    bytes += fs.statSync(path.join(e.parentPath, e.name)).size;
  }
  return { files, bytes };
}
