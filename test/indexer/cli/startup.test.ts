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
  /** Resolved module URLs, relative to the repository (node: built-ins left out). */
  modules: string[];
}

async function traced(args: string[]): Promise<Traced> {
  const file = path.join(tmpDir('owlet-trace-'), 'modules.txt');
  const r = await runOwlet(args, { env: { NODE_OPTIONS: `--require ${TRACE_CJS} --import ${TRACE_HOOK}`, OWLET_MODULE_TRACE: file } });
  const urls = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
  const modules = [...new Set(urls.filter((u) => u.startsWith('file:')).map((u) => path.relative(repoRoot, new URL(u).pathname)))].sort();
  return { code: r.code, stdout: r.stdout, stderr: r.stderr, modules };
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
  // Only commander among the packages.
  assert.deepEqual(packagesIn(version.modules), ['commander']);

  const help = await traced(['--help']);
  assert.equal(help.code, 0, help.stderr);
  // The help still lists every command, with the options that live in their definitions.
  for (const c of ['index', 'search', 'serve', 'run', 'status', 'errors', 'open', 'key', 'audit', 'doctor', 'backup', 'update']) assert.match(help.stdout, new RegExp(`^  ${c}\\b`, 'm'), c);
  assertLight(help, '--help', [/cli\/actions\//]);
  const sub = await traced(['backup', '--help']);
  assert.match(sub.stdout, /restore/);
  assertLight(sub, 'backup --help', [/commands\/backup-actions/]);
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
  } finally {
    child.kill('SIGTERM');
    await waitExit(child, 15_000);
  }

  // Stopped: the same search answers from the index on disk, the same way.
  const offline = await traced(['search', 'tokenstartup', '--json', '--data-dir', data]);
  assert.equal(offline.code, 0, offline.stderr);
  assert.equal((JSON.parse(offline.stdout) as { total: number }).total, 2);
  assert.ok(offline.modules.some((m) => m.endsWith('cli/actions/search-index.js')), 'searched on disk');
  // Reading the index needs SQLite, but nothing of indexing or serving.
  assertLight({ ...offline, modules: offline.modules.filter((m) => !/better-sqlite3|keyring|zod|stemmers|franc-min/.test(m)) }, 'search without a service', [
    /dist\/indexer\/(index|extract|crawl|watch|http|health|audit)\//,
    // the config schema composes these features' settings; nothing else of them
    /dist\/indexer\/(backup|metrics|update)\/(?!settings\.js|signals\.js)/,
    /node_modules\/(fastify|@hyzyla|@parcel|prom-client)\//,
  ]);
});
