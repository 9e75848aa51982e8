import fs from 'node:fs';
import path from 'node:path';
import type { UpdateHistoryEntry } from '../shared/api.js';
import { writePrivateFile } from '../indexer/security/files.js';

/**
 * The tray app's update history for the dashboard (installed / rolled back / refused, with the
 * reason and the date), newest first, in `<userData>/update-history.json`. The headless service
 * reads the same facts from its audit trail; the app has none of its own, so it keeps this short
 * list (the last `max` entries), written atomically and owner-only.
 */
export const HISTORY_FILE = 'update-history.json';
const MAX = 20;

export function readHistory(dir: string): UpdateHistoryEntry[] {
  try {
    const raw = JSON.parse(fs.readFileSync(path.join(dir, HISTORY_FILE), 'utf8')) as unknown;
    if (!Array.isArray(raw)) return [];
    return raw.filter((e): e is UpdateHistoryEntry => !!e && typeof e === 'object' && typeof (e as UpdateHistoryEntry).at === 'string' && ['installed', 'rolled-back', 'refused'].includes((e as UpdateHistoryEntry).outcome));
  } catch {
    // Missing or damaged: the history starts again (it is a record for the user, not a guard).
    return [];
  }
}

export function appendHistory(dir: string, entry: UpdateHistoryEntry, max = MAX): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  writePrivateFile(path.join(dir, HISTORY_FILE), JSON.stringify([entry, ...readHistory(dir)].slice(0, max), null, 2) + '\n');
}
