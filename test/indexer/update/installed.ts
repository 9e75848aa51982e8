import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { TestKey } from './helpers.js';
import { readServiceInfo } from '../../../src/indexer/service/service-file.js';
import { layoutOf, switchCurrent, type InstallLayout } from '../../../src/indexer/update/layout.js';
import { cutRelease } from '../../../src/indexer/update/release/release.js';
import { unpackRelease } from '../../../src/indexer/update/unpack.js';
import { repoRoot } from '../../helpers/cli.js';
import { waitFor } from '../../helpers/tmp.js';

/**
 * A real installation for the end-to-end update tests: PREFIX/versions/<v> unpacked from releases
 * cut from this built checkout (bin/ and dist/ only; PREFIX/node_modules links to the checkout's
 * modules so no version packs 60 MB), and `owlet run` started from PREFIX/current in its own
 * process group so a test can SIGKILL the whole tree (launcher, supervisor, service) at once.
 */
export function fixtureRoot(work: string, name: string, binOverride?: string): string {
  const root = path.join(work, `src-${name}`);
  fs.mkdirSync(path.join(root, 'bin'), { recursive: true });
  fs.cpSync(path.join(repoRoot, 'dist'), path.join(root, 'dist'), { recursive: true, filter: (f) => !f.endsWith('.map') });
  fs.copyFileSync(path.join(repoRoot, 'package.json'), path.join(root, 'package.json'));
  fs.writeFileSync(path.join(root, 'bin', 'owlet.js'), binOverride ?? fs.readFileSync(path.join(repoRoot, 'bin', 'owlet.js')));
  // The real launcher is CommonJS by bin/package.json (a release ships bin/ whole); an override
  // here is a module, as the root package.json makes it.
  if (binOverride === undefined) fs.copyFileSync(path.join(repoRoot, 'bin', 'package.json'), path.join(root, 'bin', 'package.json'));
  return root;
}

export interface Install {
  prefix: string;
  l: InstallLayout;
  dataDir: string;
  bin: string;
}

/** PREFIX with `version` installed and current, and a data folder whose config points at `feedUrl`. */
export async function installBase(work: string, key: TestKey, o: { version: string; feedUrl: string; updates?: Record<string, unknown> }): Promise<Install> {
  const prefix = path.join(work, 'prefix');
  const l = layoutOf(prefix);
  fs.mkdirSync(l.versionsDir, { recursive: true });
  fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(prefix, 'node_modules'), 'dir');
  const base = await cutRelease({ root: fixtureRoot(work, 'base'), version: o.version, key: key.privateKey, outDir: path.join(work, 'base-feed'), schemaVersion: 0 });
  await unpackRelease(l, o.version, base.artifact);
  switchCurrent(l, o.version);
  const dataDir = path.join(work, 'data');
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(dataDir, 'config.json'), JSON.stringify({ updates: { feedUrl: o.feedUrl, checkHours: 0, ...o.updates } }));
  return { prefix, l, dataDir, bin: path.join(l.current, 'bin', 'owlet.js') };
}

export interface Running {
  proc: ChildProcess;
  url: string;
  output: () => string;
}

/** `PREFIX/current/bin/owlet.js run`, in its own process group; resolves once it serves. */
export async function startRun(inst: Install, env: NodeJS.ProcessEnv = {}, timeoutMs = 90_000): Promise<Running> {
  let output = '';
  const proc = spawn(process.execPath, [inst.bin, 'run', '--data-dir', inst.dataDir], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, OWLET_ALLOW_ROOT: '1', ...env } });
  proc.stdout!.on('data', (d) => (output += d));
  proc.stderr!.on('data', (d) => (output += d));
  const url = await waitFor(() => /serving on (http:\/\/\S+)/.exec(output)?.[1], timeoutMs, `owlet run to serve\n${output}`);
  return { proc, url, output: () => output };
}

/** SIGKILL to the whole tree (the group the test started), then wait until the launcher is gone. */
export async function killTree(r: Running): Promise<void> {
  try {
    process.kill(-r.proc.pid!, 'SIGKILL');
  } catch {
    /* already gone */
  }
  if (r.proc.exitCode === null && r.proc.signalCode === null) await new Promise((res) => r.proc.once('exit', res));
  // The service may take a moment to be reaped; its data lock must be free before the next start.
  await waitFor(() => {
    try {
      process.kill(-r.proc.pid!, 0);
      return false;
    } catch {
      return true;
    }
  }, 10_000, 'every process of the killed tree to be gone');
}

/** Graceful stop (SIGTERM to the launcher), bounded; SIGKILL to the group if it does not finish. */
export async function stopRun(r: Running | undefined): Promise<void> {
  if (!r || r.proc.exitCode !== null || r.proc.signalCode !== null) return;
  r.proc.kill('SIGTERM');
  const done = await Promise.race([new Promise((res) => r.proc.once('exit', () => res(true))), new Promise((res) => setTimeout(() => res(false), 10_000))]);
  if (!done) await killTree(r);
}

export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OWLET_ALLOW_ROOT: '1', ...env } });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => {
      c.kill('SIGKILL');
      reject(new Error(`${args.join(' ')} did not finish in ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    c.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

export async function ready(url: string): Promise<boolean> {
  try {
    const r = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(1000) });
    return r.status === 200;
  } catch {
    return false;
  }
}

/** What an update must leave alone when it is refused: the link, the kept trees, no leftovers. */
export function snapshotInstall(inst: Install): { current: string; versions: string[]; downloads: string[]; servicePid: number | undefined; supervisorPid: number | undefined } {
  const info = readServiceInfo(inst.dataDir);
  return {
    current: fs.readlinkSync(inst.l.current),
    versions: fs.readdirSync(inst.l.versionsDir).sort(),
    downloads: fs.existsSync(inst.l.downloads) ? fs.readdirSync(inst.l.downloads).sort() : [],
    servicePid: info?.pid,
    supervisorPid: info?.supervisorPid,
  };
}
