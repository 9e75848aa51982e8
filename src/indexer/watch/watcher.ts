import type { Logger } from '../log/logger.js';

/** The slice of @parcel/watcher we use, injectable so tests can make the watcher fail. */
export interface WatchBackend {
  subscribe(
    dir: string,
    cb: (err: Error | null, events: { path: string; type: string }[]) => void,
    opts?: { ignore?: string[] },
  ): Promise<{ unsubscribe(): Promise<void> }>;
}

export interface WatcherOptions {
  roots: readonly string[];
  exclude: readonly string[];
  debounceMs: number;
  /** Rescan period used when events cannot be had (e.g. the inotify watch limit is reached). */
  pollMs: number;
  backend: WatchBackend;
  log: Logger;
  /** Receives coalesced changed paths. */
  onChanges: (paths: string[]) => Promise<void>;
  /** Called periodically in polling mode: a full reconcile of the roots. */
  onPoll: () => Promise<void>;
}

export type WatchMode = 'events' | 'polling' | 'off';

/**
 * Keeps the index in step while the service runs. Events are coalesced for `debounceMs` and
 * handed over as paths; handling is serialised so a burst cannot run two updates at once.
 * A backend failure degrades to periodic rescans and says so in `message`.
 */
export class Watcher {
  mode: WatchMode = 'off';
  message: string | null = null;
  private subs: { unsubscribe(): Promise<void> }[] = [];
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private poller: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly opts: WatcherOptions) {}

  /** Changed paths seen and not yet handed on (debouncing): status counts them as work in hand. */
  get pendingChanges(): number {
    return this.pending.size;
  }

  async start(): Promise<void> {
    const ignore = this.opts.exclude.map((p) => (p.includes('/') ? p : `**/${p}`));
    try {
      for (const root of this.opts.roots) {
        const sub = await this.opts.backend.subscribe(
          root,
          (err, events) => {
            if (err) return this.degrade(`watcher error: ${err.message}`);
            for (const e of events) this.pending.add(e.path);
            this.schedule();
          },
          { ignore },
        );
        this.subs.push(sub);
      }
      this.mode = this.opts.roots.length ? 'events' : 'off';
      this.message = null;
    } catch (e) {
      this.degrade(`cannot watch for changes (${(e as Error).message}); rescanning every ${Math.round(this.opts.pollMs / 1000)} s instead`);
    }
  }

  /** Re-subscribes every root (a root that was offline is back; polling may end). */
  async restart(): Promise<void> {
    if (this.closed) return;
    for (const s of this.subs.splice(0)) await s.unsubscribe().catch(() => {});
    if (this.poller) clearInterval(this.poller);
    this.poller = null;
    await this.start();
  }

  private degrade(message: string): void {
    if (this.closed) return;
    this.opts.log.warn('watcher degraded to polling', { reason: message });
    this.mode = 'polling';
    this.message = message;
    for (const s of this.subs.splice(0)) void s.unsubscribe().catch(() => {});
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
      if (paths.length) this.enqueue(() => this.opts.onChanges(paths));
    }, this.opts.debounceMs);
  }

  private enqueue(job: () => Promise<void>): void {
    this.chain = this.chain.then(job).catch((e) => this.opts.log.error('applying changes failed', { error: e }));
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
    await Promise.all(this.subs.splice(0).map((s) => s.unsubscribe().catch(() => {})));
    await this.chain;
    this.mode = 'off';
  }
}
