/**
 * The standby child's entry module, forked by `owlet run` (run.ts) with the shared listening socket.
 * Not a CLI command: nobody starts a standby by hand, and it must not load the CLI.
 */
import { serveStandby, standbyArgs } from './standby.js';

const args = standbyArgs(process.argv.slice(2));
serveStandby(args).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`owlet standby: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
