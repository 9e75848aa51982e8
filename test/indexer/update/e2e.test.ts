import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { readServiceInfo } from '../../../src/indexer/service/service-file.js';
import { currentVersion, layoutOf, switchCurrent } from '../../../src/indexer/update/layout.js';
import { cutRelease } from '../../../src/indexer/update/release/release.js';
import { readState } from '../../../src/indexer/update/state.js';
import { unpackRelease } from '../../../src/indexer/update/unpack.js';
import { repoRoot } from '../../helpers/cli.js';
import { tmpDir, waitFor } from '../../helpers/tmp.js';
import { makeKey, serveFeed } from './helpers.js';

/**
 * End to end: a real `owlet run` installed under PREFIX, a real feed on 127.0.0.1, real releases cut
 * from this built checkout. The release fixtures ship bin/ and dist/ only; PREFIX/node_modules links
 * to the checkout's modules, so every version resolves its dependencies without packing 60 MB each.
 */
const key = makeKey();
const work = tmpDir();

function fixtureRoot(name: string, binOverride?: string): string {
  const root = path.join(work, `src-${name}`);
  fs.mkdirSync(path.join(root, 'bin'), { recursive: true });
  fs.cpSync(path.join(repoRoot, 'dist'), path.join(root, 'dist'), { recursive: true, filter: (f) => !f.endsWith('.map') });
  fs.copyFileSync(path.join(repoRoot, 'package.json'), path.join(root, 'package.json'));
  fs.writeFileSync(path.join(root, 'bin', 'owlet.js'), binOverride ?? fs.readFileSync(path.join(repoRoot, 'bin', 'owlet.js')));
  return root;
}

async function run(args: string[], timeoutMs = 120_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OWLET_ALLOW_ROOT: '1' } });
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

async function ready(url: string): Promise<boolean> {
  try {
    const r = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(1000) });
    return r.status === 200;
  } catch {
    return false;
  }
}

describe('headless update end to end (real owlet run, real feed)', () => {
  const prefix = path.join(work, 'prefix');
  const l = layoutOf(prefix);
  const feedDir = path.join(work, 'feed');
  const dataDir = path.join(work, 'data');
  let sup: ChildProcess | undefined;
  let output = '';
  after(async () => {
    if (sup && sup.exitCode === null) {
      sup.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 3000));
      if (sup.exitCode === null) sup.kill('SIGKILL');
    }
  });

  it('installs a good release through `owlet update apply`, then rolls back one that exits at start', { timeout: 240_000 }, async () => {
    fs.mkdirSync(l.versionsDir, { recursive: true });
    fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(prefix, 'node_modules'), 'dir');
    const base = await cutRelease({ root: fixtureRoot('base'), version: '1.0.0', key: key.privateKey, outDir: path.join(work, 'base-feed'), schemaVersion: 0 });
    await unpackRelease(l, '1.0.0', base.artifact);
    switchCurrent(l, '1.0.0');
    const feed = await serveFeed(feedDir);
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(dataDir, 'config.json'), JSON.stringify({ updates: { feedUrl: feed.url, checkHours: 0, healthGate: { readySeconds: 60, stableSeconds: 3 } } }));

    const bin = path.join(l.current, 'bin', 'owlet.js');
    sup = spawn(process.execPath, [bin, 'run', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OWLET_ALLOW_ROOT: '1' } });
    sup.stdout!.on('data', (d) => (output += d));
    sup.stderr!.on('data', (d) => (output += d));
    const url = await waitFor(() => /serving on (http:\/\/\S+)/.exec(output)?.[1], 90_000, `owlet run to serve\n${output}`);

    // Nothing on the feed yet: the check is refused clearly, nothing changes.
    const none = await run([bin, 'update', 'check', '--json', '--data-dir', dataDir]);
    assert.equal(JSON.parse(none.stdout).status, 'refused');

    await cutRelease({ root: fixtureRoot('good'), version: '1.1.0', key: key.privateKey, outDir: feedDir, schemaVersion: 0 });
    const check = await run([bin, 'update', 'check', '--json', '--data-dir', dataDir]);
    assert.equal(JSON.parse(check.stdout).status, 'available', check.stdout + check.stderr);

    const applied = await run([bin, 'update', 'apply', '--json', '--data-dir', dataDir]);
    const r = JSON.parse(applied.stdout);
    assert.equal(r.outcome, 'installed', applied.stdout + applied.stderr + output);
    assert.equal(r.to, '1.1.0');
    assert.ok(r.downtimeMs < 30_000, `downtime ${r.downtimeMs} ms`);
    process.stdout.write(`# e2e update downtime: ${r.downtimeMs} ms\n`);
    assert.equal(currentVersion(l), '1.1.0');
    assert.ok(await waitFor(() => ready(url), 30_000, 'the updated service to answer ready on the same URL'));
    // The supervisor itself moves to the new code (the launcher restarts it from PREFIX/current),
    // on the same port, and service.json names the service it now supervises.
    const updateStatus = async () => JSON.parse((await run([bin, 'update', 'status', '--json', '--data-dir', dataDir])).stdout) as { supervisor: { version: string; pid: number } | null };
    let sv: { version: string; pid: number } | null = null;
    assert.ok(await waitFor(async () => (sv = (await updateStatus()).supervisor)?.version === '1.1.0', 60_000, 'the supervisor to run 1.1.0'), JSON.stringify(sv) + output);
    assert.match(fs.readFileSync(`/proc/${sv!.pid}/cmdline`, 'utf8'), /current\/bin\/owlet\.js/);
    assert.ok(await waitFor(() => ready(url), 30_000, 'the service back on the same URL after the supervisor moved'));
    const info = readServiceInfo(dataDir);
    assert.ok(info && info.pid !== undefined, 'service.json names the running service');
    assert.equal(info.supervisorPid, sv!.pid, 'service.json names the new supervisor');
    assert.equal(info.url.replace(/\/$/, ''), url.replace(/\/$/, ''));

    // A release whose service exits at start: refused by the health gate, rolled back.
    await cutRelease({ root: fixtureRoot('broken', 'process.exit(1);\n'), version: '1.2.0', key: key.privateKey, outDir: feedDir, schemaVersion: 0 });
    const broken = await run([bin, 'update', 'apply', '--json', '--data-dir', dataDir]);
    const b = JSON.parse(broken.stdout);
    assert.equal(b.outcome, 'rolled-back', broken.stdout + broken.stderr + output);
    assert.equal(currentVersion(l), '1.1.0');
    assert.ok(await waitFor(() => ready(url), 30_000, 'the previous version to serve again'));
    assert.deepEqual(readState(prefix).bad.map((x) => x.version), ['1.2.0']);
    assert.equal(sup.exitCode, null, 'the supervisor kept running through the rollback');
    // The service shows the update state in its status, and the rollback reached its alert engine
    // (through the data folder's alert inbox, drained at the next sample).
    const token = fs.readFileSync(path.join(dataDir, 'api-token'), 'utf8').trim();
    const api = async (route: string) => (await fetch(`${url}${route}`, { headers: { authorization: `Bearer ${token}` } })).json() as Promise<Record<string, unknown>>;
    const status = (await api('/api/v1/status')) as { update?: { running: string; installed: boolean; bad: string[]; lastResult: { outcome: string } | null } };
    assert.equal(status.update?.running, '1.1.0');
    assert.equal(status.update?.installed, true);
    assert.deepEqual(status.update?.bad, ['1.2.0']);
    assert.equal(status.update?.lastResult?.outcome, 'rolled-back');
    let alerts: { rule: string; runbook: string }[] = [];
    assert.ok(
      await waitFor(async () => {
        alerts = ((await api('/api/v1/alerts')) as { active?: { rule: string; runbook: string }[] }).active ?? [];
        return alerts.some((a) => a.rule === 'update-rolled-back');
      }, 30_000, 'the update-rolled-back alert on the service'),
      JSON.stringify(alerts),
    );
    assert.equal(alerts.find((a) => a.rule === 'update-rolled-back')!.runbook, 'docs/operations/runbooks/alerts/update-rolled-back.md');

    // And `owlet update rollback` returns to the kept previous version.
    const back = await run([bin, 'update', 'rollback', '--json', '--data-dir', dataDir]);
    assert.equal(JSON.parse(back.stdout).outcome, 'rolled-back', back.stdout + back.stderr);
    assert.equal(currentVersion(l), '1.0.0');
    assert.ok(await waitFor(() => ready(url), 30_000, 'the rolled-back version to serve'));
  });
});
