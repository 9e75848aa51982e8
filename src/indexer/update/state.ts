import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { z } from 'zod';
import { errnoCode, owletError } from '../../shared/errors.js';
import { writePrivateFile } from '../security/files.js';

/**
 * What this installation remembers about updates across restarts (`update-state.json` beside the
 * versions): the highest version ever installed (rollback attacks), versions that failed their
 * health gate (never installed automatically again), the staging id, and the update in progress
 * (`pending`), which is what a restart after SIGKILL finishes or undoes.
 */
export const STATE_FILE = 'update-state.json';

const Pending = z.object({
  version: z.string(),
  previous: z.string().nullable(),
  /** Where the update got to; a restart decides from this what to finish or undo. */
  phase: z.enum(['downloading', 'unpacking', 'switching', 'gating']),
  startedAt: z.string(),
  backupId: z.string().nullable().default(null),
  schemaChanged: z.boolean().default(false),
});

const StateSchema = z.object({
  version: z.literal(1).default(1),
  highestInstalled: z.string().nullable().default(null),
  bad: z.array(z.object({ version: z.string(), at: z.string(), reason: z.string() })).default([]),
  stagingId: z.string().default(''),
  pending: Pending.nullable().default(null),
  lastCheck: z.object({ at: z.string(), result: z.string() }).nullable().default(null),
  lastResult: z.record(z.string(), z.unknown()).nullable().default(null),
});

export type UpdateState = z.infer<typeof StateSchema>;
export type PendingUpdate = z.infer<typeof Pending>;

export function readState(dir: string): UpdateState {
  const file = path.join(dir, STATE_FILE);
  let raw: unknown = {};
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw owletError('OWL_ERR_UPDATE_FAILED', { reason: `cannot read ${file}: ${(e as Error).message}; remove it to start over (the highest-installed guard is then reset)` });
  }
  const r = StateSchema.safeParse(raw);
  if (!r.success) throw owletError('OWL_ERR_UPDATE_FAILED', { reason: `${file} is malformed: ${r.error.issues[0]?.message ?? 'invalid'}` });
  const s = r.data;
  if (!s.stagingId) s.stagingId = crypto.randomUUID();
  return s;
}

/** Atomic and durable: temp file, fsync, rename, fsync of the folder. */
export function writeState(dir: string, s: UpdateState): void {
  writePrivateFile(path.join(dir, STATE_FILE), JSON.stringify(s, null, 2) + '\n');
}

export function updateState(dir: string, change: (s: UpdateState) => void): UpdateState {
  const s = readState(dir);
  change(s);
  writeState(dir, s);
  return s;
}

export function noteInstalled(s: UpdateState, version: string): void {
  if (s.highestInstalled === null || semver.gt(version, s.highestInstalled)) s.highestInstalled = version;
}

export function markBad(s: UpdateState, version: string, reason: string, now: Date): void {
  if (!s.bad.some((b) => b.version === version)) s.bad.push({ version, at: now.toISOString(), reason });
}

export function isBad(s: UpdateState, version: string): boolean {
  return s.bad.some((b) => b.version === version);
}

/**
 * electron-updater's staged rollouts, made deterministic: this machine takes part in a release
 * offered to `percentage`% when its bucket (hash of staging id and version) is below it.
 */
export function inStagingBucket(stagingId: string, version: string, percentage: number | undefined): boolean {
  if (percentage === undefined || percentage >= 100) return true;
  const h = crypto.createHash('sha256').update(`${stagingId}:${version}`).digest();
  return h.readUInt32BE(0) % 100 < percentage;
}
