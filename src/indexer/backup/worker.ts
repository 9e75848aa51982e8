import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { OwletError, owletError } from '../../shared/errors.js';
import { fileHeaderIsPlain } from '../security/cipher.js';
import { isDiskFullError } from '../resilience/disk-space.js';
import { backupFile, keyId, readManifest, writeManifest, type BackupReason, type Manifest, type Verification } from './manifest.js';
import { documentCount, openRaw, openWithKeys, sqlString, userVersion } from './sqlite.js';
import { fsyncDir, sideFiles } from './paths.js';

/**
 * The work done in the backup worker thread (see runner.ts). Each task is plain data in, plain
 * data out; keys arrive as byte arrays (structured clone) and never leave this thread otherwise.
 */

export type Task =
  | { op: 'backup'; source: string; dir: string; id: string; reason: BackupReason; createdAt: string; owletVersion: string; config: unknown; key: Uint8Array | null; verify: boolean; lowPriority: boolean; level?: number }
  | { op: 'pack'; snapshot: string; dir: string; id: string; reason: BackupReason; createdAt: string; owletVersion: string; config: unknown; key: Uint8Array | null; verify: boolean; lowPriority: boolean; level?: number }
  | { op: 'verify'; dir: string; id: string; keys: Uint8Array[]; at: string; lowPriority: boolean }
  | { op: 'unpack'; dir: string; id: string; keys: Uint8Array[]; target: string }
  | { op: 'snapshot'; source: string; dest: string; key: Uint8Array | null; method: 'vacuum' | 'backup-api'; lowPriority: boolean };

export type TaskResult = Manifest | Verification | UnpackResult | SnapshotResult;

export interface UnpackResult {
  documents: number;
  schemaVersion: number;
  keyUsed: 'none' | 'matching' | 'other';
}

export interface SnapshotResult {
  ms: number;
  bytes: number;
}

const toBuf = (k: Uint8Array | null): Buffer | null => (k ? Buffer.from(k) : null);

/**
 * On Linux a thread has its own nice value, so this lowers only the backup thread, leaving the
 * service's searches and indexing at normal priority. Elsewhere it would renice the whole
 * process, so it is skipped.
 */
function lowerPriority(): void {
  if (process.platform !== 'linux') return;
  try {
    os.setPriority(10);
  } catch {
    // Not permitted: run at normal priority.
  }
}

export async function runTask(task: Task): Promise<TaskResult> {
  if ('lowPriority' in task && task.lowPriority) lowerPriority();
  switch (task.op) {
    case 'snapshot':
      return snapshot(task.source, task.dest, toBuf(task.key), task.method);
    case 'backup': {
      const tmp = snapshotPath(task.dir, task.id);
      try {
        await snapshot(task.source, tmp, toBuf(task.key), 'vacuum');
      } catch (e) {
        for (const f of [tmp, ...sideFiles(tmp)]) fs.rmSync(f, { force: true });
        throw asBackupError(e, 'copying the index');
      }
      return pack({ ...task, op: 'pack', snapshot: tmp });
    }
    case 'pack':
      return pack(task);
    case 'verify':
      return verify(task.dir, task.id, task.keys.map((k) => Buffer.from(k)), task.at);
    case 'unpack':
      return unpack(task.dir, task.id, task.keys.map((k) => Buffer.from(k)), task.target);
  }
}

export function snapshotPath(dir: string, id: string): string {
  return path.join(dir, `.tmp-${id}.db`);
}

function asBackupError(e: unknown, what: string): OwletError {
  if (e instanceof OwletError) return e;
  if (isDiskFullError(e)) return owletError('OWL_ERR_BACKUP_NO_SPACE', { reason: `the backup disk filled up while ${what}; nothing was kept. Free some space or set backup.dir to a larger disk` }, { cause: e });
  return owletError('OWL_ERR_BACKUP_FAILED', { reason: `backup failed while ${what}: ${(e as Error).message}` }, { detail: { code: (e as { code?: string }).code ?? null }, cause: e });
}

/**
 * A consistent copy of the live index. VACUUM INTO runs in one read transaction on a separate
 * connection: in WAL mode it blocks neither the service's readers nor its writer, never restarts
 * when the index changes meanwhile, and on a keyed connection writes a copy encrypted with the
 * same key. The online backup API is kept only for the benchmark's comparison (it refuses
 * encrypted databases and restarts whenever another connection writes).
 */
async function snapshot(source: string, dest: string, key: Buffer | null, method: 'vacuum' | 'backup-api'): Promise<SnapshotResult> {
  const t0 = performance.now();
  for (const f of [dest, ...sideFiles(dest)]) fs.rmSync(f, { force: true });
  const db = openRaw(source, { key, readonly: true });
  try {
    if (method === 'vacuum') db.exec(`VACUUM INTO ${sqlString(dest)}`);
    else await db.backup(dest);
  } finally {
    db.close();
  }
  fs.chmodSync(dest, 0o600);
  // Never a plaintext copy of an encrypted index (a build that ignored the key would write one).
  if (key && fileHeaderIsPlain(dest) === true) {
    fs.rmSync(dest, { force: true });
    throw owletError('OWL_ERR_BACKUP_FAILED', { reason: 'the copy of the encrypted index came out unencrypted; it was deleted. This SQLite build does not encrypt: reinstall Owlet' });
  }
  return { ms: performance.now() - t0, bytes: fs.statSync(dest).size };
}

class Tap extends Transform {
  readonly hash = crypto.createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }
}

const CHUNK = 4 * 1024 * 1024;

/**
 * gzip in 4 MiB members (a multi-member gzip file: any gunzip reads it whole), compressed with
 * the synchronous API on purpose: the work then runs on this low-priority thread, where zlib
 * streams would run on libuv's pool at normal priority, competing with searches. Written to
 * `dest` and fsynced; returns both sizes and SHA-256s.
 */
function compressFile(src: string, dest: string, level: number): { raw: { bytes: number; sha256: string }; gz: { bytes: number; sha256: string } } {
  const rawHash = crypto.createHash('sha256');
  const gzHash = crypto.createHash('sha256');
  let rawBytes = 0;
  let gzBytes = 0;
  const buf = Buffer.allocUnsafe(CHUNK);
  const input = fs.openSync(src, 'r');
  try {
    const output = fs.openSync(dest, 'w', 0o600);
    try {
      for (;;) {
        const n = fs.readSync(input, buf, 0, CHUNK, null);
        if (n === 0) break;
        const chunk = buf.subarray(0, n);
        rawHash.update(chunk);
        rawBytes += n;
        const z = zlib.gzipSync(chunk, { level });
        gzHash.update(z);
        gzBytes += z.length;
        for (let off = 0; off < z.length; ) off += fs.writeSync(output, z, off, z.length - off);
      }
      fs.fsyncSync(output);
    } finally {
      fs.closeSync(output);
    }
  } finally {
    fs.closeSync(input);
  }
  return { raw: { bytes: rawBytes, sha256: rawHash.digest('hex') }, gz: { bytes: gzBytes, sha256: gzHash.digest('hex') } };
}

/**
 * Compresses a snapshot into `<id>.db.gz` (written as `.partial`, fsynced, then renamed), writes
 * the manifest, removes the snapshot and, when asked, verifies. On any failure nothing but the
 * temporary files is touched, and they are removed.
 */
async function pack(t: Extract<Task, { op: 'pack' }>): Promise<Manifest> {
  const final = backupFile(t.dir, t.id);
  const partial = `${final}.partial`;
  const key = toBuf(t.key);
  try {
    let schemaVersion: number;
    let documents: number;
    const snap = openRaw(t.snapshot, { key, readonly: true });
    try {
      schemaVersion = userVersion(snap);
      documents = documentCount(snap);
    } finally {
      snap.close();
    }
    // Ciphertext does not compress: the fastest level gives the same size.
    const { raw, gz } = compressFile(t.snapshot, partial, t.level ?? (key ? 1 : 6));
    fs.renameSync(partial, final);
    fsyncDir(t.dir);
    const manifest: Manifest = {
      format: 1,
      id: t.id,
      createdAt: t.createdAt,
      reason: t.reason,
      owletVersion: t.owletVersion,
      schemaVersion,
      documentCount: documents,
      size: gz.bytes,
      sha256: gz.sha256,
      dbBytes: raw.bytes,
      dbSha256: raw.sha256,
      compression: 'gzip',
      encrypted: key !== null,
      keyId: keyId(key),
      config: t.config ?? null,
      verification: null,
    };
    writeManifest(t.dir, manifest);
    fs.rmSync(t.snapshot, { force: true });
    if (!t.verify) return manifest;
    const v = await verify(t.dir, t.id, key ? [key] : [], new Date().toISOString());
    return { ...manifest, verification: v };
  } catch (e) {
    // A backup that did not finish leaves nothing behind that could be mistaken for one.
    for (const f of [partial, t.snapshot, ...sideFiles(t.snapshot)]) fs.rmSync(f, { force: true });
    if (!readManifest(t.dir, t.id)) fs.rmSync(final, { force: true });
    throw asBackupError(e, 'compressing the copy');
  }
}

function sha256Of(file: string): string {
  const h = crypto.createHash('sha256');
  const buf = Buffer.allocUnsafe(CHUNK);
  const fd = fs.openSync(file, 'r');
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, CHUNK, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

/** Decompresses a backup into `target`, checking both checksums on the way. */
async function inflate(dir: string, m: Manifest, target: string): Promise<void> {
  for (const f of [target, ...sideFiles(target)]) fs.rmSync(f, { force: true });
  const gz = new Tap();
  const raw = new Tap();
  await pipeline(fs.createReadStream(backupFile(dir, m.id)), gz, zlib.createGunzip(), raw, fs.createWriteStream(target, { mode: 0o600 }));
  if (gz.hash.digest('hex') !== m.sha256 || gz.bytes !== m.size) throw owletError('OWL_ERR_BACKUP_INVALID', { reason: `backup ${m.id} does not match its checksum: the file was changed or damaged` });
  if (raw.hash.digest('hex') !== m.dbSha256 || raw.bytes !== m.dbBytes) throw owletError('OWL_ERR_BACKUP_INVALID', { reason: `backup ${m.id} decompresses to something other than what was backed up` });
}

/**
 * Proves a backup restorable: checksum, then a restore into a temporary folder, a full
 * `PRAGMA integrity_check` and the document count. The verdict is written into the manifest.
 */
async function verify(dir: string, id: string, keys: Buffer[], at: string): Promise<Verification> {
  const m = readManifest(dir, id);
  if (!m) throw owletError('OWL_ERR_BACKUP_NOT_FOUND', { id, dir });
  const v: Verification = { at, ok: false, message: null, checksum: false, integrity: false, documents: false };
  const tmpDir = path.join(dir, `.tmp-verify-${id}`);
  try {
    let file: string;
    try {
      file = backupFile(dir, id);
      if (!fs.existsSync(file)) throw owletError('OWL_ERR_BACKUP_INVALID', { reason: `backup file ${path.basename(file)} is missing` });
      if (sha256Of(file) !== m.sha256) throw owletError('OWL_ERR_BACKUP_INVALID', { reason: 'the backup file does not match its checksum (changed or damaged since it was written)' });
      v.checksum = true;
      fs.mkdirSync(tmpDir, { recursive: true, mode: 0o700 });
      const restored = path.join(tmpDir, 'index.db');
      await inflate(dir, m, restored);
      const { db } = openWithKeys(restored, keys, { readonly: true, wantedKeyId: m.keyId });
      try {
        const lines = (db.pragma('integrity_check(10)') as { integrity_check: string }[]).map((r) => r.integrity_check);
        if (!(lines.length === 1 && lines[0] === 'ok')) throw owletError('OWL_ERR_BACKUP_INVALID', { reason: `the restored copy fails integrity_check: ${lines.slice(0, 3).join('; ')}` });
        v.integrity = true;
        const n = documentCount(db);
        if (n !== m.documentCount) throw owletError('OWL_ERR_BACKUP_INVALID', { reason: `the restored copy holds ${n} documents, the manifest says ${m.documentCount}` });
        if (userVersion(db) !== m.schemaVersion) throw owletError('OWL_ERR_BACKUP_INVALID', { reason: `the restored copy has schema ${userVersion(db)}, the manifest says ${m.schemaVersion}` });
        v.documents = true;
      } finally {
        db.close();
      }
      v.ok = true;
    } catch (e) {
      v.message = e instanceof OwletError ? e.message : `verification failed: ${(e as Error).message}`;
    }
  } finally {
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }
  writeManifest(dir, { ...m, verification: v });
  return v;
}

/** Decompresses a backup to `target` (checksums checked) and checks the result opens and counts right. */
async function unpack(dir: string, id: string, keys: Buffer[], target: string): Promise<UnpackResult> {
  const m = readManifest(dir, id);
  if (!m) throw owletError('OWL_ERR_BACKUP_NOT_FOUND', { id, dir });
  try {
    await inflate(dir, m, target);
    const { db, key } = openWithKeys(target, keys, { readonly: true, wantedKeyId: m.keyId });
    try {
      const lines = (db.pragma('quick_check(10)') as { quick_check: string }[]).map((r) => r.quick_check);
      if (!(lines.length === 1 && lines[0] === 'ok')) throw owletError('OWL_ERR_BACKUP_INVALID', { reason: `backup ${id} fails quick_check after restoring: ${lines.slice(0, 3).join('; ')}` });
      const documents = documentCount(db);
      if (documents !== m.documentCount) throw owletError('OWL_ERR_BACKUP_INVALID', { reason: `backup ${id} holds ${documents} documents, its manifest says ${m.documentCount}` });
      return { documents, schemaVersion: userVersion(db), keyUsed: key === null ? 'none' : keyId(key) === m.keyId ? 'matching' : 'other' };
    } finally {
      db.close();
    }
  } catch (e) {
    for (const f of [target, ...sideFiles(target)]) fs.rmSync(f, { force: true });
    throw e instanceof OwletError ? e : asBackupError(e, `restoring ${id}`);
  }
}
