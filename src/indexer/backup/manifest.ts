import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { BACKUP_ID_PATTERN, isBackupId } from './ids.js';
import { keyId } from './keys.js';
import { backupFile, compareNewestFirst, distrust, manifestFile, MANIFEST_SUFFIX } from './signed-manifest.js';

/**
 * One backup = a data file + `<id>.json`, this manifest. The manifest is written only after the
 * data file is complete and renamed into place, and rewritten when verification finishes, so a
 * file without a manifest, or a manifest without `verification.ok`, is never used for an
 * automatic restore.
 *
 * Format 2 (current): `<id>.owb`, rows compressed then encrypted in authenticated chunks
 * (sealed.ts); the manifest carries an HMAC under a key derived from the data key that wrote it
 * (keys.ts), so only this installation can make a manifest it will accept. A backup is `full` or
 * `incremental` (the documents changed since its parent, by the index's change sequence).
 * Format 1 (legacy): `<id>.db.gz`, a gzipped encrypted copy of the database, no MAC; still
 * restorable when a key of this installation opens it, and pruned like any other.
 */
export const MANIFEST_FORMAT = 2;

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
    format: z.union([z.literal(1), z.literal(2)]),
    id: z.string().regex(BACKUP_ID_PATTERN),
    createdAt: z.string(),
    reason: BackupReason,
    owletVersion: z.string(),
    schemaVersion: z.number().int(),
    documentCount: z.number().int().min(0),
    /** Bytes of the backup file (compressed, encrypted). */
    size: z.number().int().min(0),
    /** SHA-256 (hex) of the backup file. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    /** Bytes of the live index when the backup was taken: what a restore needs free. */
    dbBytes: z.number().int().min(0),
    /** Format 1: SHA-256 of the database inside; format 2: null (the chunks are authenticated). */
    dbSha256: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
    compression: z.enum(['gzip', 'zstd', 'brotli']),
    encrypted: z.boolean(),
    /** Which key encrypted it (an HMAC of a constant, not the key): picks the key after a rotation. */
    keyId: z.string().nullable(),
    /** Owlet's own state beside the index: the configuration at the time of the backup. */
    config: z.unknown().nullable(),
    verification: Verification.nullable(),
    kind: z.enum(['full', 'incremental']).default('full'),
    /** Incremental: the backup this one adds to (its parent), and the full backup its chain starts with. */
    parentId: z.string().regex(BACKUP_ID_PATTERN).nullable().default(null),
    baseId: z.string().regex(BACKUP_ID_PATTERN).nullable().default(null),
    /** The index's change sequence this backup covers up to (null: the index had no change tracking). */
    changeSeq: z.number().int().min(0).nullable().default(null),
    /** The history of the index it was taken from (meta.index_uuid): increments build only on the same one. */
    indexUuid: z.string().nullable().default(null),
    /** Plaintext bytes inside (the bound decompression may not pass). */
    rawBytes: z.number().int().min(0).default(0),
    /** HMAC-SHA256 of everything else (format 2). */
    mac: z.string().regex(/^[0-9a-f]{64}$/).nullable().default(null),
  })
  .strict();
export type Manifest = z.infer<typeof Manifest>;



/** New, sortable id: UTC time to the second plus 4 random hex digits. */
export function newBackupId(nowMs: number): string {
  const iso = new Date(nowMs).toISOString();
  return `${iso.slice(0, 19).replace(/[-:]/g, '')}Z-${crypto.randomBytes(2).toString('hex')}`;
}

export { keyId };
export { BACKUP_SUFFIX, LEGACY_SUFFIX, MANIFEST_SUFFIX, backupFile, manifestFile, writeManifest, distrust, isVerified, chainOf, compareNewestFirst } from './signed-manifest.js';


export function readManifest(dir: string, id: string): Manifest | null {
  if (!isBackupId(id)) return null;
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
  /** Why the manifest is not trusted (see distrust); null when it is, or when no keys were given. */
  untrusted: string | null;
}


/**
 * Every backup with a readable manifest, newest first. Partial files and stray names are ignored.
 * With `keys`, each entry says whether its manifest is trusted (see distrust).
 */
export function listBackups(dir: string, keys?: readonly Buffer[], now: number = Date.now()): BackupEntry[] {
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
      present = fs.statSync(backupFile(dir, m)).size === m.size;
    } catch {
      present = false;
    }
    out.push({ manifest: m, present, untrusted: keys ? distrust(m, keys, now) : null });
  }
  return out.sort((a, b) => compareNewestFirst(a.manifest, b.manifest));
}



/** Removes a backup: the manifest first, so a half-removed backup is never listed as usable. */
export function removeBackup(dir: string, id: string): void {
  const m = readManifest(dir, id);
  fs.rmSync(manifestFile(dir, id), { force: true });
  for (const format of m ? [m.format] : ([1, 2] as const)) fs.rmSync(backupFile(dir, { id, format }), { force: true });
}

/**
 * Temporary files a crashed backup may leave: `.tmp-*` copies, `*.partial` outputs, and manifests
 * cut short while written (writePrivateFile's `.<id>.json.<pid>.<random>.tmp`, or the older
 * `<id>.json.<pid>.tmp`).
 */
export function isTemporaryName(name: string): boolean {
  return name.startsWith('.tmp-') || name.endsWith('.partial') || /\.json\.\d+(\.[0-9a-f]+)?\.tmp$/.test(name);
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
