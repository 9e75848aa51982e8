import fs from 'node:fs';
import path from 'node:path';
import type { Config } from './schema.js';
import { writePrivateFile } from '../security/files.js';

/**
 * The last configuration that loaded as written, kept beside config.json: what a damaged
 * config.json is restored from (config/repair.ts), and what runs in place of a setting a newer
 * Owlet wrote with a value this one cannot read (config/load.ts).
 */
export const LAST_GOOD_FILE = 'config.last-good.json';

/** Keeps a copy of a configuration that loaded; a no-op when the copy is already the same. */
export function rememberGoodConfig(dataDir: string, config: Config): void {
  const file = path.join(dataDir, LAST_GOOD_FILE);
  const text = JSON.stringify(config, null, 2) + '\n';
  try {
    if (fs.readFileSync(file, 'utf8') === text) return;
  } catch {
    /* none yet */
  }
  writePrivateFile(file, text);
}

/** The last good configuration as stored (the caller validates it); null when there is none or it is not JSON. */
export function readLastGood(dataDir: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(path.join(dataDir, LAST_GOOD_FILE), 'utf8'));
  } catch {
    return null;
  }
}
