import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { EventEmitter } from 'node:events';
import * as tar from 'tar';
import { nullLogger } from '../../../src/indexer/log/logger.js';
import { abandonMove, HeadlessUpdater, type ApplyResult, type ServiceEntryLike, type SupervisorMove, type UpdatableHost } from '../../../src/indexer/update/headless.js';
import { currentVersion, detectInstallation, entryOf, installedVersions, layoutOf, switchCurrent, versionRoot, type InstallLayout } from '../../../src/indexer/update/layout.js';
import { defaultPolicyFile, effectiveSettings } from '../../../src/indexer/update/policy.js';
import { holdAtStepFromEnv } from '../../../src/indexer/update/test-hold.js';
import { cutRelease } from '../../../src/indexer/update/release/release.js';
import { DEFAULT_UPDATE_CONFIG } from '../../../src/indexer/config/update-settings.js';
import { readState, updateState } from '../../../src/indexer/update/state.js';
import { unpackRelease } from '../../../src/indexer/update/unpack.js';
import { isRefusal } from '../../../src/indexer/update/refusal.js';
import { tmpDir, writeTree } from '../../helpers/tmp.js';
import { makeKey, serveFeed } from './helpers.js';

/** How the fake service of each version behaves when the host restarts onto it. */
type Behaviour = 'ok' | 'never-ready' | 'crash-soon' | 'exits-at-start' | 'exits-once' | 'start-given-up';

/** The host seam of src/indexer/host, faked: restarts succeed or fail by the target version's behaviour. */
class FakeHost implements UpdatableHost {
  entry: ServiceEntryLike;
  restarts: string[] = [];
  stops = 0;
  private crashes = new EventEmitter();
  constructor(entry: ServiceEntryLike, private readonly behaviour: (version: string) => Behaviour) {
    this.entry = entry;
  }
  setEntry(e: ServiceEntryLike): void {
    this.entry = { ...e };
  }
  async restart(_reason?: string, timeoutMs = 120_000): Promise<unknown> {
    const v = this.entry.version ?? '?';
    this.restarts.push(v);
    const b = this.behaviour(v);
    if (b === 'never-ready') throw new Error('the service did not become ready');
    if (b === 'exits-at-start' || b === 'exits-once' || b === 'start-given-up') return this.exitsAtStart(b, timeoutMs);
    if (b === 'crash-soon') setTimeout(() => this.crashes.emit('crash', { reason: 'exit', code: 1, signal: null }), 30);
    return { port: 1 };
  }
  async stop(): Promise<void> {
    this.stops++;
  }
  /** The service a supervisor started itself (after a hand-over): ready or not by its version's behaviour. */
  async whenReady(timeoutMs = 120_000): Promise<unknown> {
    const b = this.behaviour(this.entry.version ?? '?');
    if (b === 'never-ready') throw new Error('the service did not become ready');
    if (b === 'exits-at-start' || b === 'exits-once' || b === 'start-given-up') return this.exitsAtStart(b, timeoutMs);
    if (b === 'crash-soon') setTimeout(() => this.crashes.emit('crash', { reason: 'exit', code: 1, signal: null }), 30);
    return { port: 1 };
  }
  /**
   * As the real supervisor reports a service that exits before ready: each exit is a crash, and the
   * start is restarted with backoff. `exits-at-start`: every time, never ready; `exits-once`: ready
   * at the second start; `start-given-up`: a fatal report, on which the supervisor gives up, rejecting
   * the start with its reason in the same turn, before the crash event.
   */
  private exitsAtStart(b: Behaviour, timeoutMs: number): Promise<unknown> {
    const exit = { reason: 'exit', code: 1, signal: null };
    return new Promise((resolve, reject) => {
      setTimeout(() => {
        if (b === 'start-given-up') {
          reject(new Error('the service speaks protocol 9, this host speaks 8'));
          this.crashes.emit('crash', { reason: 'fatal', code: 70, signal: null, error: { message: 'protocol mismatch' } });
          return;
        }
        this.crashes.emit('crash', exit);
        if (b === 'exits-once') setTimeout(() => resolve({ port: 1 }), 10);
        else setTimeout(() => this.crashes.emit('crash', exit), 10);
      }, 10);
      setTimeout(() => reject(new Error(`the service did not become ready within ${timeoutMs} ms`)), timeoutMs).unref();
    });
  }
  onDidCrash(l: (c: unknown) => void) {
    this.crashes.on('crash', l);
    return { dispose: () => this.crashes.off('crash', l) };
  }
}

const key = makeKey();
const fixtureRoot = tmpDir();
writeTree(fixtureRoot, { 'bin/owlet.js': '// fixture\n', 'package.json': JSON.stringify({ name: 'owlet', version: '0.0.0' }) });
const artifacts = tmpDir();

/** One signed release per version, built once for the whole file. */
async function release(version: string, feed: string): Promise<void> {
  const cache = path.join(artifacts, version);
  if (!fs.existsSync(cache)) await cutRelease({ root: fixtureRoot, version, key: key.privateKey, outDir: cache, entries: ['bin'], schemaVersion: 1 });
  fs.mkdirSync(feed, { recursive: true });
  for (const f of fs.readdirSync(cache)) fs.copyFileSync(path.join(cache, f), path.join(feed, f));
}

/** An installation at 1.0.0: PREFIX/versions/1.0.0 unpacked from a real release, current pointing at it. */
async function installBase(): Promise<InstallLayout> {
  const prefix = tmpDir();
  const l = layoutOf(prefix);
  const feed = path.join(tmpDir(), 'base');
  await release('1.0.0', feed);
  fs.mkdirSync(l.versionsDir, { recursive: true });
  await unpackRelease(l, '1.0.0', path.join(feed, fs.readdirSync(feed).find((f) => f.endsWith('.tar.gz'))!));
  switchCurrent(l, '1.0.0');
  updateState(prefix, (s) => void (s.highestInstalled = '1.0.0'));
  return l;
}

interface Rig {
  l: InstallLayout;
  host: FakeHost;
  updater: HeadlessUpdater;
  audit: string[];
  alerts: string[];
  restores: string[];
  feedDir: string;
  feedUrl: string;
  server: Awaited<ReturnType<typeof serveFeed>>;
}

async function rig(opts: { behaviour?: (v: string) => Behaviour; backupFails?: boolean; stableSeconds?: number; move?: SupervisorMove; version?: string; layout?: InstallLayout } = {}): Promise<Rig> {
  const l = opts.layout ?? (await installBase());
  const version = opts.version ?? '1.0.0';
  const feedDir = path.join(tmpDir(), 'feed');
  fs.mkdirSync(feedDir);
  const server = await serveFeed(feedDir);
  const host = new FakeHost({ modulePath: entryOf(l, version), version }, opts.behaviour ?? (() => 'ok'));
  const audit: string[] = [];
  const alerts: string[] = [];
  const restores: string[] = [];
  const settings = effectiveSettings(
    { ...DEFAULT_UPDATE_CONFIG, feedUrl: server.url, stallSeconds: 2, healthGate: { readySeconds: 5, stableSeconds: opts.stableSeconds ?? 0 } },
    { file: 'none', status: 'absent', policy: {} },
  );
  const updater = new HeadlessUpdater({
    installation: { layout: l, version, root: versionRoot(l, version) },
    host,
    settings: () => settings,
    backup: async () => {
      if (opts.backupFails) throw new Error('disk full');
      return { id: '20261202T120000Z-abcd', schemaVersion: 1 };
    },
    restore: async (id) => void restores.push(id),
    schemaVersion: 1,
    log: nullLogger,
    audit: { append: (e) => void audit.push(e) },
    onAlert: (a) => void alerts.push(a.id),
    ...(opts.move ? { move: opts.move } : {}),
  });
  return { l, host, updater, audit, alerts, restores, feedDir, feedUrl: server.url, server };
}

function assertUntouched(r: Rig, result: ApplyResult): void {
  assert.equal(result.outcome, 'refused', JSON.stringify(result));
  assert.equal(currentVersion(r.l), '1.0.0');
  assert.deepEqual(installedVersions(r.l), ['1.0.0']);
  assert.deepEqual(r.host.restarts, [], 'no restart: no downtime');
  assert.equal(readState(r.l.prefix).pending, null);
}

describe('headless updates (install layout, health gate, rollback)', () => {
  it('installs a good update: service restarted on the new tree, current switched, audit trail written', async () => {
    const r = await rig();
    await release('1.1.0', r.feedDir);
    const result = await r.updater.apply();
    assert.equal(result.outcome, 'installed', JSON.stringify(result));
    assert.equal(result.to, '1.1.0');
    assert.equal(typeof result.downtimeMs, 'number');
    assert.equal(currentVersion(r.l), '1.1.0');
    assert.equal(r.host.entry.modulePath, entryOf(r.l, '1.1.0'));
    assert.deepEqual(installedVersions(r.l), ['1.1.0', '1.0.0']);
    assert.equal(readState(r.l.prefix).highestInstalled, '1.1.0');
    for (const e of ['update.started', 'update.downloaded', 'update.unpacked', 'update.backed-up', 'update.switched', 'update.installed']) assert.ok(r.audit.includes(e), `${e} audited`);
    assert.equal(fs.readdirSync(r.l.downloads).length, 0, 'the download is removed once unpacked');
    // The same feed again: nothing to do.
    assert.equal((await r.updater.apply()).outcome, 'up-to-date');
  });

  it('keeps the current and the previous version and prunes older ones', async () => {
    const r = await rig();
    await release('1.1.0', r.feedDir);
    assert.equal((await r.updater.apply()).outcome, 'installed');
    await release('1.2.0', r.feedDir);
    assert.equal((await r.updater.apply()).outcome, 'installed');
    assert.deepEqual(installedVersions(r.l), ['1.2.0', '1.1.0']);
  });

  it('rolls back a version that never becomes ready: old tree back, version marked bad, alert, never retried', async () => {
    const r = await rig({ behaviour: (v) => (v === '1.1.0' ? 'never-ready' : 'ok') });
    await release('1.1.0', r.feedDir);
    const result = await r.updater.apply();
    assert.equal(result.outcome, 'rolled-back', JSON.stringify(result));
    assert.equal(result.reason, 'not-ready');
    assert.deepEqual(r.host.restarts, ['1.1.0', '1.0.0']);
    assert.equal(r.host.entry.version, '1.0.0');
    assert.equal(currentVersion(r.l), '1.0.0');
    assert.deepEqual(r.alerts, ['update-rolled-back']);
    assert.ok(r.audit.includes('update.rolled-back'));
    assert.deepEqual(readState(r.l.prefix).bad.map((b) => b.version), ['1.1.0']);
    const again = await r.updater.apply();
    assert.equal(again.outcome, 'refused');
    assert.equal(again.reason, 'marked-bad');
  });

  it('rolls back a version that crashes within its stable period, switching current back', async () => {
    const r = await rig({ behaviour: (v) => (v === '1.1.0' ? 'crash-soon' : 'ok'), stableSeconds: 5 });
    await release('1.1.0', r.feedDir);
    const result = await r.updater.apply();
    assert.equal(result.outcome, 'rolled-back', JSON.stringify(result));
    assert.equal(result.reason, 'crashed');
    assert.equal(currentVersion(r.l), '1.0.0');
    assert.deepEqual(r.restores, [], 'same schema: the index is kept, not restored');
  });

  it('rolls back a version whose service exits at start at its first crash, not at the end of readySeconds', async () => {
    const r = await rig({ behaviour: (v) => (v === '1.1.0' ? 'exits-at-start' : 'ok') });
    await release('1.1.0', r.feedDir);
    const result = await r.updater.apply();
    assert.equal(result.outcome, 'rolled-back', JSON.stringify(result));
    assert.equal(result.reason, 'crashed', 'not not-ready: nothing is waited for once it exited');
    assert.match(result.message ?? '', /1\.1\.0 exited twice before it was ready \(exit, code 1\)/);
    assert.deepEqual(r.host.restarts, ['1.1.0', '1.0.0']);
    assert.equal(currentVersion(r.l), '1.0.0');
  });

  it('forgives one exit before ready (a transient start failure): the second start is ready and the update installs', async () => {
    const r = await rig({ behaviour: () => 'exits-once' });
    await release('1.1.0', r.feedDir);
    const result = await r.updater.apply();
    assert.equal(result.outcome, 'installed', JSON.stringify(result));
  });

  it('when the supervisor gives up on the start, the gate reports its reason, not the exit', async () => {
    const r = await rig({ behaviour: (v) => (v === '1.1.0' ? 'start-given-up' : 'ok') });
    await release('1.1.0', r.feedDir);
    const result = await r.updater.apply();
    assert.equal(result.outcome, 'rolled-back', JSON.stringify(result));
    assert.equal(result.reason, 'not-ready');
    assert.match(result.message ?? '', /speaks protocol 9/);
  });

  it('restores the pre-update backup on rollback when the new version changed the schema', async () => {
    const r = await rig({ behaviour: (v) => (v === '2.0.0' ? 'never-ready' : 'ok') });
    const feed = path.join(artifacts, '2.0.0');
    await cutRelease({ root: fixtureRoot, version: '2.0.0', key: key.privateKey, outDir: feed, entries: ['bin'], schemaVersion: 2 });
    for (const f of fs.readdirSync(feed)) fs.copyFileSync(path.join(feed, f), path.join(r.feedDir, f));
    const result = await r.updater.apply();
    assert.equal(result.outcome, 'rolled-back');
    assert.deepEqual(r.restores, ['20261202T120000Z-abcd']);
  });

  it('refuses a package altered on the server (sha512 mismatch): nothing unpacked, no restart', async () => {
    const r = await rig();
    await release('1.1.0', r.feedDir);
    const pkg = fs.readdirSync(r.feedDir).find((f) => f.endsWith('.tar.gz'))!;
    const bytes = fs.readFileSync(path.join(r.feedDir, pkg));
    bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0xff;
    fs.writeFileSync(path.join(r.feedDir, pkg), bytes);
    const result = await r.updater.apply();
    assertUntouched(r, result);
    assert.equal(result.reason, 'sha512-mismatch');
    assert.ok(r.audit.includes('update.refused'));
  });

  it('refuses when the verified pre-update backup cannot be taken', async () => {
    const r = await rig({ backupFails: true });
    await release('1.1.0', r.feedDir);
    const result = await r.updater.apply();
    assert.equal(result.outcome, 'refused');
    assert.match(result.message ?? '', /pre-update backup failed/);
    assert.equal(currentVersion(r.l), '1.0.0');
    assert.deepEqual(r.host.restarts, []);
  });

  it('refuses an older version offered by the feed (rollback attack); only `rollback` goes back', async () => {
    const r = await rig();
    await release('1.1.0', r.feedDir);
    assert.equal((await r.updater.apply()).outcome, 'installed');
    for (const f of fs.readdirSync(r.feedDir)) fs.rmSync(path.join(r.feedDir, f));
    await release('1.0.0', r.feedDir);
    const attack = await r.updater.apply();
    assert.equal(attack.outcome, 'refused');
    assert.equal(attack.reason, 'not-newer');
    const back = await r.updater.rollback();
    assert.equal(back.outcome, 'rolled-back', JSON.stringify(back));
    assert.equal(currentVersion(r.l), '1.0.0');
    assert.equal(r.host.entry.version, '1.0.0');
    assert.equal(readState(r.l.prefix).highestInstalled, '1.1.0', 'going back does not lower the guard');
    assert.equal((await r.updater.rollback()).outcome, 'refused', 'nothing older is kept');
  });

  it('start-up after a kill removes half-unpacked trees and downloads and clears the pending update', async () => {
    const r = await rig();
    fs.mkdirSync(path.join(r.l.versionsDir, '1.1.0.partial', 'bin'), { recursive: true });
    fs.mkdirSync(r.l.downloads, { recursive: true });
    fs.writeFileSync(path.join(r.l.downloads, 'owlet-1.1.0-linux-x64.tar.gz'), 'half');
    updateState(r.l.prefix, (s) => void (s.pending = { version: '1.1.0', previous: '1.0.0', phase: 'unpacking', startedAt: new Date().toISOString(), backupId: null, schemaChanged: false }));
    r.updater.recoverInterrupted();
    assert.deepEqual(fs.readdirSync(r.l.versionsDir), ['1.0.0']);
    assert.deepEqual(fs.readdirSync(r.l.downloads), []);
    assert.equal(readState(r.l.prefix).pending, null);
    assert.equal(currentVersion(r.l), '1.0.0');
    assert.ok(r.audit.includes('update.interrupted'));
  });
});

/** The launcher seam faked: records what the supervisor asked for; `loads` says whether the standby loaded. */
function fakeMove(loads: boolean) {
  const calls = { prepared: [] as [string, string | undefined][], left: [] as string[] };
  const move: SupervisorMove = {
    prepare: async (v, root) => {
      calls.prepared.push([v, root]);
      return loads;
    },
    leave: (v) => void calls.left.push(v),
  };
  return { move, calls };
}

describe('one outage per update: the hand-over to the new version\'s supervisor', () => {
  it('hands over once the new supervisor loaded in standby; the new one gates and installs (no restart by the old one)', async () => {
    const { move, calls } = fakeMove(true);
    const a = await rig({ move });
    await release('1.1.0', a.feedDir);
    const first = await a.updater.apply();
    assert.equal(first.outcome, 'handed-over', JSON.stringify(first));
    assert.deepEqual(calls.prepared, [['1.1.0', versionRoot(a.l, '1.1.0')]], 'the standby is loaded from the new tree, before current moves');
    assert.equal(currentVersion(a.l), '1.1.0', 'current moved: the launcher starts the new supervisor from it');
    assert.deepEqual(a.host.restarts, [], 'the old supervisor never restarts the service: the hand-over is the only outage');
    assert.equal(readState(a.l.prefix).pending?.phase, 'switching');
    assert.ok(a.audit.includes('update.handed-over'));
    assert.equal((await a.updater.apply()).reason, 'busy', 'no second update while leaving');
    // The new version's supervisor starts: it finds the update and runs the gate itself.
    const b = await rig({ version: '1.1.0', layout: a.l, stableSeconds: 0.1 });
    const resumed = b.updater.recoverInterrupted(Date.now() - 1500);
    assert.ok(resumed, 'the new supervisor resumes the gate');
    assert.equal(b.updater.inProgress, true, 'a service failure now belongs to the gate');
    const r = await resumed;
    assert.equal(r.outcome, 'installed', JSON.stringify(r));
    assert.ok(r.downtimeMs! >= 1500, 'downtime runs from the old supervisor stopping its service');
    const st = readState(a.l.prefix);
    assert.equal(st.pending, null);
    assert.equal(st.highestInstalled, '1.1.0');
    assert.equal((st.lastResult as { outcome: string }).outcome, 'installed');
    assert.deepEqual(b.host.restarts, [], 'nothing restarted after the hand-over');
    assert.ok(b.audit.includes('update.installed'));
  });

  it('a crash within the stable period in the new supervisor: current back, version bad, alert, backup restored when the schema changed, service handed back', async () => {
    const { move, calls } = fakeMove(true);
    const a = await rig({ move });
    const feed = path.join(artifacts, '2.0.0');
    if (!fs.existsSync(feed)) await cutRelease({ root: fixtureRoot, version: '2.0.0', key: key.privateKey, outDir: feed, entries: ['bin'], schemaVersion: 2 });
    for (const f of fs.readdirSync(feed)) fs.copyFileSync(path.join(feed, f), path.join(a.feedDir, f));
    assert.equal((await a.updater.apply()).outcome, 'handed-over');
    const back = fakeMove(true);
    const b = await rig({ version: '2.0.0', layout: a.l, stableSeconds: 5, behaviour: () => 'crash-soon', move: back.move });
    const r = await b.updater.recoverInterrupted(Date.now())!;
    assert.equal(r.outcome, 'rolled-back', JSON.stringify(r));
    assert.equal(r.reason, 'crashed');
    assert.equal(currentVersion(a.l), '1.0.0', 'current back on the previous version');
    assert.deepEqual(b.restores, ['20261202T120000Z-abcd'], 'the schema changed: the pre-update backup is restored');
    assert.deepEqual(readState(a.l.prefix).bad.map((x) => x.version), ['2.0.0']);
    assert.deepEqual(b.alerts, ['update-rolled-back']);
    for (const e of ['update.gate-failed', 'update.backup-restored', 'update.rolled-back']) assert.ok(b.audit.includes(e), `${e} audited`);
    assert.deepEqual(back.calls.left, ['1.0.0'], "the service goes back to the previous version's supervisor");
    assert.deepEqual(b.host.restarts, [], 'the new supervisor does not run the old service itself');
    assert.equal(readState(a.l.prefix).pending, null);
    assert.deepEqual(calls.left, [], 'the old supervisor leaves through the control answer, not the updater');
  });

  it('a new version never ready in the new supervisor is rolled back with reason not-ready', async () => {
    const { move } = fakeMove(true);
    const a = await rig({ move });
    await release('1.1.0', a.feedDir);
    assert.equal((await a.updater.apply()).outcome, 'handed-over');
    const back = fakeMove(true);
    const b = await rig({ version: '1.1.0', layout: a.l, behaviour: () => 'never-ready', move: back.move });
    const r = await b.updater.recoverInterrupted()!;
    assert.equal(r.outcome, 'rolled-back');
    assert.equal(r.reason, 'not-ready');
    assert.equal(currentVersion(a.l), '1.0.0');
    assert.deepEqual(back.calls.left, ['1.0.0']);
    assert.equal(b.host.stops, 1, 'its service is stopped before the hand-back');
  });

  it('a new version whose service exits at start in the new supervisor is rolled back at its first crash', async () => {
    const { move } = fakeMove(true);
    const a = await rig({ move });
    await release('1.1.0', a.feedDir);
    assert.equal((await a.updater.apply()).outcome, 'handed-over');
    const back = fakeMove(true);
    const b = await rig({ version: '1.1.0', layout: a.l, behaviour: () => 'exits-at-start', move: back.move });
    const r = await b.updater.recoverInterrupted()!;
    assert.equal(r.outcome, 'rolled-back');
    assert.equal(r.reason, 'crashed');
    assert.equal(currentVersion(a.l), '1.0.0');
    assert.deepEqual(back.calls.left, ['1.0.0']);
  });

  it('updates under the old supervisor when the new one does not load in standby (current moves only after ready)', async () => {
    const { move, calls } = fakeMove(false);
    const a = await rig({ move });
    await release('1.1.0', a.feedDir);
    const r = await a.updater.apply();
    assert.equal(r.outcome, 'installed', JSON.stringify(r));
    assert.equal(calls.prepared.length, 1);
    assert.deepEqual(a.host.restarts, ['1.1.0']);
    assert.equal(currentVersion(a.l), '1.1.0');
  });

  it('a supervisor whose version is not the one in the switching phase records the update as interrupted', async () => {
    const a = await rig();
    updateState(a.l.prefix, (s) => void (s.pending = { version: '1.1.0', previous: '1.0.0', phase: 'switching', startedAt: new Date().toISOString(), backupId: 'x', schemaChanged: false }));
    assert.equal(a.updater.recoverInterrupted(), null);
    assert.equal(readState(a.l.prefix).pending, null);
    assert.equal((readState(a.l.prefix).lastResult as { outcome: string }).outcome, 'interrupted');
  });

  it('a supervisor handed an update that fails before its gate could run puts the previous version back, marked bad (abandonMove)', async () => {
    const l = await installBase();
    fs.cpSync(versionRoot(l, '1.0.0'), versionRoot(l, '1.1.0'), { recursive: true });
    switchCurrent(l, '1.1.0');
    const inst = detectInstallation(path.join(l.current, 'bin', 'owlet.js'));
    assert.equal(inst?.version, '1.1.0');
    assert.equal(abandonMove(inst!, 'not a hand-over'), null, 'no update pending: an ordinary start-up failure stays one');
    assert.equal(currentVersion(l), '1.1.0');
    updateState(l.prefix, (s) => void (s.pending = { version: '1.1.0', previous: '1.0.0', phase: 'switching', startedAt: new Date().toISOString(), backupId: 'x', schemaChanged: false }));
    assert.deepEqual(abandonMove(inst!, 'config.json: Unrecognized key'), { from: '1.0.0', to: '1.1.0' });
    assert.equal(currentVersion(l), '1.0.0', 'current is back on the previous version before the launcher restarts');
    const s = readState(l.prefix);
    assert.equal(s.pending, null);
    assert.ok(s.bad.some((b) => b.version === '1.1.0' && /failed to start its supervisor \(config\.json: Unrecognized key\)/.test(b.reason)), 'never installed automatically again');
    assert.equal((s.lastResult as { outcome: string }).outcome, 'rolled-back');
    assert.equal(abandonMove(inst!, 'again'), null, 'done once');
  });
});

describe('install layout', () => {
  it('knows it is installed only when bin/owlet.js really lies in PREFIX/versions/<version>/', async () => {
    const l = await installBase();
    const inst = detectInstallation(path.join(l.current, 'bin', 'owlet.js'));
    assert.ok(inst);
    assert.equal(inst.version, '1.0.0');
    assert.equal(inst.layout.prefix, l.prefix);
    assert.equal(detectInstallation(path.join(fixtureRoot, 'bin', 'owlet.js')), null, 'a source checkout is not an installation');
  });

  it('unpacks only plain files and folders, and only the version the manifest names', async () => {
    const l = layoutOf(tmpDir());
    fs.mkdirSync(l.versionsDir, { recursive: true });
    const src = tmpDir();
    writeTree(src, { 'bin/owlet.js': 'x', 'package.json': JSON.stringify({ version: '3.0.0' }) });
    fs.symlinkSync('/etc/passwd', path.join(src, 'bin', 'link'));
    const evil = path.join(tmpDir(), 'evil.tar.gz');
    await tar.c({ gzip: true, file: evil, cwd: src }, ['bin', 'package.json']);
    await assert.rejects(unpackRelease(l, '3.0.0', evil), (e: unknown) => isRefusal(e) && e.reason === 'bad-release' && /not a file or folder/.test(e.message));
    assert.deepEqual(fs.readdirSync(l.versionsDir), [], 'nothing left behind');
    const feed = path.join(artifacts, '1.0.0');
    if (!fs.existsSync(feed)) await release('1.0.0', path.join(tmpDir(), 'f'));
    const good = path.join(feed, fs.readdirSync(feed).find((f) => f.endsWith('.tar.gz'))!);
    await assert.rejects(unpackRelease(l, '9.9.9', good), /says it is 1.0.0/);
  });
});

describe('machine policy location', () => {
  it('is the OS location unless OWLET_POLICY_FILE moves it', () => {
    assert.equal(defaultPolicyFile('linux', {}), '/etc/owlet/policy.json');
    assert.equal(defaultPolicyFile('win32', { ProgramData: 'D:\\PD' }), path.join('D:\\PD', 'Owlet', 'policy.json'));
    assert.equal(defaultPolicyFile('linux', { OWLET_POLICY_FILE: '/tmp/p.json' }), '/tmp/p.json');
  });
});

describe('kill-step hook (OWLET_TEST_UPDATE_HOLD)', () => {
  it('does nothing unless both variables are set', () => {
    assert.equal(holdAtStepFromEnv({}), undefined);
    assert.equal(holdAtStepFromEnv({ OWLET_TEST_UPDATE_HOLD: 'unpacked' }), undefined);
    assert.equal(typeof holdAtStepFromEnv({ OWLET_TEST_UPDATE_HOLD: 'unpacked', OWLET_TEST_UPDATE_HOLD_FILE: '/tmp/x' }), 'function');
  });
});
