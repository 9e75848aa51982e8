import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { owletError, OwletError } from '../../shared/errors.js';
import { isDiskFullError } from '../resilience/disk-space.js';
import { fileHeaderIsPlain } from '../security/cipher.js';
import { defaultCodec, type Codec } from './codec.js';
import { dumpIndex } from './dump.js';
import { assertBackupId, insideBackupDir } from './ids.js';
import { backupSecret, keyFor, keyId } from './keys.js';
import { readRecords } from './records.js';
import { openSeal } from './sealed.js';
import type { BackupReason, Manifest, Verification } from './manifest.js';
import { backupFile, chainLinks, checkChain, distrust, writeManifest } from './signed-manifest.js';
import { fsyncDir, sideFiles } from './paths.js';
import { documentCount, openRaw, sqlString } from './sqlite.js';

/**
 * The work done in the backup worker thread (see runner.ts). Each task is plain data in, plain
 * data out; keys arrive as byte arrays (structured clone) and never leave this thread otherwise.
 */

export interface ParentRef {
  id: string;
  baseId: string;
  changeSeq: number;
  indexUuid: string;
  /** The parent's chain as the caller read and trusted it, full backup first (checked again here). */
  chain: Manifest[];
}

export type Task =
  | {
      op: 'backup';
      source: string;
      dir: string;
      id: string;
      reason: BackupReason;
      createdAt: string;
      owletVersion: string;
      config: unknown;
      key: Uint8Array | null;
      /** Every key of the installation (verification after writing reads with them). */
      keys?: Uint8Array[];
      /** Build on this backup (incremental) when the index is still of its history. */
      parent?: ParentRef | null;
      codec?: Codec;
      chunkBytes?: number;
      verify: boolean;
      lowPriority: boolean;
    }
  | { op: 'verify'; dir: string; id: string; keys: Uint8Array[]; at: string; lowPriority: boolean }
  | { op: 'unpack'; dir: string; id: string; keys: Uint8Array[]; target: string }
  | { op: 'snapshot'; source: string; dest: string; key: Uint8Array | null; method: 'vacuum' | 'backup-api'; lowPriority: boolean };

export type TaskResult = Manifest | Verification | UnpackResult | SnapshotResult;

export interface UnpackResult {
  documents: number;
  schemaVersion: number;
  /** The backups read, full first. */
  chain: string[];
}

export interface SnapshotResult {
  ms: number;
  bytes: number;
}

const toBuf = (k: Uint8Array | null): Buffer | null => (k ? Buffer.from(k) : null);

/**
 * What restoring needs (the manifest schema, this build's migrations, every stemmer): loaded only
 * by the tasks that restore. A thread is started for every backup, and loading these took most of
 * a daily incremental backup's time, which never restores anything.
 */
async function restoreModules() {
  const [chain, load, manifest] = await Promise.all([import('./chain.js'), import('./load.js'), import('./manifest.js')]);
  return { resolveChain: chain.resolveChain, loadChain: load.loadChain, readManifest: manifest.readManifest };
}

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
    case 'backup':
      return backup(task);
    case 'verify':
      return verify(task.dir, task.id, task.keys.map((k) => Buffer.from(k)), task.at);
    case 'unpack':
      return unpack(task.dir, task.id, task.keys.map((k) => Buffer.from(k)), task.target);
  }
}

/** The temporary name a backup is written under until it is complete. */
export function partialPath(dir: string, id: string): string {
  return insideBackupDir(dir, `${assertBackupId(id)}.owb.partial`);
}

/** Kept for callers that clean up after a cancelled backup (the name of the old temporary copy). */
export function snapshotPath(dir: string, id: string): string {
  return insideBackupDir(dir, `.tmp-${assertBackupId(id)}.db`);
}

function asBackupError(e: unknown, what: string): OwletError {
  if (e instanceof OwletError) return e;
  if (isDiskFullError(e)) return owletError('OWL_ERR_BACKUP_NO_SPACE', { reason: `the backup disk filled up while ${what}; nothing was kept. Free some space or set backup.dir to a larger disk` }, { cause: e });
  return owletError('OWL_ERR_BACKUP_FAILED', { reason: `backup failed while ${what}: ${(e as Error).message}` }, { detail: { code: (e as { code?: string }).code ?? null }, cause: e });
}

/**
 * A consistent copy of the live index as a database file: used only by the benchmark to compare
 * copy methods (VACUUM INTO vs the online backup API).
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
  if (key && fileHeaderIsPlain(dest) === true) {
    fs.rmSync(dest, { force: true });
    throw owletError('OWL_ERR_BACKUP_FAILED', { reason: 'the copy of the encrypted index came out unencrypted; it was deleted. This SQLite build does not encrypt: reinstall Owlet' });
  }
  return { ms: performance.now() - t0, bytes: fs.statSync(dest).size };
}

function sizeOf(f: string): number {
  try {
    return fs.statSync(f).size;
  } catch {
    return 0;
  }
}

/**
 * Streams the live index into `<id>.owb.partial` (compressed, then encrypted: no plaintext on
 * disk), fsyncs and renames it, writes the signed manifest, then verifies when asked. On any
 * failure only the temporary file is touched, and it is removed.
 */
async function backup(t: Extract<Task, { op: 'backup' }>): Promise<Manifest> {
  const key = toBuf(t.key);
  if (!key) throw owletError('OWL_ERR_BACKUP_FAILED', { reason: 'the index is not encrypted yet (an index from before encryption, opened read-only); start Owlet once so it encrypts the index, then back it up' });
  const partial = partialPath(t.dir, t.id);
  const final = backupFile(t.dir, { id: t.id, format: 2 });
  let fd: number | null = null;
  let manifestWritten = false;
  try {
    fd = fs.openSync(partial, 'wx', 0o600);
    const db = openRaw(t.source, { key, readonly: true });
    let r: ReturnType<typeof dumpIndex>;
    try {
      r = dumpIndex({ db, fd, secret: backupSecret(key), id: t.id, codec: t.codec ?? defaultCodec(), since: t.parent ? { seq: t.parent.changeSeq, uuid: t.parent.indexUuid } : null, chunkBytes: t.chunkBytes });
    } finally {
      db.close();
    }
    fs.closeSync(fd);
    fd = null;
    fs.renameSync(partial, final);
    fsyncDir(t.dir);
    const incremental = r.kind === 'incremental' && t.parent;
    const manifest: Manifest = {
      format: 2,
      id: t.id,
      createdAt: t.createdAt,
      reason: t.reason,
      owletVersion: t.owletVersion,
      schemaVersion: r.schemaVersion,
      documentCount: r.documents,
      size: r.stats.bytes,
      sha256: r.stats.sha256,
      dbBytes: sizeOf(t.source) + sizeOf(`${t.source}-wal`),
      dbSha256: null,
      compression: t.codec ?? defaultCodec(),
      encrypted: true,
      keyId: keyId(key),
      config: t.config ?? null,
      verification: null,
      kind: r.kind,
      parentId: incremental ? t.parent!.id : null,
      baseId: incremental ? t.parent!.baseId : null,
      changeSeq: r.changeSeq,
      indexUuid: r.indexUuid,
      rawBytes: r.stats.rawBytes,
      mac: null,
    };
    const signed = writeManifest(t.dir, manifest, key);
    manifestWritten = true;
    if (!t.verify) return signed;
    const keys = (t.keys ?? []).map((k) => Buffer.from(k));
    const all = keys.some((k) => k.equals(key)) ? keys : [key, ...keys];
    // A full backup is proven by restoring it; an increment by its chain's checksums and every one
    // of its chunks authenticated and parsed (restoring the whole chain each day would cost a full
    // restore; `owlet backup verify` and every automatic use still restore the chain).
    if (r.kind === 'incremental' && t.parent) return verifyIncrement(t.dir, signed, t.parent.chain, all, new Date().toISOString());
    await verify(t.dir, t.id, all, new Date().toISOString());
    return (await restoreModules()).readManifest(t.dir, t.id)!;
  } catch (e) {
    if (fd !== null) fs.closeSync(fd);
    // A backup that did not finish leaves nothing behind that could be mistaken for one.
    fs.rmSync(partial, { force: true });
    if (!manifestWritten) fs.rmSync(final, { force: true });
    throw asBackupError(e, 'writing the backup');
  }
}

/**
 * Proves a backup restorable by doing exactly what a restore does, into a temporary folder:
 * resolve its chain (present, trusted, checksums), rebuild the index under the current key
 * (keys[0]), then a full integrity_check. The verdict is written into its signed manifest.
 */
async function verify(dir: string, id: string, keys: Buffer[], at: string): Promise<Verification> {
  assertBackupId(id);
  const { readManifest, resolveChain, loadChain } = await restoreModules();
  const m = readManifest(dir, id);
  if (!m) throw owletError('OWL_ERR_BACKUP_NOT_FOUND', { id, dir });
  const v: Verification = { at, ok: false, message: null, checksum: false, integrity: false, documents: false };
  const tmpDir = insideBackupDir(dir, `.tmp-verify-${id}`);
  try {
    try {
      const chain = resolveChain(dir, id, keys);
      v.checksum = true;
      fs.rmSync(tmpDir, { recursive: true, force: true });
      fs.mkdirSync(tmpDir, { recursive: true, mode: 0o700 });
      const restored = path.join(tmpDir, 'index.db');
      const targetKey = keys[0] ?? null;
      await loadChain(dir, chain, keys, restored, targetKey);
      v.documents = true;
      const db = openRaw(restored, { key: targetKey, readonly: true, untrusted: true });
      try {
        const lines = (db.pragma('integrity_check(10)') as { integrity_check: string }[]).map((r) => r.integrity_check);
        if (!(lines.length === 1 && lines[0] === 'ok')) throw owletError('OWL_ERR_BACKUP_INVALID', { reason: `backup ${id}: the restored copy fails integrity_check: ${lines.slice(0, 3).join('; ')}` });
        v.integrity = true;
        if (documentCount(db) !== m.documentCount) throw owletError('OWL_ERR_BACKUP_INVALID', { reason: `backup ${id}: the restored copy holds ${documentCount(db)} documents, the manifest says ${m.documentCount}` });
      } finally {
        db.close();
      }
      v.ok = true;
    } catch (e) {
      v.message = e instanceof OwletError ? e.message : `backup ${id}: verification failed: ${(e as Error).message}`;
    }
  } finally {
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }
  recordVerdict(dir, m, v, keys);
  return v;
}

/**
 * Checks a new increment without restoring its chain (see backup()): the chain it extends, as the
 * caller read it, must still link up, be trusted and match its checksums on disk; then every chunk
 * of the increment is authenticated and its records parsed.
 */
function verifyIncrement(dir: string, m: Manifest, parentChain: readonly Manifest[], keys: Buffer[], at: string): Manifest {
  const v: Verification = { at, ok: false, message: null, checksum: false, integrity: false, documents: false };
  try {
    const chain = [...parentChain, m];
    if (!chainLinks(chain) || m.baseId !== chain[0]!.id) throw owletError('OWL_ERR_BACKUP_INVALID', { reason: `backup ${m.id} is an increment whose chain does not link up to its full backup` });
    checkChain(dir, chain, keys);
    v.checksum = true;
    const key = keyFor(keys, m.keyId)!;
    let records = 0;
    for (const chunk of openSeal(backupFile(dir, m), backupSecret(key), m.id, m.rawBytes).chunks()) for (const _ of readRecords(chunk)) records++;
    v.integrity = records > 0;
    v.documents = true;
    v.ok = true;
  } catch (e) {
    v.message = e instanceof OwletError ? e.message : `backup ${m.id}: verification failed: ${(e as Error).message}`;
  }
  return recordVerdict(dir, m, v, keys);
}

/**
 * Writes a verdict into a manifest, signed again, but only into a manifest this installation
 * already trusts: re-signing a forged or edited one would launder it. Others keep what they say
 * (which nothing believes).
 */
function recordVerdict(dir: string, m: Manifest, v: Verification, keys: Buffer[]): Manifest {
  if (distrust(m, keys) !== null) return m;
  return writeManifest(dir, { ...m, verification: v }, keyFor(keys, m.keyId));
}

/** Restores a backup's chain into `target` under the current key (keys[0]) and checks it. */
async function unpack(dir: string, id: string, keys: Buffer[], target: string): Promise<UnpackResult> {
  try {
    const { resolveChain, loadChain } = await restoreModules();
    const chain = resolveChain(dir, id, keys);
    const r = await loadChain(dir, chain, keys, target, keys[0] ?? null);
    return { ...r, chain: chain.map((m) => m.id) };
  } catch (e) {
    for (const f of [target, ...sideFiles(target)]) fs.rmSync(f, { force: true });
    throw e instanceof OwletError ? e : asBackupError(e, `restoring ${id}`);
  }
}
