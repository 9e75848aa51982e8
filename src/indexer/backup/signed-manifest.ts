import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { owletError } from '../../shared/errors.js';
import { writePrivateFile } from '../security/files.js';
import { assertBackupId, insideBackupDir } from './ids.js';
import { keyFor, keyId, macMatches, manifestMac } from './keys.js';
import { ensureDir } from './paths.js';

/**
 * The parts of a backup manifest that need no schema: its file names, signing, trust, chains.
 * Apart from manifest.ts (which parses manifests with zod) so that the backup worker thread can
 * write and check a manifest without loading the schema library: it is started for every backup,
 * and loading zod was a third of an incremental backup's time.
 */

/** What signing, trust and chains read of a manifest (manifest.ts has the whole schema, `Manifest`). */
export interface ManifestCore {
  format: 1 | 2;
  id: string;
  createdAt: string;
  encrypted: boolean;
  keyId: string | null;
  mac: string | null;
  kind: 'full' | 'incremental';
  parentId: string | null;
  size: number;
  sha256: string;
  verification: { ok: boolean } | null;
}
type Manifest = ManifestCore;

export const BACKUP_SUFFIX = '.owb';
export const LEGACY_SUFFIX = '.db.gz';
export const MANIFEST_SUFFIX = '.json';

/** The data file of a backup: `<id>.owb`, or `<id>.db.gz` for format 1. */
export function backupFile(dir: string, m: Pick<Manifest, 'id' | 'format'>): string {
  return insideBackupDir(dir, m.id + (m.format === 1 ? LEGACY_SUFFIX : BACKUP_SUFFIX));
}

export function manifestFile(dir: string, id: string): string {
  return insideBackupDir(dir, assertBackupId(id) + MANIFEST_SUFFIX);
}

/** Writes the manifest atomically (temp name, fsync, rename), so a reader never sees half of one. */
export function writeManifest<M extends Manifest>(dir: string, m: M, key: Buffer | null): M {
  ensureDir(dir);
  if (m.format === 2) {
    if (!key || keyId(key) !== m.keyId) throw owletError('OWL_ERR_BACKUP_FAILED', { reason: `cannot sign the manifest of backup ${m.id}: the key that wrote it is not available` });
    m = { ...m, mac: manifestMac(key, m as unknown as Record<string, unknown>) };
  }
  writePrivateFile(manifestFile(dir, m.id), JSON.stringify(m, null, 2) + '\n');
  return m;
}

/**
 * Whether a manifest is this installation's own, before anything it says is believed:
 * - format 2: a key of this installation has the manifest's key id, and the MAC matches;
 * - format 1 (no MAC): encrypted with a key of this installation (the database inside then only
 *   opens with it); a plaintext one only while the index itself is unencrypted (no keys);
 * - never a creation date in the future (a planted "newest" backup).
 * Returns null when trusted, else the reason.
 */
export function distrust(m: Manifest, keys: readonly Buffer[], now: number = Date.now()): string | null {
  if (Date.parse(m.createdAt) > now + 10 * 60_000 || Number.isNaN(Date.parse(m.createdAt))) return `backup ${m.id} claims to be made at ${m.createdAt}, in the future; it is not used`;
  if (m.format === 1) {
    if (!m.encrypted) return keys.length > 0 ? `backup ${m.id} is not encrypted while the index is; it is not from this installation and is not used` : null;
    return keyFor(keys, m.keyId) ? null : `backup ${m.id} was written with a key this installation does not have (key id ${m.keyId ?? 'none'})`;
  }
  const key = keyFor(keys, m.keyId);
  if (!key) return `backup ${m.id} was written with a key this installation does not have (key id ${m.keyId ?? 'none'})`;
  if (!m.mac || !macMatches(key, m as unknown as Record<string, unknown>, m.mac)) return `the manifest of backup ${m.id} fails its authentication: it was changed, or not written by this installation`;
  return null;
}

export function isVerified(m: Pick<Manifest, 'verification'>): boolean {
  return m.verification?.ok === true;
}

/** The chain a backup restores from: its full backup first, then each increment up to it. */
export function chainOf<M extends Manifest>(id: string, byId: ReadonlyMap<string, M>): { chain: M[]; missing: string | null } {
  const chain: M[] = [];
  let cur: string | null = id;
  for (let guard = 0; cur && guard < 1000; guard++) {
    const m = byId.get(cur);
    if (!m) return { chain: chain.reverse(), missing: cur };
    chain.push(m);
    if (m.kind === 'full') return { chain: chain.reverse(), missing: null };
    cur = m.parentId;
  }
  return { chain: chain.reverse(), missing: cur ?? id };
}

export function compareNewestFirst(a: Pick<Manifest, 'createdAt' | 'id'>, b: Pick<Manifest, 'createdAt' | 'id'>): number {
  const t = Date.parse(b.createdAt) - Date.parse(a.createdAt);
  return t !== 0 ? t : a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/**
 * Checks a chain (full backup first) as a restore needs it: each member trusted (distrust), its
 * manifest and file present, the file matching its size and checksum. Throws naming the first
 * that fails.
 */
export function checkChain(dir: string, chain: readonly Manifest[], keys: readonly Buffer[], now: number = Date.now()): void {
  for (const m of chain) {
    const why = distrust(m, keys, now);
    if (why) throw owletError('OWL_ERR_BACKUP_INVALID', { reason: why });
    if (!fs.existsSync(manifestFile(dir, m.id))) throw owletError('OWL_ERR_BACKUP_INVALID', { reason: `the manifest of backup ${m.id} is missing` });
    const file = backupFile(dir, m);
    let size: number;
    try {
      size = fs.statSync(file).size;
    } catch {
      throw owletError('OWL_ERR_BACKUP_INVALID', { reason: `backup file ${path.basename(file)} is missing` });
    }
    if (size !== m.size || sha256Of(file) !== m.sha256) throw owletError('OWL_ERR_BACKUP_INVALID', { reason: `backup file ${path.basename(file)} does not match its checksum (changed or damaged since it was written)` });
  }
}

/** Whether `chain` links up: a full backup first, each later one naming the one before as its parent. */
export function chainLinks(chain: readonly Pick<Manifest, 'id' | 'kind' | 'parentId'>[]): boolean {
  return chain.length > 0 && chain[0]!.kind === 'full' && chain.every((m, i) => i === 0 || (m.kind === 'incremental' && m.parentId === chain[i - 1]!.id));
}

export function sha256Of(file: string): string {
  const h = crypto.createHash('sha256');
  const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
  const fd = fs.openSync(file, 'r');
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}
