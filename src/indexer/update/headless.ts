import fs from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { toErrorInfo, type ErrorInfo } from '../../shared/errors.js';
import type { AuditLog, UpdateStep } from '../audit/types.js';
import type { Logger } from '../log/logger.js';
import { decide, fetchSignedManifest, type CheckOutcome } from './check.js';
import { assertDiskSpace, statfsFree, type FreeBytes } from './disk.js';
import { downloadToFile } from './download.js';
import { loadTrustedKeys } from './keys.js';
import { cleanLeftovers, currentVersion, entryOf, installedVersions, prune, switchCurrent, versionRoot, type Installation } from './layout.js';
import type { EffectiveUpdateSettings } from './policy.js';
import { isRefusal, UpdateRefusal, type RefusalReason } from './refusal.js';
import { markBad, noteInstalled, readState, updateState, writeState, type UpdateState } from './state.js';
import type { UpdateStepName } from './test-hold.js';
import { unpackRelease } from './unpack.js';

/** The part of the indexer host (src/indexer/host) an update drives: which tree the child runs, and restarts. */
export interface ServiceEntryLike {
  modulePath: string;
  execArgv?: string[];
  version?: string;
}

export interface UpdatableHost {
  readonly entry: ServiceEntryLike;
  setEntry(entry: ServiceEntryLike): void;
  /** Stop with drain, start the current entry; resolves when the new child is ready. */
  restart(reason?: string, timeoutMs?: number): Promise<unknown>;
  onDidCrash(listener: (c: unknown) => void): { dispose(): void };
  /** Resolves when the running service is ready; rejects when it fails or the timeout passes. */
  whenReady?(timeoutMs?: number): Promise<unknown>;
}

/**
 * Under the installed launcher (host/supervisor-launcher.ts): `prepare` loads `version`'s supervisor
 * in standby (from `root` when given) and says whether it loaded; `leave` stops the service and hands
 * it to that supervisor (this process then exits).
 */
export interface SupervisorMove {
  prepare(version: string, root?: string): Promise<boolean>;
  leave(version: string): void;
}

export interface BackupTaken {
  id: string;
  schemaVersion: number;
}

export interface HeadlessUpdaterDeps {
  installation: Installation;
  host: UpdatableHost;
  settings: () => EffectiveUpdateSettings;
  /** The verified pre-update backup (backupBeforeUpdate through the running service). */
  backup: () => Promise<BackupTaken>;
  /** Restores a backup with the service stopped (used when a rolled-back version changed the schema). */
  restore: (backupId: string) => Promise<void>;
  /** This version's index schema; a release records its own in package.json (`owletSchemaVersion`). */
  schemaVersion: number;
  log: Logger;
  audit: AuditLog;
  /** Raised when an update is rolled back (the `update-rolled-back` alert). */
  onAlert?: (a: { id: 'update-rolled-back'; severity: 'warning'; message: string }) => void;
  platform?: NodeJS.Platform;
  arch?: string;
  now?: () => Date;
  free?: FreeBytes;
  /** Set by the running supervisor (status names it); absent in the CLI's read-only updater. */
  supervisorPid?: number;
  /** Set under the launcher: a good update then costs one outage (the new supervisor starts the new service and gates it). */
  move?: SupervisorMove;
  /** Test seam: runs between steps with the step's name (kill-at-each-step tests). */
  onStep?: (step: UpdateStepName) => void | Promise<void>;
}

/** `handed-over`: the new version's supervisor runs the health gate; the final outcome lands in the state file (`followApply` in control.ts waits for it). */
export type ApplyOutcome = 'installed' | 'rolled-back' | 'refused' | 'up-to-date' | 'staged-out' | 'handed-over';

export interface ApplyResult {
  outcome: ApplyOutcome;
  from: string;
  to: string | null;
  reason?: RefusalReason | 'not-ready' | 'crashed' | 'start-failed';
  message?: string;
  /** From stopping the old service to the new one answering ready (rollbacks: until the old one is back). */
  downtimeMs?: number;
  backupId?: string;
  error?: ErrorInfo;
}

export interface UpdateStatus {
  installed: boolean;
  prefix: string;
  running: string;
  current: string | null;
  versions: string[];
  highestInstalled: string | null;
  bad: UpdateState['bad'];
  pending: UpdateState['pending'];
  lastCheck: UpdateState['lastCheck'];
  lastResult: UpdateState['lastResult'];
  settings: { feedUrl: string | null; channel: string; disabled: boolean; disabledBy?: string; pinnedVersion?: string };
  /** The `owlet run` supervisor answering: the version of the code it runs (it moves with `current`). Null when none answers. */
  supervisor: { version: string; pid: number } | null;
}

/**
 * The headless update engine inside `owlet run`'s supervisor. `apply` downloads and verifies (no
 * downtime), unpacks beside the running version and takes the verified pre-update backup. Under
 * the installed launcher it then has the new version's supervisor loaded in standby from the new
 * tree, moves `current` and hands the service over: the one outage of the update. The new
 * supervisor starts the new service and holds it to the health gate (`recoverInterrupted` finds the
 * update in its `switching` phase): ready within `readySeconds`, no crash within `stableSeconds`.
 * Without a launcher, or when the new supervisor does not load, the service restarts on the new
 * tree under this supervisor and `current` moves once it is ready. Any gate failure switches
 * `current` back, restores the backup if the schema changed, marks the version bad and raises
 * `update-rolled-back` (after a hand-over the service then goes back to the previous version's
 * supervisor). Every step is an `update.*` audit entry.
 *
 * Kill safety: `current` moves only to a tree whose supervisor loaded (hand-over) or whose service
 * answered ready, and every tree under a version name is complete (unpacked as `.partial`, then
 * renamed). A supervisor killed at any step restarts from `current`: before the move the old
 * version, which clears the leftovers; after it the new one, which runs (or, once it had answered
 * ready, records as interrupted) the gate.
 */
/**
 * The supervisor an update handed over to failed before its health gate could run (its
 * configuration, key store or host threw at start-up): `current` goes back to the previous
 * version, this one is marked bad and the rollback recorded, so the launcher's restart runs the
 * previous supervisor instead of crash-looping on a version that was never gated. Its service
 * never ran, so the index was not migrated and needs no restore. False when no hand-over to this
 * version is pending (an ordinary start-up failure stays one).
 */
export function abandonMove(installation: Installation, reason: string, now: Date = new Date()): { from: string; to: string } | null {
  const l = installation.layout;
  const own = installation.version;
  const s = readState(l.prefix);
  const p = s.pending;
  if (!p || p.phase !== 'switching' || p.version !== own || currentVersion(l) !== own || !p.previous || !installedVersions(l).includes(p.previous)) return null;
  switchCurrent(l, p.previous);
  const message = `${own} failed to start its supervisor (${reason}); back on ${p.previous}`;
  markBad(s, own, message, now);
  s.pending = null;
  s.lastResult = { outcome: 'rolled-back', from: p.previous, to: own, reason: 'supervisor-failed', message, downtimeMs: null, at: now.toISOString() };
  writeState(l.prefix, s);
  return { from: p.previous, to: own };
}

export class HeadlessUpdater {
  private busy = false;
  /** The service was handed to the next version's supervisor: this one is leaving. */
  private handedOver = false;
  constructor(private readonly d: HeadlessUpdaterDeps) {}

  /** True while an update or rollback runs: a service failure then belongs to the health gate. */
  get inProgress(): boolean {
    return this.busy;
  }

  private get layout() {
    return this.d.installation.layout;
  }
  private now(): Date {
    return (this.d.now ?? (() => new Date()))();
  }
  private step(name: UpdateStep, fields: Record<string, string | number | boolean | null>): void {
    this.d.log.info(`update ${name}`, fields);
    this.d.audit.append(`update.${name}`, fields);
  }

  /**
   * Start-up: finish or undo what a killed update left (never run a `.partial`, clear `pending`).
   * When this supervisor is the version an update handed over to (`current` already names it, the
   * update is in its `switching` phase), it runs the health gate itself and the returned promise
   * settles with the outcome; `movedAt` is when the previous supervisor stopped its service.
   */
  recoverInterrupted(movedAt?: number): Promise<ApplyResult> | null {
    const removed = cleanLeftovers(this.layout);
    if (removed.length) this.d.log.info('update leftovers removed', { count: removed.length });
    const s = readState(this.layout.prefix);
    const p = s.pending;
    const own = this.d.installation.version;
    if (p && p.phase === 'switching' && p.version === own && currentVersion(this.layout) === own && p.previous && installedVersions(this.layout).includes(p.previous)) {
      this.busy = true;
      return this.gateAfterMove(p.previous, own, { id: p.backupId ?? '', schemaVersion: 0 }, p.schemaChanged, movedAt ?? Date.now()).finally(() => {
        this.busy = false;
      });
    }
    if (p) {
      this.step('interrupted', { version: p.version, phase: p.phase, current: currentVersion(this.layout) });
      s.pending = null;
      s.lastResult = { outcome: 'interrupted', version: p.version, phase: p.phase, at: this.now().toISOString() };
      writeState(this.layout.prefix, s);
    }
    if (currentVersion(this.layout) === null && installedVersions(this.layout).includes(own)) switchCurrent(this.layout, own);
    return null;
  }

  /** The health gate, run by the new version's supervisor after a handover (the service it started is this version's). */
  private async gateAfterMove(from: string, to: string, backup: BackupTaken, schemaChanged: boolean, t0: number): Promise<ApplyResult> {
    const gate = this.d.settings().healthGate;
    const whenReady = this.d.host.whenReady?.bind(this.d.host);
    let failure: { reason: 'not-ready' | 'crashed' | 'start-failed'; message: string } | undefined = await this.untilReady(to, () => {
      if (!whenReady) throw new Error('this host cannot report readiness');
      return whenReady(gate.readySeconds * 1000);
    });
    const downtimeMs = failure ? undefined : Date.now() - t0;
    if (!failure) failure = await this.gateReady(to, downtimeMs);
    const previousEntry = { ...this.d.host.entry, modulePath: entryOf(this.layout, from), version: from };
    if (failure) return this.rollBack({ from, to, previousEntry, backup, schemaChanged, failure, t0, handBack: true });
    return this.passed(from, to, downtimeMs, backup);
  }

  /** The service answered ready: record it, then watch it for `stableSeconds`. */
  private async gateReady(to: string, downtimeMs: number | undefined): Promise<{ reason: 'crashed'; message: string } | undefined> {
    const l = this.layout;
    this.step('service-started', { version: to, downtimeMs: downtimeMs ?? -1 });
    await this.d.onStep?.('started');
    // A kill during the gate starts the new version, which did come up; a failed gate switches back.
    if (currentVersion(l) !== to) switchCurrent(l, to);
    updateState(l.prefix, (s) => {
      if (s.pending) s.pending.phase = 'gating';
    });
    this.step('switched', { version: to });
    await this.d.onStep?.('switched');
    return this.watchStable(this.d.settings().healthGate.stableSeconds * 1000, to);
  }

  private async passed(from: string, to: string, downtimeMs: number | undefined, backup: BackupTaken): Promise<ApplyResult> {
    const l = this.layout;
    const pruned = prune(l, [to, from]);
    updateState(l.prefix, (s) => {
      noteInstalled(s, to);
      s.pending = null;
      s.lastResult = { outcome: 'installed', from, to, downtimeMs: downtimeMs ?? null, backupId: backup.id, at: this.now().toISOString() };
    });
    this.d.audit.append('update.installed', { from, to, downtimeMs: downtimeMs ?? -1, backupId: backup.id, pruned: pruned.join(',') });
    this.d.log.info('update installed', { from, to, downtimeMs, pruned });
    await this.d.onStep?.('gated');
    return { outcome: 'installed', from, to, ...(downtimeMs !== undefined ? { downtimeMs } : {}), backupId: backup.id };
  }

  status(): UpdateStatus {
    const s = readState(this.layout.prefix);
    const st = this.d.settings();
    return {
      installed: true,
      prefix: this.layout.prefix,
      running: this.runningVersion(),
      current: currentVersion(this.layout),
      versions: installedVersions(this.layout),
      highestInstalled: s.highestInstalled,
      bad: s.bad,
      pending: s.pending,
      lastCheck: s.lastCheck,
      lastResult: s.lastResult,
      settings: { feedUrl: st.feedUrl, channel: st.channel, disabled: st.disabled, ...(st.disabledBy ? { disabledBy: st.disabledBy } : {}), ...(st.pinnedVersion ? { pinnedVersion: st.pinnedVersion } : {}) },
      supervisor: this.d.supervisorPid !== undefined ? { version: this.d.installation.version, pid: this.d.supervisorPid } : null,
    };
  }

  /** The version the service runs now (the host's entry), else the supervisor's own. */
  runningVersion(): string {
    return this.d.host.entry.version ?? currentVersion(this.layout) ?? this.d.installation.version;
  }

  async check(feedOverride?: string): Promise<CheckOutcome> {
    const st = this.d.settings();
    const feedUrl = feedOverride ?? st.feedUrl;
    if (!feedUrl) throw new UpdateRefusal('policy', `updates are off: ${st.disabledBy ?? 'no feed configured'}`);
    const state = readState(this.layout.prefix);
    try {
      const signed = await fetchSignedManifest({
        feedUrl,
        channel: st.channel,
        platform: this.d.platform ?? process.platform,
        trusted: loadTrustedKeys(versionRoot(this.layout, this.runningVersion())),
        now: this.now(),
        stallMs: st.stallSeconds * 1000,
      });
      const out = decide({ signed, settings: { ...st, feedUrl }, currentVersion: this.runningVersion(), state, platform: this.d.platform ?? process.platform, arch: this.d.arch ?? process.arch, feedUrl });
      state.lastCheck = { at: this.now().toISOString(), result: out.status === 'available' ? `available ${out.version}` : out.status };
      writeState(this.layout.prefix, state);
      return out;
    } catch (e) {
      state.lastCheck = { at: this.now().toISOString(), result: isRefusal(e) ? `refused: ${e.reason}` : 'error' };
      writeState(this.layout.prefix, state);
      throw e;
    }
  }

  async apply(feedOverride?: string): Promise<ApplyResult> {
    const from = this.runningVersion();
    if (this.busy || this.handedOver) return { outcome: 'refused', from, to: null, reason: 'busy', message: 'another update is already in progress' };
    this.busy = true;
    try {
      return await this.applyLocked(from, feedOverride);
    } finally {
      this.busy = false;
    }
  }

  private refused(from: string, to: string | null, e: unknown): ApplyResult {
    const info = toErrorInfo(e);
    const reason = isRefusal(e) ? e.reason : undefined;
    this.step('refused', { from, to, reason: reason ?? info.code, message: info.message });
    const r: ApplyResult = { outcome: 'refused', from, to, ...(reason ? { reason } : {}), message: info.message, error: info };
    updateState(this.layout.prefix, (s) => {
      s.pending = null;
      s.lastResult = { ...r, at: this.now().toISOString() };
    });
    return r;
  }

  private async applyLocked(from: string, feedOverride?: string): Promise<ApplyResult> {
    const st = this.d.settings();
    let offer: CheckOutcome;
    try {
      offer = await this.check(feedOverride);
    } catch (e) {
      return this.refused(from, null, e);
    }
    if (offer.status !== 'available') return { outcome: offer.status, from, to: offer.version };
    const to = offer.version;
    const l = this.layout;
    const artifactFile = path.join(l.downloads, path.basename(offer.artifact.url));
    // Steps before the restart: any failure is a refusal, the running service never noticed.
    try {
      assertDiskSpace(l.prefix, offer.artifact.size, offer.artifact.unpackedSize, this.d.free ?? statfsFree);
      this.step('started', { from, to, keyId: offer.manifest.keyId });
      updateState(l.prefix, (s) => {
        s.pending = { version: to, previous: from, phase: 'downloading', startedAt: this.now().toISOString(), backupId: null, schemaChanged: false };
      });
      fs.mkdirSync(l.downloads, { recursive: true, mode: 0o700 });
      fs.rmSync(artifactFile, { force: true });
      const got = await downloadToFile(offer.url, artifactFile, {
        maxBytes: offer.artifact.size,
        expectedSize: offer.artifact.size,
        stallMs: st.stallSeconds * 1000,
        deadlineMs: st.downloadMinutes * 60_000,
      });
      if (got.size !== offer.artifact.size) throw new UpdateRefusal('size-mismatch', `got ${got.size} bytes, the manifest says ${offer.artifact.size}`);
      if (got.sha512 !== offer.artifact.sha512) throw new UpdateRefusal('sha512-mismatch', `the package's sha512 is not the one in the signed manifest`);
      this.step('downloaded', { version: to, bytes: got.size });
      await this.d.onStep?.('downloaded');
      updateState(l.prefix, (s) => {
        if (s.pending) s.pending.phase = 'unpacking';
      });
      if (to === from || to === currentVersion(l)) throw new UpdateRefusal('not-newer', `${to} is the version in use`);
      const root = await unpackRelease(l, to, artifactFile, async () => void (await this.d.onStep?.('unpacking')));
      fs.rmSync(artifactFile, { force: true });
      this.step('unpacked', { version: to, root });
      await this.d.onStep?.('unpacked');
    } catch (e) {
      fs.rmSync(artifactFile, { force: true });
      return this.refused(from, to, e);
    }
    let backup: BackupTaken;
    try {
      backup = await this.d.backup();
    } catch (e) {
      return this.refused(from, to, new UpdateRefusal('bad-release', `the pre-update backup failed, so nothing was changed: ${toErrorInfo(e).message}`));
    }
    const newSchema = releaseSchemaVersion(versionRoot(l, to));
    const schemaChanged = newSchema !== null && newSchema !== this.d.schemaVersion;
    this.step('backed-up', { version: to, backupId: backup.id, schemaChanged });
    await this.d.onStep?.('backed-up');
    updateState(l.prefix, (s) => {
      if (s.pending) Object.assign(s.pending, { phase: 'switching', backupId: backup.id, schemaChanged });
    });
    if (this.d.move) {
      // One outage: the next supervisor is loaded in standby from the new tree first (proving it
      // starts), then `current` moves and this supervisor hands the service over; the new one
      // starts the new service and runs the health gate itself (recoverInterrupted).
      if (await this.d.move.prepare(to, versionRoot(l, to))) {
        switchCurrent(l, to);
        this.handedOver = true;
        this.step('handed-over', { from, to });
        return { outcome: 'handed-over', from, to, backupId: backup.id, message: `${to}'s supervisor starts the new service and runs the health gate` };
      }
      this.d.log.warn("the new version's supervisor did not load in standby; the update runs under this one", { to });
    }
    // The swap: the service restarts on the new tree. Downtime runs from here to ready.
    const previousEntry = { ...this.d.host.entry };
    const gate = st.healthGate;
    const t0 = Date.now();
    this.d.host.setEntry({ ...previousEntry, modulePath: entryOf(l, to), version: to });
    let failure: { reason: 'not-ready' | 'crashed' | 'start-failed'; message: string } | undefined = await this.untilReady(to, () => this.d.host.restart(`update to ${to}`, gate.readySeconds * 1000));
    const downtimeMs = failure ? undefined : Date.now() - t0;
    if (!failure) failure = await this.gateReady(to, downtimeMs);
    if (failure) return this.rollBack({ from, to, previousEntry, backup, schemaChanged, failure, t0 });
    return this.passed(from, to, downtimeMs, backup);
  }

  /**
   * Waits for the new service to be ready within `readySeconds`; resolves with the gate's failure, or
   * undefined once it is ready. A service that exits before ready a second time fails the gate then
   * (the supervisor restarts it after 0.5 s): a release whose service exits at start was otherwise
   * waited for the whole of `readySeconds` (30 s by default, search down all along). One early exit
   * is forgiven (a transient start failure); a hang or a ready timeout is left to `readySeconds`; and
   * when the supervisor gives up on the start, its own reason is the one reported.
   */
  private async untilReady(to: string, ready: () => Promise<unknown>): Promise<{ reason: 'not-ready' | 'crashed'; message: string } | undefined> {
    const readySeconds = this.d.settings().healthGate.readySeconds;
    const notReady = (e: unknown) => ({ reason: 'not-ready' as const, message: `${to} was not ready within ${readySeconds} s: ${toErrorInfo(e).message}` });
    let startError: { error: unknown } | undefined;
    const started = Promise.resolve().then(ready);
    started.catch((error: unknown) => void (startError = { error }));
    let sub: { dispose(): void } | undefined;
    const crashed = new Promise<{ reason: 'not-ready' | 'crashed'; message: string }>((resolve) => {
      let exits = 0;
      sub = this.d.host.onDidCrash((c) => {
        const reason = (c as { reason?: string } | undefined)?.reason;
        if (reason === 'hung' || reason === 'ready-timeout' || ++exits < 2) return;
        // After this turn: a supervisor that gave up rejects the start in the same turn, with its reason.
        setImmediate(() => resolve(startError ? notReady(startError.error) : { reason: 'crashed', message: `${to} exited twice before it was ready (${crashWords(c)})` }));
      });
    });
    try {
      return await Promise.race([started.then(() => undefined), crashed]);
    } catch (e) {
      return notReady(e);
    } finally {
      sub?.dispose();
    }
  }

  /** Resolves with a failure if the service crashes within `ms`, else undefined. */
  private watchStable(ms: number, version: string): Promise<{ reason: 'crashed'; message: string } | undefined> {
    if (ms <= 0) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        sub.dispose();
        resolve(undefined);
      }, ms);
      const sub = this.d.host.onDidCrash((c) => {
        clearTimeout(timer);
        sub.dispose();
        resolve({ reason: 'crashed', message: `${version} crashed within its first ${Math.round(ms / 1000)} s (${crashWords(c)})` });
      });
    });
  }

  private async rollBack(o: {
    from: string;
    to: string;
    previousEntry: ServiceEntryLike;
    backup: BackupTaken;
    schemaChanged: boolean;
    failure: { reason: 'not-ready' | 'crashed' | 'start-failed'; message: string };
    t0: number;
    /** Run by the new version's supervisor after a handover: stop, and hand the service back to the previous version's supervisor. */
    handBack?: boolean;
  }): Promise<ApplyResult> {
    const l = this.layout;
    this.d.log.warn('update failed its health gate; rolling back', { from: o.from, to: o.to, reason: o.failure.reason });
    this.step('gate-failed', { version: o.to, reason: o.failure.reason, message: o.failure.message });
    if (currentVersion(l) !== o.from && installedVersions(l).includes(o.from)) switchCurrent(l, o.from);
    this.d.host.setEntry(o.previousEntry);
    let restoreError: string | null = null;
    let restored = false;
    if (o.schemaChanged) {
      // The old code cannot open an index a newer schema migrated: put the pre-update copy back first.
      try {
        await (this.d.host as { stop?: (r?: string) => Promise<void> }).stop?.('rollback restore');
        await this.d.restore(o.backup.id);
        restored = true;
        this.step('backup-restored', { backupId: o.backup.id });
      } catch (e) {
        restoreError = toErrorInfo(e).message;
        this.d.log.error('restoring the pre-update backup failed', { backupId: o.backup.id, error: restoreError });
      }
    }
    let back = false;
    let downtimeMs: number | undefined;
    const handBack = o.handBack === true && this.d.move !== undefined;
    if (handBack) {
      // The previous version's supervisor (started from `current`, switched back above) starts its service.
      if (!o.schemaChanged) await (this.d.host as { stop?: (r?: string) => Promise<void> }).stop?.('rollback: handing back');
      back = true;
    } else try {
      await this.d.host.restart(`rollback to ${o.from}`, Math.max(30_000, this.d.settings().healthGate.readySeconds * 1000));
      back = true;
      downtimeMs = Date.now() - o.t0;
    } catch (e) {
      this.d.log.error('the previous version did not come back after the rollback', { version: o.from, error: toErrorInfo(e).message });
    }
    if (handBack) downtimeMs = Date.now() - o.t0;
    const message = `${o.to} failed its health gate (${o.failure.message}); back on ${o.from}${handBack ? " (its supervisor restarts the service)" : ''}${restored ? ', pre-update backup restored' : ''}${restoreError ? `; restoring the backup failed: ${restoreError}` : ''}${back ? '' : '; the previous version has not come back yet'}`;
    updateState(l.prefix, (s) => {
      markBad(s, o.to, o.failure.message, this.now());
      s.pending = null;
      s.lastResult = { outcome: 'rolled-back', from: o.from, to: o.to, reason: o.failure.reason, message, downtimeMs: downtimeMs ?? null, at: this.now().toISOString() };
    });
    this.d.audit.append('update.rolled-back', { from: o.from, to: o.to, reason: o.failure.reason, restored, serviceBack: back });
    this.d.onAlert?.({ id: 'update-rolled-back', severity: 'warning', message });
    if (handBack) {
      this.handedOver = true;
      this.d.move!.leave(o.from);
    }
    return { outcome: 'rolled-back', from: o.from, to: o.to, reason: o.failure.reason, message, ...(downtimeMs !== undefined ? { downtimeMs } : {}), backupId: o.backup.id };
  }

  /**
   * `owlet update rollback`: back to the kept previous version (the only way down). The version
   * left is not marked bad (the user chose), but stays the highest installed, so it is not offered
   * automatically again.
   */
  async rollback(): Promise<ApplyResult> {
    const from = this.runningVersion();
    const l = this.layout;
    const previous = installedVersions(l).find((v) => v !== from && semver.lt(v, from));
    if (!previous) return { outcome: 'refused', from, to: null, message: 'there is no previous version kept to roll back to' };
    // A supervisor that handed its service over (or back) is leaving: a rollback now would move
    // `current` under the supervisor that takes over.
    if (this.busy || this.handedOver) return { outcome: 'refused', from, to: previous, reason: 'busy', message: 'an update is in progress' };
    this.busy = true;
    try {
      const previousEntry = { ...this.d.host.entry };
      const t0 = Date.now();
      this.d.host.setEntry({ ...previousEntry, modulePath: entryOf(l, previous), version: previous });
      try {
        await this.d.host.restart(`rollback to ${previous}`, 60_000);
      } catch (e) {
        this.d.host.setEntry(previousEntry);
        await this.d.host.restart(`rollback to ${previous} failed; back to ${from}`, 60_000).catch(() => undefined);
        return { outcome: 'refused', from, to: previous, reason: 'start-failed', message: `${previous} did not start: ${toErrorInfo(e).message}` };
      }
      switchCurrent(l, previous);
      const downtimeMs = Date.now() - t0;
      updateState(l.prefix, (s) => {
        s.lastResult = { outcome: 'rolled-back', from, to: previous, reason: 'requested', downtimeMs, at: this.now().toISOString() };
      });
      this.d.audit.append('update.rolled-back', { from, to: previous, reason: 'requested', downtimeMs });
      return { outcome: 'rolled-back', from, to: previous, message: `rolled back from ${from} to ${previous} as requested`, downtimeMs };
    } finally {
      this.busy = false;
    }
  }
}

/** The index schema a release tree was built with (recorded by `npm run release`), null when unknown. */
export function releaseSchemaVersion(root: string): number | null {
  try {
    const v = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { owletSchemaVersion?: unknown }).owletSchemaVersion;
    return typeof v === 'number' ? v : null;
  } catch {
    return null;
  }
}

export { readState };

/** A crash as the supervisor reported it, in words: "exit, code 1", "fatal, code 70: <the service's own message>". */
function crashWords(c: unknown): string {
  const why = (c as { reason?: string; code?: number | null; signal?: string | null; error?: { message?: string } } | undefined) ?? {};
  return `${why.reason ?? 'exit'}${why.code != null ? `, code ${why.code}` : ''}${why.signal ? `, ${why.signal}` : ''}${why.error?.message ? `: ${why.error.message}` : ''}`;
}
