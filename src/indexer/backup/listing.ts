import { isVerified, listBackups, type BackupReason, type Manifest, type Verification } from './manifest.js';
import { backupDir } from './paths.js';
import type { RestoreResult } from './restore.js';
import type { CreateOutcome } from './create.js';
import type { BackupConfig } from './settings.js';
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
}

export interface BackupListing {
  dir: string;
  backups: BackupSummary[];
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
  };
}

/** The backup folder as the dashboard and `owlet backup list` show it. */
export function listing(dataDir: string, settings: BackupConfig, phase: GuardianPhase | null, nextAt: number | null): BackupListing {
  const dir = backupDir(dataDir, settings);
  const all = listBackups(dir);
  const verified = all.find((b) => b.present && isVerified(b.manifest));
  return {
    dir,
    backups: all.map((b) => summarise(b.manifest, b.present)),
    lastVerifiedAt: verified?.manifest.verification?.at ?? null,
    nextScheduledAt: nextAt ? new Date(nextAt).toISOString() : null,
    phase,
    state: readState(dataDir),
  };
}

