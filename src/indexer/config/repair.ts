import fs from 'node:fs';
import path from 'node:path';
import { isOwletError } from '../../shared/errors.js';
import { CONFIG_FILE, loadConfigFile, parseConfig, type NewerSettings } from './load.js';
import type { Config } from './schema.js';
import { LAST_GOOD_FILE, rememberGoodConfig, readLastGood } from './last-good.js';

export { LAST_GOOD_FILE, rememberGoodConfig } from './last-good.js';

/**
 * Self-healing for a damaged config.json (a hand edit gone wrong, half a file written by a sync
 * tool): a service must not stay down for it. Every good load is remembered; when config.json no
 * longer loads, the service moves it aside (never deleted: the user's edit is kept) and puts the
 * last good configuration back, then raises the `config-restored` alert so a person looks at it.
 * CLI commands that only read the configuration still report the error as it is.
 *
 * A file a newer Owlet wrote is never damaged in this sense: what this build cannot read in it is
 * that version's (config/load.ts, NewerSettings), runs on the last good values, and stays as it is
 * for when that version returns.
 */

export const RESTORED_MARKER = 'config.restored.json';

export interface ConfigRestore {
  at: string;
  /** Where the damaged file was moved. */
  brokenFile: string;
  reason: string;
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

function lastGood(dataDir: string): Config | null {
  const raw = readLastGood(dataDir);
  try {
    return raw === null ? null : parseConfig(raw, LAST_GOOD_FILE);
  } catch {
    return null;
  }
}

/**
 * Loads the configuration for a service start, restoring the last good one when config.json is
 * damaged. Throws the original error when there is nothing good to go back to.
 */
export function loadOrRepairConfig(dataDir: string, now: () => Date = () => new Date()): { config: Config; restored: ConfigRestore | null; newer: NewerSettings | null } {
  try {
    const { config, newer } = loadConfigFile(dataDir);
    // Only a file that loaded as written is a good one to go back to.
    if (!newer?.unreadable.length) rememberGoodConfig(dataDir, config);
    return { config, restored: null, newer };
  } catch (e) {
    const good = isOwletError(e) && (e.code === 'OWL_ERR_CONFIG_INVALID' || e.code === 'OWL_ERR_CONFIG_UNREADABLE') ? lastGood(dataDir) : null;
    if (!good) throw e;
    const file = path.join(dataDir, CONFIG_FILE);
    const at = now().toISOString();
    const brokenFile = `${file}.broken-${at.replace(/[:.]/g, '-')}`;
    fs.renameSync(file, brokenFile);
    writeAtomic(file, JSON.stringify(good, null, 2) + '\n');
    const restored: ConfigRestore = { at, brokenFile, reason: (e as Error).message };
    writeAtomic(path.join(dataDir, RESTORED_MARKER), JSON.stringify(restored, null, 2) + '\n');
    return { config: good, restored, newer: null };
  }
}

/**
 * The last automatic restore, while it still stands: once config.json is saved again (by the user
 * or the dashboard) the person has dealt with it and the alert clears.
 */
export function standingRestore(dataDir: string): ConfigRestore | null {
  try {
    const marker = path.join(dataDir, RESTORED_MARKER);
    const r = JSON.parse(fs.readFileSync(marker, 'utf8')) as ConfigRestore;
    const edited = fs.statSync(path.join(dataDir, CONFIG_FILE)).mtimeMs > fs.statSync(marker).mtimeMs + 1000;
    return edited ? null : r;
  } catch {
    return null;
  }
}
