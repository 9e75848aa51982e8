import { fileURLToPath } from 'node:url';
import { createSupervisor, type Supervisor, type SupervisorOptions } from './supervisor.js';
import { forkLauncher, type Launcher } from './launcher.js';
import type { Logger } from '../log/logger.js';
import { attachHeadlessUpdates } from '../update/attach.js';
import type { ServiceEntryLike, UpdatableHost } from '../update/headless.js';

/** The CLI entry the service child runs (`bin/owlet.js serve …`), found relative to this file. */
export const OWLET_BIN = fileURLToPath(new URL('../../../bin/owlet.js', import.meta.url));

/** A small young generation keeps the long-running service's resident memory down (measured by the bench). */
export const SERVICE_EXEC_ARGV = ['--max-semi-space-size=2'];

export interface RunOptions {
  dataDir: string;
  port?: number;
  log: Logger;
  out: (line: string) => void;
  /** Injected in tests; default forks `owlet serve` as a Node child. */
  launcherFor?: (args: string[]) => Launcher;
  supervisor?: Partial<SupervisorOptions>;
  /** false: no update engine (tests of the supervisor alone). */
  updates?: boolean;
  /** Tests only: the machine policy file (default: the OS location). */
  policyFile?: string;
}

/**
 * `owlet run`: the production headless mode. This process only supervises; the service runs in a
 * child (`owlet serve --supervisor-pid`), restarted when it crashes or hangs. The port chosen by
 * the first child is kept for its successors, so the URL stays stable across restarts.
 */
export async function runSupervised(opts: RunOptions): Promise<number> {
  let port = opts.port ?? 0;
  const argsNow = () => ['serve', '--data-dir', opts.dataDir, '--port', String(port), '--supervisor-pid', String(process.pid)];
  // The tree the service child runs: this one, or another version's while an update is gated.
  let entry: ServiceEntryLike = { modulePath: OWLET_BIN, execArgv: SERVICE_EXEC_ARGV };
  const makeLauncher = opts.launcherFor ?? ((args: string[]) => forkLauncher({ modulePath: entry.modulePath, args, execArgv: entry.execArgv ?? SERVICE_EXEC_ARGV }));
  // A launcher per start, so each child gets the current port.
  const launch: Launcher = () => makeLauncher(argsNow())();
  const log = opts.log;
  const sup: Supervisor = createSupervisor({
    launch,
    log: (e) => (e.type === 'crash' || e.type === 'crash-loop' || e.type === 'failed' || e.type === 'hang' ? log.warn(e.type, e) : log.info(e.type, e)),
    ...opts.supervisor,
  });
  let announced = false;
  sup.onDidBecomeReady((r) => {
    port = r.port;
    if (!announced) opts.out(`Owlet supervisor ${process.pid} serving on ${r.url}`);
    announced = true;
  });
  sup.onDidCrash((c) => opts.out(`service child stopped unexpectedly (${c.reason}${c.code !== null ? `, code ${c.code}` : ''}${c.signal ? `, ${c.signal}` : ''}); restarting`));
  const host: UpdatableHost & { stop(reason?: string): Promise<void> } = {
    get entry() {
      return { ...entry };
    },
    setEntry: (e) => {
      entry = { ...e };
    },
    stop: (reason) => sup.stop(reason),
    restart: async (reason, timeoutMs = 30_000) => {
      await sup.stop(reason);
      return new Promise((resolve, reject) => {
        const subs: { dispose(): void }[] = [];
        const done = (f: () => void) => {
          clearTimeout(timer);
          for (const d of subs) d.dispose();
          f();
        };
        const timer = setTimeout(() => done(() => reject(new Error(`not ready within ${timeoutMs} ms`))), timeoutMs);
        subs.push(sup.onDidBecomeReady((r) => done(() => resolve(r))));
        subs.push(sup.onDidChangeState((c) => {
          if (c.state === 'failed') done(() => reject(new Error(sup.failure?.message ?? 'the service failed')));
        }));
        sup.start();
      });
    },
    onDidCrash: (l) => sup.onDidCrash(l),
  };
  sup.start();
  const updates = opts.updates === false ? null : await attachHeadlessUpdates({ dataDir: opts.dataDir, ownBin: OWLET_BIN, host, log, out: opts.out, ...(opts.policyFile ? { policyFile: opts.policyFile } : {}) });
  return new Promise<number>((resolve) => {
    const stop = (sig: string) => {
      void Promise.resolve(updates?.close())
        .then(() => sup.stop(sig))
        .then(() => resolve(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    sup.onDidChangeState((s) => {
      // A version under its health gate may fail to start: the update engine rolls it back.
      if (s.state === 'failed' && !updates?.updater?.inProgress) {
        opts.out(`owlet: the service cannot start: ${sup.failure?.message ?? 'unknown reason'}`);
        resolve(78);
      }
    });
  });
}

