import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { OwletError, isOwletError, owletError } from '../../shared/errors.js';
import { assertPrivateDataDir } from '../security/data-dir-guard.js';

export interface PlatformEnv {
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  homedir: string;
}

/** The OS convention for per-user application data. */
export function defaultDataDir(p: PlatformEnv = { platform: process.platform, env: process.env, homedir: os.homedir() }): string {
  switch (p.platform) {
    case 'darwin':
      return path.join(p.homedir, 'Library', 'Application Support', 'Owlet');
    case 'win32':
      return path.join(p.env.LOCALAPPDATA ?? path.join(p.homedir, 'AppData', 'Local'), 'Owlet');
    default: {
      const xdg = p.env.XDG_DATA_HOME;
      return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(p.homedir, '.local', 'share'), 'owlet');
    }
  }
}

/** `--data-dir` beats `OWLET_DATA_DIR` beats the OS default. */
export function resolveDataDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = flag ?? env.OWLET_DATA_DIR ?? defaultDataDir();
  return path.resolve(chosen);
}

/**
 * Creates the data directory (0700) if needed, refuses one that others control (owner, mode,
 * symlinks: see security/data-dir-guard.ts) and proves it is writable.
 */
export function ensureDataDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    assertPrivateDataDir(dir);
    const st = fs.statSync(dir);
    if (!st.isDirectory()) throw new Error('not a directory');
    const probe = path.join(dir, `.probe-${process.pid}-${randomBytes(4).toString('hex')}`);
    fs.closeSync(fs.openSync(probe, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | (fs.constants.O_NOFOLLOW ?? 0), 0o600));
    fs.unlinkSync(probe);
  } catch (e) {
    if (isOwletError(e)) throw e;
    throw owletError('OWL_ERR_DATADIR_UNUSABLE', { dir, reason: (e as Error).message });
  }
}
