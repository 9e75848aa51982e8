import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { TrayUpdater, type AutoUpdaterLike, type InstallerStore } from '../../src/main/updater.js';
import { serializeManifest } from '../../src/indexer/update/manifest.js';
import { effectiveSettings } from '../../src/indexer/update/policy.js';
import { DEFAULT_UPDATE_CONFIG } from '../../src/indexer/config/update-settings.js';
import { signBytes } from '../../src/indexer/update/signature.js';
import { readState } from '../../src/indexer/update/state.js';
import { tmpDir } from '../helpers/tmp.js';
import { makeKey, serveFeed } from '../indexer/update/helpers.js';

/** electron-updater's autoUpdater, faked as the EventEmitter it is; every call is logged in order. */
class FakeAutoUpdater extends EventEmitter implements AutoUpdaterLike {
  autoDownload = true;
  autoInstallOnAppQuit = true;
  allowDowngrade = true;
  channel: string | null = null;
  calls: string[] = [];
  constructor(private readonly offered: string, private readonly payload: () => { file: string }) {
    super();
  }
  setFeedURL(): void {
    this.calls.push('setFeedURL');
  }
  async checkForUpdates() {
    this.calls.push('checkForUpdates');
    return { updateInfo: { version: this.offered } };
  }
  async downloadUpdate(): Promise<string[]> {
    this.calls.push('downloadUpdate');
    this.emit('download-progress', { percent: 50, transferred: 1, total: 2 });
    return [this.payload().file];
  }
  quitAndInstall(): void {
    this.calls.push('quitAndInstall');
  }
}

const key = makeKey();
const other = makeKey();
const installerBytes = crypto.randomBytes(5000);
const sha = (b: Buffer) => crypto.createHash('sha512').update(b).digest('base64');

/** Checks, downloads and installs 1.1.0 through the rig, then the app as relaunched on it. */
async function installedThenRelaunched(r: Awaited<ReturnType<typeof rig>>): Promise<TrayUpdater> {
  await r.updater.check();
  await r.updater.download();
  await r.updater.install();
  return new TrayUpdater({ ...r.deps, currentVersion: '1.1.0' });
}

async function rig(opts: { signWith?: typeof key; downloaded?: Buffer; offered?: string } = {}) {
  const feedDir = tmpDir();
  const name = 'Owlet-1.1.0.AppImage';
  const bytes = Buffer.from(
    serializeManifest({
      version: '1.1.0',
      files: [{ url: name, sha512: sha(installerBytes), size: installerBytes.length }],
      path: name,
      sha512: sha(installerBytes),
      releaseDate: new Date().toISOString(),
      expires: new Date(Date.now() + 86_400_000).toISOString(),
    }),
  );
  fs.writeFileSync(path.join(feedDir, 'latest-linux.yml'), bytes);
  fs.writeFileSync(path.join(feedDir, 'latest-linux.yml.sig'), signBytes(bytes, (opts.signWith ?? key).privateKey));
  const feed = await serveFeed(feedDir);
  const dl = tmpDir();
  const order: string[] = [];
  const u = new FakeAutoUpdater(opts.offered ?? '1.1.0', () => {
    const file = path.join(dl, name);
    fs.writeFileSync(file, opts.downloaded ?? installerBytes);
    return { file };
  });
  const origDownload = u.downloadUpdate.bind(u);
  u.downloadUpdate = async () => {
    order.push(`downloadUpdate after ${feed.requests.filter((r) => r.endsWith('.sig')).length} signature fetches`);
    return origDownload();
  };
  const stateDir = tmpDir();
  const kept = new Map<string, string>();
  const reinstalled: string[] = [];
  const installers: InstallerStore = {
    keep: (v, f) => {
      kept.set(v, f);
      return f;
    },
    find: (v) => kept.get(v) ?? null,
    versions: () => [...kept.keys()].sort((a, b) => (a < b ? 1 : -1)),
    reinstall: async (f) => void reinstalled.push(f),
  };
  const restored: string[] = [];
  const notes: string[] = [];
  const deps = {
    autoUpdater: u,
    stateDir,
    trusted: [{ id: key.id, key: key.publicKey }],
    settings: () => effectiveSettings({ ...DEFAULT_UPDATE_CONFIG, feedUrl: feed.url }, { file: 'none', status: 'absent' as const, policy: {} }),
    platform: 'linux' as const,
    backup: async () => {
      order.push('backup');
      return 'B1';
    },
    restore: async (id: string) => void restored.push(id),
    installers,
    notify: (m: string) => void notes.push(m),
  };
  return { u, feed, order, stateDir, kept, reinstalled, restored, notes, deps, updater: new TrayUpdater({ ...deps, currentVersion: '1.0.0' }) };
}

describe('the tray app updater (electron-updater adapter)', () => {
  it('configures electron-updater: no auto download, no downgrade, no silent install on quit', async () => {
    const r = await rig();
    assert.equal(r.u.autoDownload, false);
    assert.equal(r.u.allowDowngrade, false);
    assert.equal(r.u.autoInstallOnAppQuit, false);
  });

  it('verifies the signed manifest before downloading, the sha512 and the backup before installing', async () => {
    const r = await rig();
    assert.equal((await r.updater.check()).state, 'available');
    assert.equal((await r.updater.download()).state, 'ready-to-install');
    assert.deepEqual(r.order, ['downloadUpdate after 2 signature fetches']);
    const s = await r.updater.install();
    assert.equal(s.state, 'installing', JSON.stringify(s));
    assert.deepEqual(r.u.calls, ['setFeedURL', 'checkForUpdates', 'downloadUpdate', 'quitAndInstall']);
    assert.deepEqual(r.order.slice(1), ['backup']);
    assert.equal(readState(r.stateDir).pending?.version, '1.1.0', 'pending verification recorded before quitAndInstall');
    assert.ok(r.kept.has('1.1.0'), 'the installer is kept for the next rollback');
  });

  it('never downloads when the manifest is signed by an unknown key', async () => {
    const r = await rig({ signWith: other });
    const s = await r.updater.check();
    assert.equal(s.state, 'refused');
    assert.equal(s.reason, 'unknown-key');
    assert.equal((await r.updater.download()).state, 'refused');
    assert.ok(!r.u.calls.includes('downloadUpdate'));
    assert.ok(!r.u.calls.includes('checkForUpdates'), 'electron-updater is not even asked');
  });

  it('refuses when electron-updater offers another version than the signed manifest', async () => {
    const r = await rig({ offered: '1.2.0' });
    assert.equal((await r.updater.check()).state, 'refused');
    assert.ok(!r.u.calls.includes('downloadUpdate'));
  });

  it('never installs a download whose sha512 differs from the signed manifest', async () => {
    const bad = Buffer.from(installerBytes);
    bad[0] = bad[0]! ^ 1;
    const r = await rig({ downloaded: bad });
    await r.updater.check();
    await r.updater.download();
    const s = await r.updater.install();
    assert.equal(s.state, 'refused');
    assert.equal(s.reason, 'sha512-mismatch');
    assert.ok(!r.u.calls.includes('quitAndInstall'));
    assert.deepEqual(r.order.filter((o) => o === 'backup'), [], 'no backup, nothing pending');
    assert.equal(readState(r.stateDir).pending, null);
  });

  it('after the install, a passing health gate records the version as installed', async () => {
    const r = await rig();
    const relaunched = await installedThenRelaunched(r);
    const out = await relaunched.verifyAfterLaunch({ ready: async () => {}, crashedWithin: async () => false }, { readySeconds: 30, stableSeconds: 300 });
    assert.equal(out, 'installed');
    assert.equal(readState(r.stateDir).highestInstalled, '1.1.0');
    assert.equal(readState(r.stateDir).pending, null);
  });

  it('a failed health gate reinstalls the kept previous installer, restores the backup, marks the version bad and tells the user', async () => {
    const r = await rig();
    r.kept.set('1.0.0', '/kept/Owlet-1.0.0.AppImage');
    const relaunched = await installedThenRelaunched(r);
    const out = await relaunched.verifyAfterLaunch({ ready: async () => Promise.reject(new Error('timeout')), crashedWithin: async () => false }, { readySeconds: 30, stableSeconds: 300 });
    assert.equal(out, 'rolled-back');
    assert.deepEqual(r.reinstalled, ['/kept/Owlet-1.0.0.AppImage']);
    assert.deepEqual(r.restored, ['B1']);
    assert.equal(r.u.allowDowngrade, true, 'downgrade allowed only for this explicit rollback');
    assert.deepEqual(readState(r.stateDir).bad.map((b) => b.version), ['1.1.0']);
    assert.match(r.notes.join('\n'), /rolled back to 1\.0\.0/);
    // The bad version is never offered again.
    const again = new TrayUpdater({ ...r.deps, currentVersion: '1.0.0' });
    assert.equal((await again.check()).reason, 'marked-bad');
  });

  it('the dashboard card sees the offer, the download progress as it happens, and "Restart to update" once verified', async () => {
    const r = await rig();
    const pushed: string[] = [];
    const stop = r.updater.onDidChange((st) => void pushed.push(`${st.state}${st.percent !== null ? ` ${st.percent}` : ''}`));
    let v = r.updater.view();
    assert.deepEqual([v.host, v.running, v.off, v.available, v.readyToRestart, v.previous], ['app', '1.0.0', null, null, false, null]);
    await r.updater.check();
    v = r.updater.view();
    assert.equal(v.available, '1.1.0');
    assert.match(v.lastCheck?.result ?? '', /^available 1\.1\.0$/);
    await r.updater.download();
    assert.ok(pushed.includes('downloading 50'), `progress was pushed: ${pushed.join(', ')}`);
    v = r.updater.view();
    assert.deepEqual([v.readyToRestart, v.progress, v.available], [true, null, '1.1.0']);
    stop();
    await r.updater.install();
    assert.deepEqual(pushed.slice(-1), ['ready-to-install 100'], 'nothing pushed after unsubscribing');
  });

  it('policy-disabled updates show as locked with the reason', async () => {
    const r = await rig();
    const locked = new TrayUpdater({ ...r.deps, currentVersion: '1.0.0', settings: () => effectiveSettings({ ...DEFAULT_UPDATE_CONFIG, feedUrl: r.feed.url }, { file: '/etc/owlet/policy.json', status: 'ok', policy: { updatesDisabled: true } }) });
    assert.deepEqual(locked.view().off, { kind: 'policy', message: 'Updates are turned off by the machine policy: /etc/owlet/policy.json.' });
  });

  it('"Roll back" reinstalls the kept previous version (the one allowed downgrade) and the history says so, newest first', async () => {
    const r = await rig();
    r.kept.set('1.0.0', '/kept/Owlet-1.0.0.AppImage');
    const relaunched = await installedThenRelaunched(r);
    assert.equal(await relaunched.verifyAfterLaunch({ ready: async () => {}, crashedWithin: async () => false }, { readySeconds: 30, stableSeconds: 300 }), 'installed');
    assert.equal(relaunched.view().previous, '1.0.0');
    const s = await relaunched.rollback();
    assert.equal(s.state, 'installing');
    assert.deepEqual(r.reinstalled, ['/kept/Owlet-1.0.0.AppImage']);
    assert.equal(r.u.allowDowngrade, true);
    assert.deepEqual(
      relaunched.view().history.map((h) => [h.outcome, h.from, h.to, h.reason]),
      [
        ['rolled-back', '1.1.0', '1.0.0', 'requested'],
        ['installed', '1.0.0', '1.1.0', null],
      ],
    );
    assert.equal(readState(r.stateDir).highestInstalled, '1.1.0', 'the version left is not offered automatically again');
    // Nothing older kept: refused, nothing run.
    const oldest = new TrayUpdater({ ...r.deps, currentVersion: '1.0.0' });
    const refused = await oldest.rollback();
    assert.equal(refused.state, 'refused');
    assert.match(refused.message ?? '', /no previous version is kept/);
    assert.equal(r.reinstalled.length, 1);
  });

  it('a refused download and a failed health gate are in the history with their reasons', async () => {
    const bad = Buffer.from(installerBytes);
    bad[0] = bad[0]! ^ 1;
    const r = await rig({ downloaded: bad });
    await r.updater.check();
    await r.updater.download();
    await r.updater.install();
    const h = r.updater.view().history;
    assert.deepEqual(h.map((x) => [x.outcome, x.to, x.reason]), [['refused', '1.1.0', 'sha512-mismatch']]);
    assert.match(h[0]!.message ?? '', /does not match the signed sha512/);
    assert.match(r.updater.view().problem ?? '', /sha512/);

    const g = await rig();
    await g.updater.check();
    await g.updater.download();
    await g.updater.install();
    const relaunched = new TrayUpdater({ ...g.deps, currentVersion: '1.1.0' });
    await relaunched.verifyAfterLaunch({ ready: async () => Promise.reject(new Error('timeout')), crashedWithin: async () => false }, { readySeconds: 30, stableSeconds: 300 });
    const gh = relaunched.view().history;
    assert.deepEqual(gh.map((x) => [x.outcome, x.from, x.to, x.reason]), [['rolled-back', '1.0.0', '1.1.0', 'health-gate']]);
    assert.match(gh[0]!.message ?? '', /not ready within 30 s/);
    assert.deepEqual(relaunched.view().bad.map((b) => b.version), ['1.1.0']);
  });
});
