/**
 * npm run bench:update — the downtime a user sees when Owlet updates itself.
 *
 * A real `owlet run` installed under a temporary prefix (version 1.0.0, cut from this build), a real
 * feed on 127.0.0.1 offering 1.1.0, and a prober that asks /health/ready and runs a search at 10 Hz
 * each while `owlet update apply` installs it. Prints the engine's measured downtime, the longest
 * run of failed probes as the user saw it, how many separate outages there were (one per update),
 * and every failed probe. Target: under 5 s of downtime per update in total.
 *
 *   npm run bench:update -- [--files 200] [--rounds 1]
 */
import crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { layoutOf, switchCurrent } from '../src/indexer/update/layout.js';
import { cutRelease } from '../src/indexer/update/release/release.js';
import { unpackRelease } from '../src/indexer/update/unpack.js';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const FILES = arg('files', 200);
const ROUNDS = arg('rounds', 1);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'owlet-bench-update-'));
const key = crypto.generateKeyPairSync('ed25519').privateKey;

function fixture(name: string): string {
  const root = path.join(work, `src-${name}`);
  fs.mkdirSync(path.join(root, 'bin'), { recursive: true });
  fs.cpSync(path.join(repo, 'dist'), path.join(root, 'dist'), { recursive: true, filter: (f) => !f.endsWith('.map') });
  fs.copyFileSync(path.join(repo, 'package.json'), path.join(root, 'package.json'));
  fs.copyFileSync(path.join(repo, 'bin', 'owlet.js'), path.join(root, 'bin', 'owlet.js'));
  return root;
}

async function serveDir(dir: string): Promise<{ url: string; close(): void }> {
  const server = http.createServer((req, res) => {
    const file = path.join(dir, path.basename(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
    if (!fs.existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-length': fs.statSync(file).size });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

function owlet(args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, OWLET_ALLOW_ROOT: '1' } });
    let stdout = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.on('close', (code) => resolve({ code, stdout }));
  });
}

interface Probe {
  at: number;
  kind: 'ready' | 'search';
  ok: boolean;
  detail: string;
}

/** Two probes every 100 ms (ready and a search) until stopped; each with a 1 s deadline. */
function prober(url: string, token: string): { stop(): Promise<Probe[]> } {
  const probes: Probe[] = [];
  let running = true;
  const one = async (kind: Probe['kind'], route: string, headers: Record<string, string>) => {
    const at = Date.now();
    try {
      const r = await fetch(`${url}${route}`, { headers, signal: AbortSignal.timeout(1000) });
      probes.push({ at, kind, ok: r.status === 200, detail: String(r.status) });
    } catch (e) {
      probes.push({ at, kind, ok: false, detail: (e as Error).name });
    }
  };
  const loop = (async () => {
    while (running) {
      const t = Date.now();
      await Promise.all([one('ready', '/health/ready', {}), one('search', '/api/v1/search?q=benchword&limit=5', { authorization: `Bearer ${token}` })]);
      await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - t))));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return probes;
    },
  };
}

/** The runs of failed probes as the user saw them: how many separate outages, the longest, and their sum. */
function outages(probes: Probe[]): { count: number; longest: number; total: number } {
  const spans: number[] = [];
  let since: number | null = null;
  for (const p of [...probes].sort((a, b) => a.at - b.at)) {
    if (!p.ok) since ??= p.at;
    else if (since !== null) {
      spans.push(p.at - since);
      since = null;
    }
  }
  return { count: spans.length, longest: Math.max(0, ...spans), total: spans.reduce((a, b) => a + b, 0) };
}

async function main(): Promise<void> {
  if (!fs.existsSync(path.join(repo, 'dist', 'indexer'))) throw new Error('run "npm run build" first (npm run bench:update does)');
  const prefix = path.join(work, 'prefix');
  const l = layoutOf(prefix);
  fs.mkdirSync(l.versionsDir, { recursive: true });
  fs.symlinkSync(path.join(repo, 'node_modules'), path.join(prefix, 'node_modules'), 'dir');
  const base = await cutRelease({ root: fixture('base'), version: '1.0.0', key, outDir: path.join(work, 'base-feed'), schemaVersion: 0 });
  await unpackRelease(l, '1.0.0', base.artifact);
  switchCurrent(l, '1.0.0');
  const feedDir = path.join(work, 'feed');
  fs.mkdirSync(feedDir);
  const feed = await serveDir(feedDir);
  const docs = path.join(work, 'docs');
  fs.mkdirSync(docs);
  for (let i = 0; i < FILES; i++) fs.writeFileSync(path.join(docs, `doc${i}.txt`), `document ${i} benchword ${'filler text '.repeat(50)}`);
  const data = path.join(work, 'data');
  fs.mkdirSync(data, { mode: 0o700 });
  fs.writeFileSync(path.join(data, 'config.json'), JSON.stringify({ roots: [docs], updates: { feedUrl: feed.url, checkHours: 0, healthGate: { readySeconds: 60, stableSeconds: 3 } }, security: { http: { rateLimitPerMinute: 100_000 } } }));

  const bin = path.join(l.current, 'bin', 'owlet.js');
  const sup = spawn(process.execPath, [bin, 'run', '--data-dir', data], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OWLET_ALLOW_ROOT: '1' } });
  let out = '';
  sup.stdout.on('data', (d) => (out += d));
  sup.stderr.on('data', (d) => (out += d));
  try {
    const deadline = Date.now() + 90_000;
    let url: string | undefined;
    while (!url && Date.now() < deadline) {
      url = /serving on (http:\/\/\S+)/.exec(out)?.[1];
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!url) throw new Error(`owlet run did not serve within 90 s:\n${out}`);
    const token = fs.readFileSync(path.join(data, 'api-token'), 'utf8').trim();
    console.log(`owlet run serving ${url}; ${FILES} documents; probing /health/ready and a search at 10 Hz each`);
    const rows: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const version = `1.${round}.0`;
      await cutRelease({ root: fixture(`r${round}`), version, key, outDir: feedDir, schemaVersion: 0 });
      const p = prober(url, token);
      await new Promise((r) => setTimeout(r, 2000));
      const moves = (out.match(/for the move/g) ?? []).length;
      const movesBefore = moves;
      const applied = await owlet([bin, 'update', 'apply', '--json', '--data-dir', data]);
      // The new version's supervisor takes the service over (one outage, reported as the move); wait
      // for its report in case apply returned first, then keep probing a little so a second outage
      // (there should be none) would show.
      const moveDeadline = Date.now() + 60_000;
      while ((out.match(/for the move/g) ?? []).length === moves && Date.now() < moveDeadline) await new Promise((r) => setTimeout(r, 100));
      const moveMs = [...out.matchAll(/service was down (\d+) ms for the move/g)].slice(moves).map((m) => m[1])[0];
      await new Promise((r) => setTimeout(r, 3000));
      const probes = await p.stop();
      const r = JSON.parse(applied.stdout) as { outcome: string; to: string | null; downtimeMs?: number };
      const failed = probes.filter((x) => !x.ok);
      const seen = outages(probes);
      const movesSeen = [...out.matchAll(/service was down (\d+) ms for the move/g)].length - movesBefore;
      rows.push(`| ${round} | ${r.outcome} ${r.to ?? ''} | ${r.downtimeMs ?? '–'} ms | ${moveMs ?? '–'} ms (${movesSeen} move${movesSeen === 1 ? '' : 's'}) | ${seen.count} | ${seen.longest} ms | ${seen.total} ms | ${failed.length} of ${probes.length} | ${seen.total < 5000 && (r.downtimeMs ?? Infinity) < 5000 ? 'met' : 'MISSED'} |`);
      for (const f of failed.slice(0, 20)) console.log(`  failed probe at +${f.at - probes[0]!.at} ms: ${f.kind} → ${f.detail}`);
      if (failed.length > 20) console.log(`  … and ${failed.length - 20} more`);
    }
    console.log('\n| round | outcome | downtime (engine) | supervisor move outage | outages seen by the prober | longest | total | failed probes | target: total < 5 s |');
    console.log('|---|---|---|---|---|---|---|---|---|');
    for (const row of rows) console.log(row);
  } finally {
    sup.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 3000));
    if (sup.exitCode === null) sup.kill('SIGKILL');
    feed.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
