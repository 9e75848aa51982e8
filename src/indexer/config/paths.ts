import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OwletError, owletError } from '../../shared/errors.js';

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

/** Creates the data directory (0700) if needed and proves it is writable. */
export function ensureDataDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.statSync(dir);
    if (!st.isDirectory()) throw new Error('not a directory');
    const probe = path.join(dir, `.probe-${process.pid}`);
    fs.writeFileSync(probe, '');
    fs.unlinkSync(probe);
  } catch (e) {
    throw owletError('OWL_ERR_DATADIR_UNUSABLE', { dir, reason: (e as Error).message });
  }
}
