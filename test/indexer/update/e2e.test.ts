import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { readServiceInfo } from '../../../src/indexer/service/service-file.js';
import { currentVersion } from '../../../src/indexer/update/layout.js';
import { cutRelease } from '../../../src/indexer/update/release/release.js';
import { readState } from '../../../src/indexer/update/state.js';
import { tmpDir, waitFor } from '../../helpers/tmp.js';
import { makeKey, serveFeed } from './helpers.js';
import { fixtureRoot, installBase, ready, runCli as run, startRun, stopRun, type Running } from './installed.js';

/**
 * End to end: a real `owlet run` installed under PREFIX, a real feed on 127.0.0.1, real releases cut
 * from this built checkout (test/indexer/update/installed.ts). The refusals and the kills at each
 * step have their own files (refusals.e2e.test.ts, kill.e2e.test.ts).
 */
const key = makeKey();
const work = tmpDir();

describe('headless update end to end (real owlet run, real feed)', () => {
  const feedDir = path.join(work, 'feed');
  let sup: Running | undefined;
  after(() => stopRun(sup));

  it('installs a good release through `owlet update apply`, then rolls back one that exits at start', { timeout: 240_000 }, async () => {
    fs.mkdirSync(feedDir, { recursive: true });
    const feed = await serveFeed(feedDir);
    const inst = await installBase(work, key, { version: '1.0.0', feedUrl: feed.url, updates: { healthGate: { readySeconds: 60, stableSeconds: 5 } } });
    const { l, dataDir, bin, prefix } = inst;
    sup = await startRun(inst);
    const url = sup.url;
    const output = () => sup!.output();

    // Nothing on the feed yet: the check is refused clearly, nothing changes.
    const none = await run([bin, 'update', 'check', '--json', '--data-dir', dataDir]);
    assert.equal(JSON.parse(none.stdout).status, 'refused');

    await cutRelease({ root: fixtureRoot(work, 'good'), version: '1.1.0', key: key.privateKey, outDir: feedDir, schemaVersion: 0 });
    const check = await run([bin, 'update', 'check', '--json', '--data-dir', dataDir]);
    assert.equal(JSON.parse(check.stdout).status, 'available', check.stdout + check.stderr);

    const before = readServiceInfo(dataDir);
    const applied = await run([bin, 'update', 'apply', '--json', '--data-dir', dataDir]);
    const r = JSON.parse(applied.stdout);
    assert.equal(r.outcome, 'installed', applied.stdout + applied.stderr + output());
    assert.equal(r.to, '1.1.0');
    assert.ok(r.downtimeMs < 30_000, `downtime ${r.downtimeMs} ms`);
    process.stdout.write(`# e2e update downtime: ${r.downtimeMs} ms\n`);
    assert.equal(currentVersion(l), '1.1.0');
    assert.ok(await ready(url), 'the updated service answers ready on the same URL when apply returns');
    // One outage: the new version's supervisor (loaded in standby before the old one stopped its
    // service) started the new service and ran the health gate itself, so when apply returns the
    // supervisor already runs 1.1.0 and the service was replaced once, not twice.
    const updateStatus = async () => JSON.parse((await run([bin, 'update', 'status', '--json', '--data-dir', dataDir])).stdout) as { supervisor: { version: string; pid: number } | null };
    const sv = (await updateStatus()).supervisor;
    assert.equal(sv?.version, '1.1.0', 'the supervisor runs 1.1.0 as soon as apply returns' + output());
    assert.match(fs.readFileSync(`/proc/${sv!.pid}/cmdline`, 'utf8'), /(current|versions\/1\.1\.0)\/bin\/owlet\.js/);
    const moves = output().match(/service was down (\d+) ms for the move/g) ?? [];
    assert.equal(moves.length, 1, `exactly one outage (one move) for the update\n${output()}`);
    process.stdout.write(`# e2e supervisor move downtime: ${/(\d+)/.exec(moves[0]!)![1]} ms\n`);
    assert.doesNotMatch(output(), /cold start/, 'the next supervisor was loaded in standby before the old one stopped its service');
    assert.equal(output().match(/owlet: supervisor moving to 1\.1\.0/g)?.length, 1, 'one hand-over, none after the gate');
    const info = readServiceInfo(dataDir);
    assert.ok(info && info.pid !== undefined, 'service.json names the running service');
    assert.notEqual(info.pid, before?.pid, 'the service was replaced');
    assert.equal(info.supervisorPid, sv!.pid, 'service.json names the new supervisor');
    assert.equal(info.url.replace(/\/$/, ''), url.replace(/\/$/, ''));
    const servicePids = [...output().matchAll(/Owlet supervisor (\d+) serving on/g)].map((m) => m[1]);
    assert.equal(servicePids.length, 2, `two supervisors served (1.0.0, then 1.1.0): one hand-over\n${output()}`);

    // A release whose service exits at start: refused by the health gate, rolled back.
    await cutRelease({ root: fixtureRoot(work, 'broken', 'process.exit(1);\n'), version: '1.2.0', key: key.privateKey, outDir: feedDir, schemaVersion: 0 });
    const broken = await run([bin, 'update', 'apply', '--json', '--data-dir', dataDir]);
    const b = JSON.parse(broken.stdout);
    assert.equal(b.outcome, 'rolled-back', broken.stdout + broken.stderr + output());
    assert.equal(currentVersion(l), '1.1.0');
    assert.ok(await waitFor(() => ready(url), 30_000, 'the previous version to serve again'));
    assert.deepEqual(readState(prefix).bad.map((x) => x.version), ['1.2.0']);
    assert.equal(sup.proc.exitCode, null, 'owlet run kept running through the rollback');
    // A release whose supervisor loads but whose service crashes during its gate: the new
    // supervisor rolls back (current, bad version, alert) and hands the service back to 1.1.0's.
    await cutRelease({
      root: fixtureRoot(work, 'crashes', "import { main } from '../dist/indexer/cli/main.js';\nif (process.argv[2] === 'serve') setTimeout(() => process.exit(3), 4000);\nmain(process.argv.slice(2)).then((code) => { process.exitCode = code; });\n"),
      version: '1.3.0',
      key: key.privateKey,
      outDir: feedDir,
      schemaVersion: 0,
    });
    const crashing = await run([bin, 'update', 'apply', '--json', '--data-dir', dataDir]);
    const c = JSON.parse(crashing.stdout);
    assert.equal(c.outcome, 'rolled-back', crashing.stdout + crashing.stderr + output());
    assert.ok(['crashed', 'not-ready'].includes(c.reason), c.reason);
    assert.equal(currentVersion(l), '1.1.0');
    assert.equal((await updateStatus()).supervisor?.version, '1.1.0', 'the previous version runs the supervisor again');
    assert.ok(await waitFor(() => ready(url), 30_000, 'the previous version to serve again after the hand-back'));
    assert.deepEqual(readState(prefix).bad.map((x) => x.version), ['1.2.0', '1.3.0']);
    assert.equal(sup.proc.exitCode, null, 'owlet run kept running through the hand-back');
    assert.match(output(), /ALERT update-rolled-back: 1\.3\.0 failed its health gate/);
    assert.equal(output().match(/owlet: supervisor moving to 1\.3\.0/g)?.length, 1, 'handed to 1.3.0 once');
    assert.equal(output().match(/owlet: supervisor moving to 1\.1\.0/g)?.length, 2, "1.3.0's supervisor handed back to 1.1.0's");

    // The service shows the update state in its status, and the rollback reached its alert engine
    // (through the data folder's alert inbox, drained at the next sample).
    const token = fs.readFileSync(path.join(dataDir, 'api-token'), 'utf8').trim();
    const api = async (route: string) => (await fetch(`${url}${route}`, { headers: { authorization: `Bearer ${token}` } })).json() as Promise<Record<string, unknown>>;
    const status = (await api('/api/v1/status')) as { update?: { running: string; installed: boolean; bad: string[]; lastResult: { outcome: string } | null } };
    assert.equal(status.update?.running, '1.1.0');
    assert.equal(status.update?.installed, true);
    assert.deepEqual(status.update?.bad, ['1.2.0', '1.3.0']);
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
    assert.ok(await waitFor(async () => (await updateStatus()).supervisor?.version === '1.0.0', 60_000, 'the supervisor to move back to 1.0.0 too'), output());
    assert.ok(await waitFor(() => ready(url), 30_000, 'the rolled-back version to serve'));
  });
});
