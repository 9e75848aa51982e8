/** The slice of Electron's `app` the quit sequence needs. */
export interface QuitApp {
  on(event: 'before-quit', listener: (e: { preventDefault(): void }) => void): unknown;
  quit(): void;
  exit(code?: number): void;
}

export interface QuitDrainDeps {
  app: QuitApp;
  /** The indexer host's graceful stop: the service commits its batch and checkpoints the WAL. */
  stop: (reason: string) => Promise<void>;
  /** Longest the app waits for the drain before it exits anyway (the host kills the child at its own deadline first). */
  deadlineMs: number;
  /** Runs first (timers, tray). */
  beforeDrain?: () => void;
  log: { info(msg: string, f?: Record<string, unknown>): void; warn(msg: string, f?: Record<string, unknown>): void };
}

/**
 * Quit drains the indexer. The first `before-quit` is held (preventDefault), the host is stopped
 * gracefully, then the app quits for real; if the stop does not finish within the deadline the
 * app exits anyway (a tray app that cannot quit is worse than a WAL replayed at the next start,
 * which SQLite does safely). A second quit request while draining changes nothing.
 */
export function installQuitDrain(d: QuitDrainDeps): { readonly draining: boolean } {
  let state: 'running' | 'draining' | 'done' = 'running';
  d.app.on('before-quit', (e) => {
    if (state === 'done') return;
    e.preventDefault();
    if (state === 'draining') return;
    state = 'draining';
    d.beforeDrain?.();
    const started = Date.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<'deadline'>((r) => (timer = setTimeout(() => r('deadline'), d.deadlineMs)));
    void Promise.race([d.stop('app quit').then(() => 'drained' as const, (err: unknown) => (d.log.warn('stopping the indexer failed', { error: String(err) }), 'failed' as const)), deadline]).then((how) => {
      clearTimeout(timer);
      state = 'done';
      if (how === 'deadline') {
        d.log.warn('the indexer did not stop within the quit deadline; exiting anyway', { deadlineMs: d.deadlineMs });
        d.app.exit(0);
        return;
      }
      d.log.info('indexer drained; quitting', { ms: Date.now() - started, outcome: how });
      d.app.quit();
    });
  });
  return {
    get draining() {
      return state === 'draining';
    },
  };
}
