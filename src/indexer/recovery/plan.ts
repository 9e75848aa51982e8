import fs from 'node:fs';
import type { BackupAlert } from '../backup/create.js';
import type { RecoveryRecord } from '../backup/state.js';

/**
 * The recovery plan's vocabulary: the phases the guardian moves through, what a repair did, the
 * alerts it raises, its limits, and the damage visible without opening the file.
 */

export type { GuardianPhase } from '../backup/state.js';

/** More than this many recoveries within RECOVERY_WINDOW_MS stops automatic recovery. */
export const MAX_RECOVERIES = 3;
export const RECOVERY_WINDOW_MS = 10 * 60_000;

export interface GuardianAlert {
  id: BackupAlert['id'] | 'index-corrupt' | 'index-recovered' | 'index-rebuilding' | 'index-recovery-failed';
  severity: 'info' | 'warning' | 'critical';
  message: string;
  /** The situation this alert reported is over (the index is repaired, or back in step with the disk): it resolves. */
  over?: true;
}

/** What one repair step did (null: nothing was needed). */
export type Outcome = { action: RecoveryRecord['action']; backupId: string | null; quarantined: string | null; problems: string[] } | null;

/** Damage visible without opening the file: empty, cut off mid-page, or a first page of zeros. */
export function damagedOnDisk(file: string): string | null {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return null;
  }
  if (st.size === 0) return 'the index file is empty';
  if (st.size % 512 !== 0) return `the index file is cut off (${st.size} bytes is not a whole number of pages)`;
  const head = Buffer.alloc(100);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, head, 0, 100, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (head.every((b) => b === 0)) return 'the first page of the index file is zeros';
  return null;
}
