import { Option, type Command } from '../commander.js';
import type { CommandIo } from '../io.js';

export type OpenIo = CommandIo;

/** `launch` opens a URL in the desktop's browser (open-login.ts BrowserLauncher); the system's by default. */
export function registerOpen(program: Command, io: OpenIo, launch?: (url: string) => Promise<boolean>): void {
  program
    .command('open')
    .description('sign in to the dashboard: print (and open in a browser, if there is one) a one-time login link')
    .addOption(new Option('--data-dir <dir>', 'data directory (default: $OWLET_DATA_DIR or the OS per-user data folder)'))
    .option('--no-browser', 'only print the link')
    .option('--json', 'print {"url"} as JSON')
    // Loaded when run: the sign-in request, the token and the hand-over page.
    .action(async (o: { dataDir?: string; browser: boolean; json?: boolean }) => (await import('./open-login.js')).openDashboard(o, io, launch));
}
