/**
 * The tray app's updates: electron-updater does the platform work (download, install, Windows
 * publisher verification, left on), the update engine in src/indexer/update decides what may be
 * installed. Order, enforced here and tested against a fake `autoUpdater`:
 *
 *   check:    our engine fetches `<channel>-<os>.yml` + `.sig` and verifies them (trusted keys,
 *             expiry, rollback guard, bad versions, policy) BEFORE electron-updater downloads;
 *   download: `autoDownload = false`; `downloadUpdate()` only after that gate passed for the version
 *             electron-updater offers (a different version is refused);
 *   install:  the downloaded file's sha512 is checked against the signed manifest, the verified
 *             pre-update backup is taken, the installer kept and "pending verification" recorded,
 *             then `quitAndInstall()`;
 *   launch:   a pending verification runs the health gate; on failure the kept previous installer
 *             is reinstalled, the backup restored, the version marked bad, and the user told.
 *
 * No electron import: the autoUpdater and the installer runner are passed in by main.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { fetchSignedManifest, type SignedManifest } from '../indexer/update/check.js';
import { sha512OfFile } from '../indexer/update/download.js';
import type { TrustedKey } from '../indexer/update/keys.js';
import { policyForbids, type EffectiveUpdateSettings } from '../indexer/update/policy.js';
import { isRefusal, UpdateRefusal } from '../indexer/update/refusal.js';
import { isBad, markBad, noteInstalled, readState, updateState } from '../indexer/update/state.js';
import type { UpdateCardView, UpdateHistoryEntry } from '../shared/api.js';
import { appendHistory, readHistory } from './update-history.js';

/** The slice of electron-updater's AppUpdater this adapter drives. */
export interface AutoUpdaterLike {
  autoDownload: boolean;
  autoInstallOnAppQuit: boolean;
  allowDowngrade: boolean;
  channel: string | null;
  setFeedURL(options: { provider: 'generic'; url: string; channel?: string }): void;
  checkForUpdates(): Promise<{ updateInfo: { version: string } } | null>;
  downloadUpdate(): Promise<string[]>;
  quitAndInstall(isSilent?: boolean, isForceRunAfter?: boolean): void;
  on(event: 'download-progress', listener: (p: { percent: number; transferred: number; total: number }) => void): unknown;
}

export type TrayUpdateState = 'idle' | 'checking' | 'up-to-date' | 'available' | 'downloading' | 'ready-to-install' | 'installing' | 'verifying' | 'refused' | 'rolled-back' | 'error';

export interface TrayUpdateStatus {
  state: TrayUpdateState;
  currentVersion: string;
  version: string | null;
  percent: number | null;
  message: string | null;
  reason: string | null;
}

export interface InstallerStore {
  /** Keeps the installer of `version` (the next update's rollback target); returns where it lies. */
  keep(version: string, file: string): string;
  /** The kept installer of `version`, if any. */
  find(version: string): string | null;
  /** The versions whose installers are kept, newest first. */
  versions(): string[];
  /** Runs a kept installer to reinstall that version (the app quits and restarts on it). */
  reinstall(file: string): Promise<void>;
}

export interface TrayUpdaterDeps {
  autoUpdater: AutoUpdaterLike;
  /** Where update-state.json lives (the app's userData). */
  stateDir: string;
  currentVersion: string;
  trusted: readonly TrustedKey[];
  settings: () => EffectiveUpdateSettings;
  platform?: NodeJS.Platform;
  /** backupBeforeUpdate(): resolves with the verified backup's id. */
  backup: () => Promise<string>;
  restore: (backupId: string) => Promise<void>;
  installers: InstallerStore;
  notify: (message: string) => void;
  now?: () => Date;
}

export interface HealthProbe {
  /** Resolves when the indexer answers /health/ready; rejects after `timeoutMs`. */
  ready(timeoutMs: number): Promise<void>;
  /** Resolves true if the indexer crashed (or crash-looped) within `ms`. */
  crashedWithin(ms: number): Promise<boolean>;
}

export class TrayUpdater {
  private s: TrayUpdateStatus;
  private gate: SignedManifest | null = null;
  private downloaded: string | null = null;
  private lastCheck: { at: string; result: string } | null = null;
  private readonly listeners = new Set<(s: TrayUpdateStatus) => void>();
  constructor(private readonly d: TrayUpdaterDeps) {
    this.s = { state: 'idle', currentVersion: d.currentVersion, version: null, percent: null, message: null, reason: null };
    const u = d.autoUpdater;
    u.autoDownload = false;
    u.autoInstallOnAppQuit = false;
    u.allowDowngrade = false;
    u.on('download-progress', (p) => this.set({ state: 'downloading', percent: Math.round(p.percent) }));
  }

  status(): TrayUpdateStatus {
    return { ...this.s };
  }
  /** Every change (download progress included); the dashboard's card follows it. Returns the unsubscribe. */
  onDidChange(listener: (s: TrayUpdateStatus) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }
  private set(p: Partial<TrayUpdateStatus>): void {
    this.s = { ...this.s, ...p };
    for (const l of this.listeners) {
      try {
        l(this.status());
      } catch {
        // A closed window's listener must not break the update.
      }
    }
  }
  private now(): Date {
    return (this.d.now ?? (() => new Date()))();
  }
  private record(e: Omit<UpdateHistoryEntry, 'at'>): void {
    try {
      appendHistory(this.d.stateDir, { at: this.now().toISOString(), ...e });
    } catch {
      // The history is for the user; a full disk must not turn an update into a failure.
    }
  }
  /** `recorded`: a refused download or install goes into the history (a refused check only into lastCheck). */
  private refuse(e: unknown, recorded = true): TrayUpdateStatus {
    const msg = e instanceof Error ? e.message : String(e);
    const to = this.gate?.manifest.version ?? this.s.version;
    this.gate = null;
    this.set({ state: isRefusal(e) ? 'refused' : 'error', message: msg, reason: isRefusal(e) ? e.reason : null, percent: null });
    if (recorded) this.record({ outcome: 'refused', from: this.d.currentVersion, to, reason: isRefusal(e) ? e.reason : 'error', message: msg });
    return this.status();
  }

  /** The dashboard's Updates card (the same shape the headless service answers on GET /api/v1/update). */
  view(): UpdateCardView {
    const s = this.s;
    let off: UpdateCardView['off'] = null;
    let channel = 'latest';
    try {
      const st = this.d.settings();
      channel = st.channel;
      if (st.disabled) {
        const by = st.disabledBy ?? 'policy';
        off = by.startsWith('no feed')
          ? { kind: 'no-feed', message: 'No update feed is configured for this build (updates.feedUrl), so Owlet cannot look for updates.' }
          : { kind: 'policy', message: `Updates are turned off by the machine policy: ${by.replace(/^policy /, '')}.` };
      }
    } catch (e) {
      off = { kind: 'policy', message: `the update settings cannot be read: ${e instanceof Error ? e.message : String(e)}` };
    }
    let bad: UpdateCardView['bad'] = [];
    try {
      bad = readState(this.d.stateDir).bad;
    } catch {
      // a damaged state file is reported by the check itself
    }
    const downloading = s.state === 'downloading' || s.state === 'installing' || s.state === 'verifying';
    return {
      host: 'app',
      running: this.d.currentVersion,
      off,
      channel,
      available: ['available', 'downloading', 'ready-to-install', 'installing'].includes(s.state) ? s.version : null,
      lastCheck: this.lastCheck,
      progress: downloading && s.version ? { version: s.version, phase: s.state, percent: s.state === 'downloading' ? s.percent : null } : null,
      readyToRestart: s.state === 'ready-to-install',
      previous: this.previousKept(),
      problem: s.state === 'refused' || s.state === 'error' ? s.message : null,
      history: readHistory(this.d.stateDir),
      bad,
    };
  }

  /** The newest kept installer older than the running version: what "Roll back" reinstalls. */
  private previousKept(): string | null {
    return this.d.installers.versions().find((v) => semver.valid(v) !== null && semver.lt(v, this.d.currentVersion)) ?? null;
  }

  /**
   * Dashboard "Roll back": reinstalls the kept previous version (the one explicit downgrade). The
   * version left stays the highest installed, so it is not offered automatically again.
   */
  async rollback(): Promise<TrayUpdateStatus> {
    const previous = this.previousKept();
    const file = previous ? this.d.installers.find(previous) : null;
    if (!previous || !file) return this.refuse(new UpdateRefusal('no-artifact', 'no previous version is kept to roll back to'), false);
    updateState(this.d.stateDir, (st) => {
      noteInstalled(st, this.d.currentVersion);
      st.lastResult = { outcome: 'rolled-back', from: this.d.currentVersion, to: previous, reason: 'requested', at: this.now().toISOString() };
    });
    this.record({ outcome: 'rolled-back', from: this.d.currentVersion, to: previous, reason: 'requested', message: null });
    this.set({ state: 'installing', version: previous, message: `rolling back to ${previous}` });
    this.d.autoUpdater.allowDowngrade = true;
    try {
      await this.d.installers.reinstall(file);
    } catch (e) {
      this.d.autoUpdater.allowDowngrade = false;
      return this.refuse(e);
    }
    return this.status();
  }

  /** The signature gate: verified manifest for a version this app may install, or a refusal. */
  private async verifiedOffer(): Promise<SignedManifest> {
    const st = this.d.settings();
    if (!st.feedUrl || st.disabled) throw new UpdateRefusal('policy', `updates are off: ${st.disabledBy ?? 'no feed configured'}`);
    const signed = await fetchSignedManifest({ feedUrl: st.feedUrl, channel: st.channel, platform: this.d.platform ?? process.platform, trusted: this.d.trusted, now: (this.d.now ?? (() => new Date()))(), stallMs: st.stallSeconds * 1000 });
    const v = signed.manifest.version;
    const state = readState(this.d.stateDir);
    if (isBad(state, v)) throw new UpdateRefusal('marked-bad', `version ${v} failed its health gate here before`);
    const floor = state.highestInstalled && semver.gt(state.highestInstalled, this.d.currentVersion) ? state.highestInstalled : this.d.currentVersion;
    if (v !== this.d.currentVersion && !semver.gt(v, floor)) throw new UpdateRefusal('not-newer', `the feed offers ${v}, not newer than ${floor}`);
    const forbidden = policyForbids(st, v);
    if (forbidden && v !== this.d.currentVersion) throw new UpdateRefusal('policy', forbidden);
    return signed;
  }

  /** Tray "Check for updates". */
  async check(): Promise<TrayUpdateStatus> {
    this.set({ state: 'checking', message: null, reason: null });
    try {
      const signed = await this.verifiedOffer();
      if (signed.manifest.version === this.d.currentVersion) {
        this.lastCheck = { at: this.now().toISOString(), result: 'up-to-date' };
        this.set({ state: 'up-to-date', version: signed.manifest.version });
        return this.status();
      }
      const st = this.d.settings();
      this.d.autoUpdater.setFeedURL({ provider: 'generic', url: st.feedUrl!, channel: st.channel });
      this.d.autoUpdater.channel = st.channel;
      const offered = await this.d.autoUpdater.checkForUpdates();
      if (!offered || offered.updateInfo.version !== signed.manifest.version) {
        throw new UpdateRefusal('bad-manifest', `electron-updater sees ${offered?.updateInfo.version ?? 'no update'}, the signed manifest ${signed.manifest.version}`);
      }
      this.gate = signed;
      this.lastCheck = { at: this.now().toISOString(), result: `available ${signed.manifest.version}` };
      this.set({ state: 'available', version: signed.manifest.version });
      return this.status();
    } catch (e) {
      this.lastCheck = { at: this.now().toISOString(), result: isRefusal(e) ? `refused: ${e.reason}` : 'error' };
      return this.refuse(e, false);
    }
  }

  /** Dashboard "Download": only after the signature gate passed for this version. */
  async download(): Promise<TrayUpdateStatus> {
    if (!this.gate) return this.refuse(new UpdateRefusal('missing-signature', 'no verified manifest: check for updates first'));
    try {
      // Verify again right before downloading: the feed may have changed since the check.
      const signed = await this.verifiedOffer();
      if (signed.manifest.version !== this.gate.manifest.version) throw new UpdateRefusal('bad-manifest', 'the feed changed between check and download; check again');
      this.gate = signed;
      this.set({ state: 'downloading', percent: 0 });
      const files = await this.d.autoUpdater.downloadUpdate();
      this.downloaded = files[0] ?? null;
      if (!this.downloaded) throw new UpdateRefusal('truncated', 'electron-updater reported no downloaded file');
      this.set({ state: 'ready-to-install', percent: 100 });
      return this.status();
    } catch (e) {
      return this.refuse(e);
    }
  }

  /** Dashboard "Restart to update". */
  async install(): Promise<TrayUpdateStatus> {
    const signed = this.gate;
    const file = this.downloaded;
    if (!signed || !file) return this.refuse(new UpdateRefusal('missing-signature', 'nothing verified is downloaded'));
    try {
      const m = signed.manifest;
      const entry = m.files.find((f) => f.url === path.basename(file)) ?? (m.path === path.basename(file) && m.sha512 ? { sha512: m.sha512, size: -1 } : undefined);
      if (!entry) throw new UpdateRefusal('no-artifact', `${path.basename(file)} is not listed in the signed manifest`);
      if (entry.size >= 0 && fs.statSync(file).size !== entry.size) throw new UpdateRefusal('size-mismatch', `${path.basename(file)} does not have the signed size`);
      if ((await sha512OfFile(file)) !== entry.sha512) throw new UpdateRefusal('sha512-mismatch', `${path.basename(file)} does not match the signed sha512`);
      const backupId = await this.d.backup();
      this.d.installers.keep(m.version, file);
      updateState(this.d.stateDir, (s) => {
        s.pending = { version: m.version, previous: this.d.currentVersion, phase: 'gating', startedAt: (this.d.now ?? (() => new Date()))().toISOString(), backupId, schemaChanged: false };
      });
      this.set({ state: 'installing' });
      this.d.autoUpdater.quitAndInstall(false, true);
      return this.status();
    } catch (e) {
      return this.refuse(e);
    }
  }

  /**
   * At every launch: a pending verification for this version runs the health gate. A launch on
   * the previous version means the install did not happen; the record is dropped.
   */
  async verifyAfterLaunch(health: HealthProbe, gate: { readySeconds: number; stableSeconds: number }): Promise<'none' | 'installed' | 'rolled-back' | 'not-installed'> {
    const pending = readState(this.d.stateDir).pending;
    if (!pending) return 'none';
    if (pending.version !== this.d.currentVersion) {
      updateState(this.d.stateDir, (s) => void (s.pending = null));
      return 'not-installed';
    }
    this.set({ state: 'verifying', version: pending.version });
    let failure: string | null = null;
    try {
      await health.ready(gate.readySeconds * 1000);
      if (await health.crashedWithin(gate.stableSeconds * 1000)) failure = `crashed within its first ${gate.stableSeconds} s`;
    } catch (e) {
      failure = `not ready within ${gate.readySeconds} s (${e instanceof Error ? e.message : String(e)})`;
    }
    const now = (this.d.now ?? (() => new Date()))();
    if (!failure) {
      updateState(this.d.stateDir, (s) => {
        noteInstalled(s, pending.version);
        s.pending = null;
        s.lastResult = { outcome: 'installed', from: pending.previous, to: pending.version, at: now.toISOString() };
      });
      this.record({ outcome: 'installed', from: pending.previous, to: pending.version, reason: null, message: null });
      this.set({ state: 'up-to-date' });
      return 'installed';
    }
    const previousInstaller = pending.previous ? this.d.installers.find(pending.previous) : null;
    updateState(this.d.stateDir, (s) => {
      markBad(s, pending.version, failure!, now);
      s.pending = null;
      s.lastResult = { outcome: 'rolled-back', from: pending.previous, to: pending.version, reason: failure, at: now.toISOString() };
    });
    this.record({ outcome: 'rolled-back', from: pending.previous, to: pending.version, reason: 'health-gate', message: `${pending.version} ${failure}` });
    if (pending.backupId) await this.d.restore(pending.backupId).catch((e) => this.d.notify(`restoring the pre-update backup failed: ${e instanceof Error ? e.message : String(e)}`));
    this.set({ state: 'rolled-back', message: `${pending.version} ${failure}; reinstalling ${pending.previous ?? 'the previous version'}` });
    this.d.notify(`Owlet ${pending.version} ${failure} and was rolled back to ${pending.previous ?? 'the previous version'}.`);
    if (previousInstaller) {
      // An explicit rollback is the one time a downgrade is allowed.
      this.d.autoUpdater.allowDowngrade = true;
      await this.d.installers.reinstall(previousInstaller);
    } else {
      this.d.notify(`The installer of ${pending.previous ?? 'the previous version'} was not kept; reinstall it by hand.`);
    }
    return 'rolled-back';
  }
}
