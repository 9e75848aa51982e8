import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import type { BackupDeps, createBackup } from '../../../src/indexer/backup/create.js';
import type { Manifest } from '../../../src/indexer/backup/manifest.js';
import { DEFAULT_BACKUP_CONFIG } from '../../../src/indexer/config/backup-settings.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';
import { applyKey } from '../../../src/indexer/security/cipher.js';
import { OwletService } from '../../../src/indexer/service/service.js';
import { tmpDir } from '../../helpers/tmp.js';
import { makeCorpus, writeConfig } from './helpers.js';

/** The backup tests' common ground: an indexed corpus, backup deps, and what a restore must bring back. */

/** A data folder with `files` makeCorpus documents indexed into it; the service is left open. */
export async function indexed(prefix: string, files = 30, config: Record<string, unknown> = {}) {
  const base = tmpDir(prefix);
  const root = path.join(base, 'docs');
  const data = path.join(base, 'data');
  makeCorpus(root, files);
  writeConfig(data, { roots: [root], ...config });
  const svc = new OwletService({ dataDir: data, log: nullLogger, watch: false });
  await svc.indexOnce();
  svc.writer.flush();
  return { base, root, data, svc, dir: path.join(data, 'backups') };
}

/** The same, asserting the index is encrypted (Owlet always encrypts; a build that does not is a failure, not "not applicable"). */
export async function indexedEncrypted(prefix: string, files = 30) {
  const r = await indexed(prefix, files);
  assert.ok(r.svc.ctx.key, 'the index is encrypted');
  return { ...r, key: r.svc.ctx.key };
}

export function deps(data: string, key: Buffer | null, extra: Partial<BackupDeps> = {}): BackupDeps {
  return { dataDir: data, settings: DEFAULT_BACKUP_CONFIG, key, log: nullLogger, ...extra };
}

export const sha256 = (b: Buffer): string => crypto.createHash('sha256').update(b).digest('hex');

/** The manifest of a backup that must have been created. */
export async function made(p: ReturnType<typeof createBackup>): Promise<Manifest> {
  const out = await p;
  assert.equal(out.status, 'created');
  if (out.status !== 'created') throw new Error('skipped');
  return out.manifest;
}

/** Path, hash and status of every document: what a restore must bring back. */
export function docsOf(db: Database.Database): string[] {
  return (db.prepare('SELECT path, hash, status, size FROM documents ORDER BY path').all() as object[]).map((r) => JSON.stringify(r));
}

export function openRestored(file: string, key: Buffer): Database.Database {
  const db = new Database(file, { readonly: true });
  applyKey(db, key);
  return db;
}
