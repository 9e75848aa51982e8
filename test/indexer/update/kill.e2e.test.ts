import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { readServiceInfo } from '../../../src/indexer/service/service-file.js';
import { currentVersion, installedVersions } from '../../../src/indexer/update/layout.js';
import { cutRelease } from '../../../src/indexer/update/release/release.js';
import { readState } from '../../../src/indexer/update/state.js';
import { tmpDir, waitFor } from '../../helpers/tmp.js';
import { makeKey, serveFeed } from './helpers.js';
import { fixtureRoot, installBase, killTree, ready, runCli, startRun, stopRun, type Install, type Running } from './installed.js';

/**
 * SIGKILL at every step of an update (issue #12): a real installed `owlet run` is killed, whole
 * process tree at once, while `owlet update apply` is in the download, verify, unpack, switch,
 * hand-over and gate steps; `owlet run` started again must come up on a version that works (the old
 * one before the switch, the new one after), with no `.partial` or download left, `current` naming
 * a complete version, `service.json` naming the live service and supervisor, and the interrupted
 * update recorded. The kill lands in its step deterministically: the download step through a feed
 * that stalls mid-package, the others through OWLET_TEST_UPDATE_HOLD (src/indexer/update/
 * test-hold.ts; inert without that variable), which parks the update at the named step.
 *
 * The kill at `switch` lands after the pre-update backup, before `current` moves; the one at
 * `hand-over` after `current` moved and the new version's supervisor started its service, which
 * must then resume the health gate itself. One installation for all steps: each restart after a
 * kill is also the next step's run. Then, on the same installation, a release that never becomes
 * ready is rolled back.
 */
const key = makeKey();
const work = tmpDir();
const feedDir = path.join(work, 'feed');
fs.mkdirSync(feedDir, { recursive: true });
const feed = await serveFeed(feedDir);
const holdFile = path.join(work, 'hold');

describe('SIGKILL during each update step (real owlet run, real feed)', () => {
  let run: Running | undefined;
  after(() => stopRun(run));

  let inst: Install;
  it('starts on a working version, old or new, after a kill in download, verify, unpack, switch, hand-over and gate', { timeout: 300_000 }, async () => {
    inst = await installBase(work, key, { version: '1.0.0', feedUrl: feed.url, updates: { stallSeconds: 60, healthGate: { readySeconds: 60, stableSeconds: 60 } } });
    const rel = await cutRelease({ root: fixtureRoot(work, 'good'), version: '1.1.0', key: key.privateKey, outDir: feedDir, schemaVersion: 0 });
    const pkg = fs.readFileSync(rel.artifact);

    /** What every restart after a kill must find. */
    const assertRecovered = async (r: Running, expected: string, step: string) => {
      const why = `after a kill during ${step}`;
      assert.equal(currentVersion(inst.l), expected, `current ${why}`);
      assert.ok(installedVersions(inst.l).includes(expected), `current names a complete tree ${why}`);
      assert.ok(fs.existsSync(path.join(inst.l.current, 'bin', 'owlet.js')), `current resolves ${why}`);
      assert.deepEqual(fs.readdirSync(inst.l.versionsDir).filter((v) => v.endsWith('.partial') || v.endsWith('.old')), [], `no .partial ${why}`);
      assert.deepEqual(fs.existsSync(inst.l.downloads) ? fs.readdirSync(inst.l.downloads) : [], [], `no download left ${why}`);
      assert.ok(await waitFor(() => ready(r.url), 30_000, `ready ${why}`));
      const info = readServiceInfo(inst.dataDir);
      assert.ok(info, `service.json ${why}`);
      assert.equal(info.url.replace(/\/$/, ''), r.url.replace(/\/$/, ''), `service.json names the serving URL ${why}`);
      process.kill(info.pid, 0);
      process.kill(info.supervisorPid!, 0);
      const status = JSON.parse((await runCli([inst.bin, 'update', 'status', '--json', '--data-dir', inst.dataDir])).stdout) as { running: string; supervisor: { version: string; pid: number } | null; pending: unknown; lastResult: { outcome: string; phase?: string } | null };
      assert.equal(status.running, expected, `the service runs ${expected} ${why}`);
      assert.equal(status.supervisor?.version, expected, `the supervisor runs ${expected} ${why}`);
      assert.equal(status.supervisor?.pid, info.supervisorPid);
      assert.equal(status.pending, null);
      assert.equal(status.lastResult?.outcome, 'interrupted', `the interrupted update is recorded ${why}`);
    };

    /** Starts `owlet update apply`, waits for `landed`, kills the tree; the CLI's own failure is expected. */
    const applyAndKill = async (r: Running, landed: () => boolean, step: string) => {
      const apply = runCli([inst.bin, 'update', 'apply', '--json', '--data-dir', inst.dataDir]).catch(() => null);
      await waitFor(landed, 90_000, `the update to reach ${step}\n${r.output()}`);
      await killTree(r);
      await apply;
    };

    // download: the feed sends part of the package, then nothing (the stall limit is far away).
    let sentPart = false;
    feed.setOverride((req, res) => {
      if (!req.url?.endsWith('.tar.gz')) return false;
      res.writeHead(200, { 'content-length': pkg.length });
      res.write(pkg.subarray(0, 64 * 1024), () => (sentPart = true));
      return true;
    });
    const holdSteps: [string, string][] = [
      ['verify', 'downloaded'],
      ['unpack', 'unpacking'],
      // Backed up, `current` not moved yet (the next supervisor is loaded in standby after this).
      ['switch', 'backed-up'],
      // Handed over: `current` names 1.1.0 and its supervisor has started its service (ready),
      // the gate not yet recorded. A restart finds the update in its switching phase there.
      ['hand-over', 'started'],
    ];
    const holdEnv = (at: string) => ({ OWLET_TEST_UPDATE_HOLD: at, OWLET_TEST_UPDATE_HOLD_FILE: holdFile });
    run = await startRun(inst, holdEnv(holdSteps[0]![1]));
    await applyAndKill(run, () => sentPart && readState(inst.prefix).pending?.phase === 'downloading', 'download');
    feed.setOverride(null);
    let previous = 'download';
    for (const [step, at] of holdSteps) {
      run = await startRun(inst, holdEnv(at));
      await assertRecovered(run, '1.0.0', previous);
      fs.rmSync(holdFile, { force: true });
      await applyAndKill(run, () => fs.existsSync(holdFile) && (at !== 'unpacking' || fs.existsSync(path.join(inst.l.versionsDir, '1.1.0.partial'))), step);
      previous = step;
    }
    // Killed after the hand-over: `current` names 1.1.0, whose supervisor (it had loaded in
    // standby) starts again, sees the update in its switching phase and runs the health gate
    // itself; here it is parked again once the service answered ready (the gate's `switched` step).
    fs.rmSync(holdFile, { force: true });
    run = await startRun(inst, holdEnv('switched'));
    const r1 = run;
    assert.equal(currentVersion(inst.l), '1.1.0', 'current after a kill during the hand-over');
    await waitFor(() => fs.existsSync(holdFile), 60_000, `the resumed gate to reach its switched step\n${r1.output()}`);
    assert.ok(await ready(r1.url), 'the new version serves while its supervisor runs the gate');
    const resumed = JSON.parse((await runCli([inst.bin, 'update', 'status', '--json', '--data-dir', inst.dataDir])).stdout) as { supervisor: { version: string } | null; pending: { version: string; phase: string } | null };
    assert.equal(resumed.supervisor?.version, '1.1.0', 'the supervisor runs 1.1.0 after a kill during the hand-over');
    assert.deepEqual(resumed.pending && { version: resumed.pending.version, phase: resumed.pending.phase }, { version: '1.1.0', phase: 'gating' }, 'the gate resumed in the new supervisor');
    // Killed during the gate: `current` names 1.1.0, which had answered ready, so it starts.
    await killTree(r1);
    run = await startRun(inst);
    await assertRecovered(run, '1.1.0', 'gate');
    assert.deepEqual(installedVersions(inst.l), ['1.1.0', '1.0.0'], 'the previous version is kept for a rollback');
  });

  it('rolls back a release whose service never becomes ready (same installation, now on 1.1.0)', { timeout: 120_000 }, async () => {
    assert.ok(run && inst, 'the installation of the test before');
    fs.writeFileSync(path.join(inst.dataDir, 'config.json'), JSON.stringify({ updates: { feedUrl: feed.url, checkHours: 0, healthGate: { readySeconds: 3, stableSeconds: 2 } } }));
    await cutRelease({ root: fixtureRoot(work, 'hangs', 'setInterval(() => undefined, 60_000);\n'), version: '1.2.0', key: key.privateKey, outDir: feedDir, schemaVersion: 0 });
    const before = readServiceInfo(inst.dataDir);
    // Its supervisor never says it loaded (the whole tree hangs), so there is no hand-over: the
    // update runs under this supervisor and is rolled back there.
    const r = await runCli([inst.bin, 'update', 'apply', '--json', '--data-dir', inst.dataDir]);
    const out = JSON.parse(r.stdout) as { outcome: string; reason: string; message: string };
    assert.equal(out.outcome, 'rolled-back', r.stdout + r.stderr + run!.output());
    assert.equal(out.reason, 'not-ready');
    assert.match(out.message, /not ready within 3 s/);
    assert.equal(currentVersion(inst.l), '1.1.0');
    assert.ok(await waitFor(() => ready(run!.url), 30_000, 'the previous version to serve again'));
    assert.deepEqual(readState(inst.prefix).bad.map((b) => b.version), ['1.2.0']);
    assert.equal(readServiceInfo(inst.dataDir)?.supervisorPid, before?.supervisorPid, 'the same supervisor (no re-exec: current did not move)');
  });
});
