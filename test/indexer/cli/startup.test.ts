import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { ServiceInfo } from '../../../src/shared/api.js';
import { repoRoot, runOwlet, startOwlet, waitExit } from '../../helpers/cli.js';
import { tmpDir, waitFor, writeTree } from '../../helpers/tmp.js';

/**
 * Start-up speed as a module graph, not a timing (issue #14): which modules a command loads is
 * what makes `owlet --version` cost Node's start-up or a second. Each command runs as a real
 * process under module-trace.mjs, which lists every module it resolved.
 */

const TRACE_HOOK = path.join(repoRoot, 'test', 'helpers', 'module-trace-register.mjs');
/** CommonJS modules (require, e.g. commander) are listed at exit by this preload. */
const TRACE_CJS = path.join(repoRoot, 'test', 'helpers', 'module-trace-cjs.cjs');

/** Packages that cost tens to hundreds of milliseconds to load, and what each is for. */
const HEAVY = ['zod', 'fastify', 'better-sqlite3-multiple-ciphers', '@napi-rs/keyring', '@hyzyla/pdfium', 'prom-client', '@orama/stemmers', 'franc-min'];

interface Traced {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Every module loaded, relative to the repository (node: built-ins left out): the files read, and the modules run from the bundle named by the file each came from. */
  modules: string[];
  /** The files Node read as modules, relative to the repository. */
  files: string[];
  /** Node's built-in modules loaded (internal ones included). */
  builtins: string[];
}

async function traced(args: string[]): Promise<Traced> {
  const file = path.join(tmpDir('owlet-trace-'), 'modules.txt');
  const r = await runOwlet(args, { env: { NODE_OPTIONS: `--require ${TRACE_CJS} --import ${TRACE_HOOK}`, OWLET_MODULE_TRACE: file } });
  const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
  const files = [...new Set(lines.filter((u) => u.startsWith('file:')).map((u) => path.relative(repoRoot, new URL(u).pathname)))].sort();
  const bundled = lines.filter((l) => l.startsWith('bundled:')).map((l) => l.slice('bundled:'.length));
  const builtins = lines.filter((l) => l.startsWith('builtin:')).map((l) => l.slice('builtin:'.length));
  return { code: r.code, stdout: r.stdout, stderr: r.stderr, modules: [...new Set([...files, ...bundled])].sort(), files, builtins };
}

/**
 * The read-only commands run from the one-file bundle `npm run build` writes (scripts/bundle-cli.mjs):
 * of our own code Node reads bin/owlet.js and dist/cli/read.cjs and nothing else, not the 50 to 80
 * modules of dist/ whose loading cost more than Node's start-up (issue #14).
 */
function assertFromBundle(t: Traced, what: string): void {
  const ours = t.files.filter((m) => !m.startsWith('node_modules/') && !m.startsWith('test/') && m !== 'package.json');
  assert.deepEqual(ours, ['bin/owlet.js', 'dist/cli/read.cjs'], `${what} reads these files of Owlet's`);
}

function packagesIn(modules: string[]): string[] {
  const names = new Set<string>();
  for (const m of modules) {
    const parts = m.split('/');
    const i = parts.lastIndexOf('node_modules');
    if (i < 0) continue;
    names.add(parts[i + 1]!.startsWith('@') ? `${parts[i + 1]}/${parts[i + 2]}` : parts[i + 1]!);
  }
  return [...names].sort();
}

function assertLight(t: Traced, what: string, alsoForbidden: RegExp[] = []): void {
  assert.ok(t.modules.some((m) => m.endsWith('dist/indexer/cli/main.js')), `the trace saw the CLI load (${what}): ${t.modules.join(', ')}`);
  const heavy = packagesIn(t.modules).filter((p) => HEAVY.includes(p));
  assert.deepEqual(heavy, [], `${what} loads ${heavy.join(', ')}`);
  for (const re of alsoForbidden) {
    const hit = t.modules.filter((m) => re.test(m));
    assert.deepEqual(hit, [], `${what} loads ${hit.join(', ')}`);
  }
}

test('--version and --help load commander and the command definitions, nothing that does the work', async () => {
  const version = await traced(['--version']);
  assert.equal(version.code, 0, version.stderr);
  assert.match(version.stdout, /^\d+\.\d+\.\d+/);
  assertLight(version, '--version', [/dist\/indexer\/(store|search|index|extract|http|backup|update|health|audit)\//, /cli\/actions\//]);
  // Only commander among the packages (bundled: no file of node_modules is read).
  assert.deepEqual(packagesIn(version.modules), ['commander']);
  assertFromBundle(version, '--version');
  assert.deepEqual(version.files.filter((m) => m.startsWith('node_modules/')), [], '--version reads no package file');

  const help = await traced(['--help']);
  assert.equal(help.code, 0, help.stderr);
  // The help still lists every command, with the options that live in their definitions.
  for (const c of ['index', 'search', 'serve', 'run', 'status', 'errors', 'open', 'key', 'audit', 'doctor', 'backup', 'update']) assert.match(help.stdout, new RegExp(`^  ${c}\\b`, 'm'), c);
  assertLight(help, '--help', [/cli\/actions\//]);
  assertFromBundle(help, '--help');
  // Every other command runs from dist/ as tsc wrote it (its workers and child processes start from there).
  const sub = await traced(['backup', '--help']);
  assert.match(sub.stdout, /restore/);
  assertLight(sub, 'backup --help', [/commands\/backup-actions/]);
  assert.ok(sub.files.includes('dist/indexer/cli/main.js') && !sub.files.includes('dist/cli/read.cjs'), `backup runs from dist/: ${sub.files.join(', ')}`);
});

test('with a service running, search and status ask it over HTTP: no SQLite, no keys, no schema library', async () => {
  const root = tmpDir('owlet-root-');
  writeTree(root, { 'a.txt': 'the owl hoots tokenstartup', 'b.md': '# Bee\n\nanother tokenstartup here' });
  const data = tmpDir('owlet-data-');
  const child = startOwlet(['serve', '--root', root, '--data-dir', data, '--port', '0']);
  try {
    const info = await waitFor(() => JSON.parse(fs.readFileSync(path.join(data, 'service.json'), 'utf8')) as ServiceInfo, 30_000, 'service.json');
    const token = fs.readFileSync(path.join(data, 'api-token'), 'utf8').trim();
    await waitFor(async () => {
      const r = await fetch(`${info.url}/api/v1/search?q=tokenstartup`, { headers: { Authorization: `Bearer ${token}` } });
      return r.ok && ((await r.json()) as { total: number }).total === 2;
    }, 30_000, 'first pass indexed');

    const s = await traced(['search', 'tokenstartup', '--json', '--data-dir', data]);
    assert.equal(s.code, 0, s.stderr);
    const viaService = JSON.parse(s.stdout) as { total: number; hits: { path: string; snippet: string }[] };
    assert.equal(viaService.total, 2);
    assert.ok(viaService.hits.every((h) => h.snippet.includes('<mark>tokenstartup</mark>')));
    assertLight(s, 'search with a service', [/dist\/indexer\/(store|search|service\/context|security\/(secrets|data-key|keychain|cipher))/]);
    assert.ok(s.modules.some((m) => m.endsWith('cli/actions/service-client.js')), 'went through the service client');
    assertFromBundle(s, 'search with a service');

    // The human form is the same as on disk, and a malformed query is still a usage error (exit 2).
    const human = await traced(['search', 'tokenstartup', '--limit', '1', '--data-dir', data]);
    assert.match(human.stdout, /^2 results\n1\. /);
    const bad = await traced(['search', '"unterminated', '--data-dir', data]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /quote/i);
    assertLight(bad, 'a malformed search with a service');

    const st = await traced(['status', '--json', '--data-dir', data]);
    assert.equal(st.code, 0, st.stderr);
    const status = JSON.parse(st.stdout) as { counts: { indexed: number }; service: { url: string } | null };
    assert.equal(status.counts.indexed, 2);
    assert.equal(status.service?.url, info.url);
    assertLight(st, 'status with a service', [/dist\/indexer\/(store|service\/status)/]);
    assertFromBundle(st, 'status with a service');
  } finally {
    child.kill('SIGTERM');
    await waitExit(child, 15_000);
  }

  // Stopped: the same search answers from the index on disk, the same way.
  const offline = await traced(['search', 'tokenstartup', '--json', '--data-dir', data]);
  assert.equal(offline.code, 0, offline.stderr);
  assert.equal((JSON.parse(offline.stdout) as { total: number }).total, 2);
  assert.ok(offline.modules.some((m) => m.endsWith('cli/actions/search-index.js')), 'searched on disk');
  assertReadsIndexLean(offline, 'search without a service');

  const offStatus = await traced(['status', '--json', '--data-dir', data]);
  assert.equal(offStatus.code, 0, offStatus.stderr);
  const st = JSON.parse(offStatus.stdout) as { counts: { indexed: number }; service: unknown; watcher: { message: string } };
  assert.equal(st.counts.indexed, 2);
  assert.equal(st.service, null);
  assert.equal(st.watcher.message, 'no service running');
  assertReadsIndexLean(offStatus, 'status without a service');
  // Built-ins the read path imports but only some runs call are loaded at their first call (scripts/bundle-cli.mjs):
  // counting what is on disk compresses and hashes nothing and starts no process.
  for (const [t, what, unused] of [[offStatus, 'status', /^(crypto|zlib|child_process)$/], [offline, 'search', /^(crypto|child_process)$/]] as const) {
    assert.ok(t.builtins.includes('fs'), `the trace lists built-ins (${what})`);
    const loaded = t.builtins.filter((b) => unused.test(b));
    assert.deepEqual(loaded, [], `${what} without a service loads node:${loaded.join(', node:')}`);
  }
  // A status counts; it never searches.
  const searching = offStatus.modules.filter((m) => /dist\/indexer\/search\//.test(m));
  assert.deepEqual(searching, [], `status without a service loads ${searching.join(', ')}`);

  // A configuration the fast path cannot vouch for is read by the full loader: same answers, same errors.
  const cfgFile = path.join(data, 'config.json');
  const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(cfgFile, JSON.stringify({ ...cfg, maxFileSizeMb: 10 }), { mode: 0o600 });
  const changed = await traced(['search', 'tokenstartup', '--json', '--data-dir', data]);
  assert.equal(changed.code, 0, changed.stderr);
  assert.equal((JSON.parse(changed.stdout) as { total: number }).total, 2);
  assert.ok(changed.modules.some((m) => m.endsWith('dist/indexer/config/load.js')), 'the full loader read the changed file');
  assertFromBundle(changed, 'search with a configuration the fast path cannot vouch for');
  assert.ok(packagesIn(changed.files).includes('zod'), 'the full loader required the schema library from node_modules');
  fs.writeFileSync(cfgFile, JSON.stringify({ ...cfg, maxFileSizeMb: 'big' }), { mode: 0o600 });
  for (const args of [['search', 'tokenstartup'], ['status']]) {
    const bad = await traced([...args, '--data-dir', data]);
    assert.equal(bad.code, 78, `${args[0]} with an invalid configuration: ${bad.stderr}`);
    assert.match(bad.stderr, /maxFileSizeMb: .*number/i);
  }
});

/**
 * Reading the index without a service (issue #14): SQLite and the stemmer of the configured
 * language (English here), nothing else of weight. Not the schema library (config.json is certainly
 * valid here: quick-config.ts), not the migrations with their language detector, not the other
 * 25 stemmers, not the keychain binding (this data folder's keys are in a key file), and nothing
 * of indexing or serving.
 */
function assertReadsIndexLean(t: Traced, what: string): void {
  assert.ok(t.modules.some((m) => m.endsWith('dist/indexer/cli/main.js')), `the trace saw the CLI load (${what})`);
  assertFromBundle(t, what);
  // Of the packages, only SQLite's native addon and the stemmer are read from node_modules; the rest is in the bundle.
  const read = t.files.filter((m) => m.startsWith('node_modules/') && !/\/build\/Release\/better_sqlite3\.node$|^node_modules\/@orama\/stemmers\/dist\/en\.cjs$/.test(m));
  assert.deepEqual(read, [], `${what} reads these package files`);
  const allowed = ['commander', 'better-sqlite3-multiple-ciphers', 'bindings', 'file-uri-to-path', '@orama/stemmers'];
  const extra = packagesIn(t.modules).filter((p) => !allowed.includes(p));
  assert.deepEqual(extra, [], `${what} loads ${extra.join(', ')}`);
  const stemmers = t.modules.filter((m) => m.includes('node_modules/@orama/stemmers/'));
  assert.ok(stemmers.every((m) => m.endsWith('/dist/en.cjs')), `${what} loads stemmers of languages not configured: ${stemmers.join(', ')}`);
  for (const re of [
    /dist\/indexer\/config\/(load|schema|[a-z-]+-settings)\.js$/,
    /dist\/indexer\/store\/(migrations|languages)\.js$/,
    /dist\/indexer\/service\/(context|service)\.js$/,
    /dist\/indexer\/text\/language\.js$/,
    /dist\/indexer\/(index|extract|crawl|watch|http|health|audit|backup|metrics|update|host)\//,
  ]) {
    const hit = t.modules.filter((m) => re.test(m));
    assert.deepEqual(hit, [], `${what} loads ${hit.join(', ')}`);
  }
}

test('a bundle older than dist/ (a bare tsc ran after the build) is not used: the read-only commands run from dist/ like every other', { timeout: 60_000 }, async () => {
  const main = path.join(repoRoot, 'dist', 'indexer', 'cli', 'main.js');
  const bundle = path.join(repoRoot, 'dist', 'cli', 'read.cjs');
  const was = fs.statSync(main);
  try {
    const later = new Date(fs.statSync(bundle).mtimeMs + 10_000);
    fs.utimesSync(main, was.atime, later);
    const t = await traced(['--version']);
    assert.equal(t.code, 0, t.stderr);
    assert.ok(t.files.includes('dist/indexer/cli/main.js'), `ran from dist/: ${t.files.join(', ')}`);
    assert.ok(!t.files.includes('dist/cli/read.cjs'), 'not from the stale bundle');
  } finally {
    fs.utimesSync(main, was.atime, was.mtime);
  }
  const fresh = await traced(['--version']);
  assertFromBundle(fresh, '--version with a current bundle');
});
