import fs from 'node:fs';
import { isVerified, listBackups, type BackupReason, type Manifest, type Verification } from './manifest.js';
import { backupDir, indexFile } from './paths.js';
import type { RestoreResult } from './restore.js';
import { budgetBytes, type CreateOutcome } from './create.js';
import type { BackupConfig } from '../config/backup-settings.js';
import { readState, type GuardianPhase, type GuardianState } from './state.js';

export interface BackupSummary {
  id: string;
  createdAt: string;
  reason: BackupReason;
  owletVersion: string;
  schemaVersion: number;
  documentCount: number;
  size: number;
  sha256: string;
  encrypted: boolean;
  present: boolean;
  verified: boolean;
  verification: Verification | null;
  /** full, or incremental on `parentId`. */
  kind: 'full' | 'incremental';
  parentId: string | null;
}

export interface BackupListing {
  dir: string;
  backups: BackupSummary[];
  /** What the backups use against `backup.maxBytes` (or its default). */
  storage: { usedBytes: number; budgetBytes: number };
  lastVerifiedAt: string | null;
  nextScheduledAt: string | null;
  /** The running service's recovery phase; null when listed without a service. */
  phase: GuardianPhase | null;
  state: GuardianState;
}

/** What the HTTP routes and the CLI need (tests pass fakes). */
export interface BackupApi {
  list(): BackupListing;
  create(reason?: BackupReason): Promise<CreateOutcome>;
  verify(id?: string): Promise<{ id: string; verification: Verification }[]>;
  restore(id: string): Promise<RestoreResult>;
}

export function summarise(m: Manifest, present: boolean): BackupSummary {
  return {
    id: m.id,
    createdAt: m.createdAt,
    reason: m.reason,
    owletVersion: m.owletVersion,
    schemaVersion: m.schemaVersion,
    documentCount: m.documentCount,
    size: m.size,
    sha256: m.sha256,
    encrypted: m.encrypted,
    present,
    verified: isVerified(m),
    verification: m.verification,
    kind: m.kind,
    parentId: m.parentId,
  };
}

function volumeBytes(dir: string): number {
  const st = fs.statfsSync(dir);
  return st.blocks * st.bsize;
}

/** The backup folder as the dashboard and `owlet backup list` show it. */
export function listing(dataDir: string, settings: BackupConfig, phase: GuardianPhase | null, nextAt: number | null): BackupListing {
  const dir = backupDir(dataDir, settings);
  const all = listBackups(dir);
  const verified = all.find((b) => b.present && isVerified(b.manifest));
  const usedBytes = all.reduce((n, b) => n + (b.present ? b.manifest.size : 0), 0);
  let volume: number | null = null;
  try {
    volume = volumeBytes(fs.existsSync(dir) ? dir : dataDir);
  } catch {
    volume = null;
  }
  const live = indexFile(dataDir);
  const indexBytes = [live, `${live}-wal`].reduce((n, f) => n + (fs.existsSync(f) ? fs.statSync(f).size : 0), 0);
  return {
    dir,
    backups: all.map((b) => summarise(b.manifest, b.present)),
    storage: { usedBytes, budgetBytes: budgetBytes(settings, indexBytes, volume) },
    lastVerifiedAt: verified?.manifest.verification?.at ?? null,
    nextScheduledAt: nextAt ? new Date(nextAt).toISOString() : null,
    phase,
    state: readState(dataDir),
  };
}

