import fs from 'node:fs';
import path from 'node:path';
import { ensureDir, recoveryDir, STATE_FILE } from './paths.js';

/**
 * What the backup and recovery code remembers across restarts, readable without a running
 * service (`owlet backup list`, doctor): the last skipped or failed backup and the last recovery.
 */
export interface BackupSkip {
  at: string;
  reason: 'no-space';
  neededBytes: number;
  freeBytes: number;
  message: string;
}

export interface BackupFailure {
  at: string;
  id: string | null;
  message: string;
}

export interface RecoveryRecord {
  at: string;
  /** What was wrong: how the damage showed itself. */
  trigger: string;
  action: 'fts-rebuilt' | 'restored' | 'rebuilt-from-disk';
  backupId: string | null;
  /** Where the damaged file was moved (never deleted). */
  quarantined: string | null;
  problems: string[];
  /** From noticing the damage to an open, searchable index. */
  readyMs: number;
  /** From noticing the damage to the end of the reconcile that followed (null while it runs). */
  reconciledMs: number | null;
}

/** Where the index guardian (recovery/) is; shown by backup listings and status. */
export type GuardianPhase = 'starting' | 'serving' | 'recovering' | 'reconciling' | 'rebuilding' | 'failed';

/** The last periodic integrity check of the index (recovery/integrity-schedule.ts). */
export interface IntegrityCheckRecord {
  at: number;
  ok: boolean;
  message: string;
  durationMs: number;
}

export interface GuardianState {
  lastSkip: BackupSkip | null;
  lastFailure: BackupFailure | null;
  lastRecovery: RecoveryRecord | null;
  /** Protected (manual, pre-update) backups whose removal retention has announced. */
  pruneAnnounced?: string[];
  lastIntegrity?: IntegrityCheckRecord | null;
}

const EMPTY: GuardianState = { lastSkip: null, lastFailure: null, lastRecovery: null, pruneAnnounced: [] };

export function stateFile(dataDir: string): string {
  return path.join(recoveryDir(dataDir), STATE_FILE);
}

export function readState(dataDir: string): GuardianState {
  try {
    const v = JSON.parse(fs.readFileSync(stateFile(dataDir), 'utf8')) as Partial<GuardianState>;
    return { ...EMPTY, ...v };
  } catch {
    return { ...EMPTY };
  }
}

/** Merges `patch` into the state file (temp + rename). Never throws: state is informational. */
export function updateState(dataDir: string, patch: Partial<GuardianState>): GuardianState {
  const next = { ...readState(dataDir), ...patch };
  try {
    ensureDir(recoveryDir(dataDir));
    const file = stateFile(dataDir);
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(next, null, 2) + '\n', { mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch {
    // A full or read-only disk: the in-memory state still answers the status API.
  }
  return next;
}
