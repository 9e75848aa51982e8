import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ensureDir, fsyncDir } from './paths.js';

/**
 * One backup = `<id>.db.gz` (a gzip stream of a consistent copy of the index, encrypted with the
 * index's key when the index is encrypted) + `<id>.json`, this manifest. The manifest is written
 * only after the backup file is complete and renamed into place, and rewritten when verification
 * finishes, so a file without a manifest, or a manifest without `verification.ok`, is never used
 * for an automatic restore.
 */
export const MANIFEST_FORMAT = 1;

export const BackupReason = z.enum(['scheduled', 'manual', 'pre-migration', 'pre-update', 'catch-up']);
export type BackupReason = z.infer<typeof BackupReason>;

export const Verification = z
  .object({
    at: z.string(),
    ok: z.boolean(),
    /** What failed, in words a person can act on; null when ok. */
    message: z.string().nullable(),
    checksum: z.boolean(),
    integrity: z.boolean(),
    documents: z.boolean(),
  })
  .strict();
export type Verification = z.infer<typeof Verification>;

export const Manifest = z
  .object({
    format: z.literal(MANIFEST_FORMAT),
    id: z.string().regex(/^[0-9TZ]+-[0-9a-f]{4}$/),
    createdAt: z.string(),
    reason: BackupReason,
    owletVersion: z.string(),
    schemaVersion: z.number().int(),
    documentCount: z.number().int().min(0),
    /** Bytes of the backup file (compressed). */
    size: z.number().int().min(0),
    /** SHA-256 (hex) of the backup file. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    /** Bytes and SHA-256 of the database inside, after decompression. */
    dbBytes: z.number().int().min(0),
    dbSha256: z.string().regex(/^[0-9a-f]{64}$/),
    compression: z.literal('gzip'),
    encrypted: z.boolean(),
    /** Which key encrypted it (an HMAC of a constant, not the key): picks the key after a rotation. */
    keyId: z.string().nullable(),
    /** Owlet's own state beside the index: the configuration at the time of the backup. */
    config: z.unknown().nullable(),
    verification: Verification.nullable(),
  })
  .strict();
export type Manifest = z.infer<typeof Manifest>;

export const BACKUP_SUFFIX = '.db.gz';
export const MANIFEST_SUFFIX = '.json';

export function backupFile(dir: string, id: string): string {
  return path.join(dir, id + BACKUP_SUFFIX);
}
export function manifestFile(dir: string, id: string): string {
  return path.join(dir, id + MANIFEST_SUFFIX);
}

/** New, sortable id: UTC time to the second plus 4 random hex digits. */
export function newBackupId(nowMs: number): string {
  const iso = new Date(nowMs).toISOString();
  return `${iso.slice(0, 19).replace(/[-:]/g, '')}Z-${crypto.randomBytes(2).toString('hex')}`;
}

export function keyId(key: Buffer | null): string | null {
  return key ? crypto.createHmac('sha256', key).update('owlet backup key id v1').digest('hex').slice(0, 16) : null;
}

/** Writes the manifest atomically (temp name, fsync, rename), so a reader never sees half of one. */
export function writeManifest(dir: string, m: Manifest): void {
  ensureDir(dir);
  const file = manifestFile(dir, m.id);
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, JSON.stringify(m, null, 2) + '\n');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  fsyncDir(dir);
}

export function readManifest(dir: string, id: string): Manifest | null {
  try {
    return Manifest.parse(JSON.parse(fs.readFileSync(manifestFile(dir, id), 'utf8')));
  } catch {
    return null;
  }
}

export interface BackupEntry {
  manifest: Manifest;
  /** The backup file exists with the size the manifest records. */
  present: boolean;
}

export function isVerified(m: Manifest): boolean {
  return m.verification?.ok === true;
}

/** Every backup with a readable manifest, newest first. Partial files and stray names are ignored. */
export function listBackups(dir: string): BackupEntry[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: BackupEntry[] = [];
  for (const n of names) {
    if (!n.endsWith(MANIFEST_SUFFIX)) continue;
    const m = readManifest(dir, n.slice(0, -MANIFEST_SUFFIX.length));
    if (!m) continue;
    let present = false;
    try {
      present = fs.statSync(backupFile(dir, m.id)).size === m.size;
    } catch {
      present = false;
    }
    out.push({ manifest: m, present });
  }
  return out.sort((a, b) => compareNewestFirst(a.manifest, b.manifest));
}

export function compareNewestFirst(a: Pick<Manifest, 'createdAt' | 'id'>, b: Pick<Manifest, 'createdAt' | 'id'>): number {
  const t = Date.parse(b.createdAt) - Date.parse(a.createdAt);
  return t !== 0 ? t : a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** Removes a backup: the manifest first, so a half-removed backup is never listed as usable. */
export function removeBackup(dir: string, id: string): void {
  fs.rmSync(manifestFile(dir, id), { force: true });
  fs.rmSync(backupFile(dir, id), { force: true });
}

/** Temporary files a crashed backup may leave: `.tmp-*` copies and `*.partial` outputs. */
export function isTemporaryName(name: string): boolean {
  return name.startsWith('.tmp-') || name.endsWith('.partial') || /\.json\.\d+\.tmp$/.test(name);
}

/** Deletes temporary files left by an interrupted backup (never a finished backup or manifest). */
export function cleanTemporaries(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    if (!isTemporaryName(n)) continue;
    fs.rmSync(path.join(dir, n), { recursive: true, force: true });
    removed.push(n);
  }
  return removed;
}
