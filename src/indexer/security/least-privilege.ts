import { spawnSync } from 'node:child_process';
import type { Command } from 'commander';
import { OwletError, owletError } from '../../shared/errors.js';

/** The commands that run the service or read the user's files for long. */
export const PRIVILEGE_CHECKED_COMMANDS = ['serve', 'run', 'index'] as const;

export interface PrivilegeProbe {
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  /** Effective uid on POSIX; undefined on Windows. */
  uid: number | undefined;
  /** Windows only: true when the process holds Administrator rights. */
  isWindowsAdmin: () => boolean;
}

/** `net session` succeeds only in an elevated process: the usual check without native code. */
function windowsAdmin(): boolean {
  try {
    return spawnSync('net', ['session'], { stdio: 'ignore', windowsHide: true, timeout: 5000 }).status === 0;
  } catch {
    return false;
  }
}

export function systemProbe(): PrivilegeProbe {
  return {
    platform: process.platform,
    env: process.env,
    uid: typeof process.geteuid === 'function' ? process.geteuid() : undefined,
    isWindowsAdmin: windowsAdmin,
  };
}

export function runningAsRoot(p: PrivilegeProbe): boolean {
  return p.platform === 'win32' ? p.isWindowsAdmin() : p.uid === 0;
}

/**
 * The service reads every file under its roots and serves their text on a socket: as root a
 * single bug would expose every user's files. It refuses unless explicitly allowed.
 */
export function assertNotRoot(allowFlag: boolean | undefined, p: PrivilegeProbe = systemProbe()): void {
  if (allowFlag || p.env.OWLET_ALLOW_ROOT === '1') return;
  if (!runningAsRoot(p)) return;
  const who = p.platform === 'win32' ? 'as Administrator' : 'as root';
  throw owletError('OWL_ERR_PRIVILEGED_USER', { reason: `refusing to run ${who}: Owlet reads your documents and should run as your own user. Pass --allow-root (or set OWLET_ALLOW_ROOT=1) if you really mean it, e.g. in a container.` });
}

/**
 * Adds `--allow-root` to serve/run/index and checks before their action runs, without touching
 * the commands' own definitions. `run` passes the permission on to its service child.
 */
export function registerLeastPrivilege(program: Command, probe: () => PrivilegeProbe = systemProbe): void {
  for (const c of program.commands) {
    if ((PRIVILEGE_CHECKED_COMMANDS as readonly string[]).includes(c.name())) {
      c.addOption(c.createOption('--allow-root', 'run even as root/Administrator (not recommended)'));
    }
  }
  program.hook('preAction', (_program, action) => {
    if (!(PRIVILEGE_CHECKED_COMMANDS as readonly string[]).includes(action.name())) return;
    const allow = Boolean((action.opts() as { allowRoot?: boolean }).allowRoot);
    const p = probe();
    assertNotRoot(allow, p);
    // The supervised child inherits the decision through the one variable it honours.
    if (allow && action.name() === 'run') p.env.OWLET_ALLOW_ROOT = '1';
  });
}
