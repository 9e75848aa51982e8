/**
 * Process entry for hosts that start the service as a module (Electron's utilityProcess, the
 * packaged app). Same code path as `bin/owlet.js`.
 */
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.exitCode = 1;
  },
);
