import { fileURLToPath } from 'node:url';
import { createSupervisor, type Supervisor, type SupervisorOptions } from './supervisor.js';
import { forkLauncher, type Launcher } from './launcher.js';
import type { Logger } from '../log/logger.js';

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
}

/**
 * `owlet run`: the production headless mode. This process only supervises; the service runs in a
 * child (`owlet serve --supervisor-pid`), restarted when it crashes or hangs. The port chosen by
 * the first child is kept for its successors, so the URL stays stable across restarts.
 */
export async function runSupervised(opts: RunOptions): Promise<number> {
  let port = opts.port ?? 0;
  const argsNow = () => ['serve', '--data-dir', opts.dataDir, '--port', String(port), '--supervisor-pid', String(process.pid)];
  const makeLauncher = opts.launcherFor ?? ((args: string[]) => forkLauncher({ modulePath: OWLET_BIN, args, execArgv: SERVICE_EXEC_ARGV }));
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
  sup.start();
  return new Promise<number>((resolve) => {
    const stop = (sig: string) => {
      void sup.stop(sig).then(() => resolve(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    sup.onDidChangeState((s) => {
      if (s.state === 'failed') {
        opts.out(`owlet: the service cannot start: ${sup.failure?.message ?? 'unknown reason'}`);
        resolve(78);
      }
    });
  });
}

