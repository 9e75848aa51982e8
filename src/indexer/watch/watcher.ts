import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log/logger.js';

/** The slice of @parcel/watcher we use, injectable so tests can make the watcher fail. */
export interface WatchBackend {
  subscribe(
    dir: string,
    cb: (err: Error | null, events: { path: string; type: string }[]) => void,
    opts?: { ignore?: string[]; backend?: 'inotify' | 'windows' | 'fs-events' },
  ): Promise<{ unsubscribe(): Promise<void> }>;
}

/**
 * The OS's own notification API, named: @parcel/watcher's default first probes for watchman by
 * running `sh -c "watchman …"` through popen, and without watchman installed that child is never
 * reaped — a zombie `sh` for the service's whole life.
 */
export function nativeWatchBackend(platform: NodeJS.Platform = process.platform): 'inotify' | 'windows' | 'fs-events' | undefined {
  return platform === 'linux' ? 'inotify' : platform === 'win32' ? 'windows' : platform === 'darwin' ? 'fs-events' : undefined;
}

/** What applying a batch of changes found: the folders it walked and how many entries changed. */
export interface ChangeReport {
  walkedDirs: readonly string[];
  changed: number;
}

export interface WatcherOptions {
  roots: readonly string[];
  exclude: readonly string[];
  debounceMs: number;
  /**
   * Quiet time after which a folder that appeared is walked again (default 10 × debounceMs, at
   * least 1 s). Files copied into a brand-new folder before the OS watches it raise no event.
   */
  settleMs?: number;
  /** Rescan period used when events cannot be had (e.g. the inotify watch limit is reached). */
  pollMs: number;
  backend: WatchBackend;
  log: Logger;
  /** Receives coalesced changed paths; reports the folders it walked and what changed. */
  onChanges: (paths: string[]) => Promise<ChangeReport | void>;
  /** A full reconcile of the roots: periodic in polling mode, and after the OS dropped events. */
  onPoll: () => Promise<void>;
}

export type WatchMode = 'events' | 'polling' | 'off';

/**
 * A walk of a settled folder that still finds changes is repeated (the copy may still be going on
 * in folders the OS does not watch); bounded, since the periodic rescan remains the safety net.
 */
const MAX_SETTLE_ROUNDS = 20;
/** Events keep postponing a settle walk, but never by more than this many settle periods. */
const MAX_SETTLE_DELAY_FACTOR = 10;

/** Errors with which backends say events were lost (the subscription itself may survive). */
const EVENTS_LOST = /overflow|events (were|may have been) (dropped|lost)|must be re-scanned/i;

interface Settling {
  timer: NodeJS.Timeout | null;
  /** When the folder was first seen: events cannot postpone its walk indefinitely. */
  since: number;
  rounds: number;
}

/**
 * Keeps the index in step while the service runs. Events are coalesced for `debounceMs` and
 * handed over as paths; handling is serialised so a burst cannot run two updates at once.
 * A folder that appears is walked again once its events settle: inotify watches a new folder only
 * after seeing it, so files (and sub-folders) made in it before that raise no event. A walk that
 * finds what no event reported means the OS missed events: the root is subscribed afresh.
 * Lost-event errors trigger a full reconcile; other backend failures degrade to periodic rescans
 * and say so in `message`.
 */
export class Watcher {
  mode: WatchMode = 'off';
  message: string | null = null;
  private subs = new Map<string, { unsubscribe(): Promise<void> }>();
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private poller: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly settling = new Map<string, Settling>();
  private readonly settleMs: number;
  private readonly resubscribedAt = new Map<string, number>();

  constructor(private readonly opts: WatcherOptions) {
    this.settleMs = opts.settleMs ?? Math.max(1000, opts.debounceMs * 10);
  }

  /** Changed paths seen and not yet handed on (debouncing): status counts them as work in hand. */
  get pendingChanges(): number {
    return this.pending.size;
  }

  async start(): Promise<void> {
    try {
      for (const root of this.opts.roots) {
        const sub = await this.subscribe(root);
        // Stopped meanwhile (see resubscribe): release it instead of keeping it.
        if (this.closed) {
          await sub.unsubscribe().catch(() => {});
          return;
        }
        this.subs.set(root, sub);
      }
      this.mode = this.opts.roots.length ? 'events' : 'off';
      this.message = null;
    } catch (e) {
      this.degrade(`cannot watch for changes (${(e as Error).message}); rescanning every ${Math.round(this.opts.pollMs / 1000)} s instead`);
    }
  }

  private subscribe(root: string): Promise<{ unsubscribe(): Promise<void> }> {
    const ignore = this.opts.exclude.map((p) => (p.includes('/') ? p : `**/${p}`));
    const backend = nativeWatchBackend();
    return this.opts.backend.subscribe(
      root,
      (err, events) => {
        if (err) return this.onBackendError(root, err);
        for (const e of events) {
          this.pending.add(e.path);
          this.postponeSettling(e.path);
        }
        this.schedule();
      },
      backend ? { ignore, backend } : { ignore },
    );
  }

  private onBackendError(root: string, err: Error): void {
    if (this.closed) return;
    if (!EVENTS_LOST.test(err.message)) return this.degrade(`watcher error: ${err.message}`);
    // The OS dropped events: nothing tells which, so the whole index is compared with the disk.
    this.opts.log.warn('watcher lost events; reconciling with the disk', { root, reason: err.message });
    this.enqueue(async () => {
      await this.resubscribe(root);
      await this.opts.onPoll();
    });
  }

  /** Subscribes the root again (new subscription first, so no event falls between the two). */
  private async resubscribe(root: string): Promise<void> {
    if (this.closed || this.mode !== 'events') return;
    const old = this.subs.get(root);
    this.resubscribedAt.set(root, Date.now());
    let fresh: { unsubscribe(): Promise<void> };
    try {
      fresh = await this.subscribe(root);
    } catch (e) {
      return this.degrade(`cannot watch for changes (${(e as Error).message}); rescanning every ${Math.round(this.opts.pollMs / 1000)} s instead`);
    }
    // stop() ran while the OS subscribed: it released what it saw, so this one is ours to release,
    // or its native thread keeps the process alive after the service stopped.
    if (this.closed) {
      await fresh.unsubscribe().catch(() => {});
      return;
    }
    this.subs.set(root, fresh);
    await old?.unsubscribe().catch(() => {});
  }

  /** Re-subscribes every root (a root that was offline is back; polling may end). */
  async restart(): Promise<void> {
    if (this.closed) return;
    await this.unsubscribeAll();
    if (this.poller) clearInterval(this.poller);
    this.poller = null;
    await this.start();
  }

  private async unsubscribeAll(): Promise<void> {
    const subs = [...this.subs.values()];
    this.subs.clear();
    await Promise.all(subs.map((s) => s.unsubscribe().catch(() => {})));
  }

  private degrade(message: string): void {
    if (this.closed) return;
    this.opts.log.warn('watcher degraded to polling', { reason: message });
    this.mode = 'polling';
    this.message = message;
    void this.unsubscribeAll();
    this.clearSettling();
    if (!this.poller) {
      this.poller = setInterval(() => this.enqueue(() => this.opts.onPoll()), this.opts.pollMs);
      this.poller.unref();
    }
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const paths = [...this.pending];
      this.pending.clear();
      if (paths.length)
        this.enqueue(async () => {
          const report = await this.opts.onChanges(paths);
          for (const dir of report?.walkedDirs ?? []) this.beginSettling(dir);
        });
    }, this.opts.debounceMs);
  }

  /** A folder appeared (or was reported): walk it again once it has been quiet for settleMs. */
  private beginSettling(dir: string): void {
    if (this.closed || this.mode !== 'events') return;
    for (const d of this.settling.keys()) if (isWithin(dir, d)) return; // an ancestor already waits
    for (const [d, s] of this.settling) {
      if (isWithin(d, dir)) {
        if (s.timer) clearTimeout(s.timer);
        this.settling.delete(d);
      }
    }
    const s: Settling = { timer: null, since: Date.now(), rounds: 0 };
    this.settling.set(dir, s);
    this.armSettling(dir, s);
  }

  private armSettling(dir: string, s: Settling): void {
    if (s.timer) clearTimeout(s.timer);
    s.timer = setTimeout(() => {
      s.timer = null;
      this.enqueue(() => this.settleWalk(dir, s));
    }, this.settleMs);
    s.timer.unref();
  }

  private postponeSettling(p: string): void {
    for (const [dir, s] of this.settling) {
      if (s.timer && isWithin(p, dir) && Date.now() - s.since < this.settleMs * MAX_SETTLE_DELAY_FACTOR) this.armSettling(dir, s);
    }
  }

  private async settleWalk(dir: string, s: Settling): Promise<void> {
    if (this.closed || this.settling.get(dir) !== s) return;
    const walkedAt = Date.now();
    const report = await this.opts.onChanges([dir]);
    const changed = report?.changed ?? 0;
    if (this.closed) return;
    const root = this.opts.roots.find((r) => isWithin(dir, r));
    // inotify watches a folder that appears, but not the folders already inside it when it is seen
    // (`mkdir -p a/b/c`, a folder moved in): a fresh subscription watches the whole tree again.
    if (root && (changed > 0 || (await hasSubfolder(dir))) && (this.resubscribedAt.get(root) ?? 0) < walkedAt) await this.resubscribe(root);
    if (changed === 0) {
      this.settling.delete(dir);
      return;
    }
    // The folder was quiet, yet its walk found changes no event reported: the copy may go on in
    // folders nobody watched. Look again after another quiet period.
    s.rounds++;
    this.opts.log.warn('watcher missed changes in a new folder; walking it again', { dir, changed, round: s.rounds });
    if (s.rounds >= MAX_SETTLE_ROUNDS) {
      this.settling.delete(dir);
      return;
    }
    s.since = Date.now();
    this.armSettling(dir, s);
  }

  private clearSettling(): void {
    for (const s of this.settling.values()) if (s.timer) clearTimeout(s.timer);
    this.settling.clear();
  }

  private enqueue(job: () => Promise<void>): void {
    this.chain = this.chain.then(job).catch((e) => this.opts.log.error('applying changes failed', { error: e }));
  }

  /** Folders waiting for their settle walk (status and tests). */
  get settlingDirs(): string[] {
    return [...this.settling.keys()];
  }

  /** Resolves when every change received so far has been applied. */
  async idle(): Promise<void> {
    await this.chain;
  }

  async stop(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.poller) clearInterval(this.poller);
    this.timer = this.poller = null;
    this.clearSettling();
    await this.unsubscribeAll();
    await this.chain;
    this.mode = 'off';
  }
}

function isWithin(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);
}

/** Whether a folder holds folders (bounded in time: a hung network share answers "no"). */
async function hasSubfolder(dir: string): Promise<boolean> {
  const listing = fs.promises.readdir(dir, { withFileTypes: true }).then((es) => es.some((e) => e.isDirectory()), () => false);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 5000)));
  try {
    return await Promise.race([listing, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
