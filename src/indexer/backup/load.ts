import fs from 'node:fs';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import Database from 'better-sqlite3-multiple-ciphers';
import { owletError, OwletError } from '../../shared/errors.js';
import { rekey } from '../security/cipher.js';
import { newIndexHistory, passageRange } from '../store/changes.js';
import { rebuildFts } from '../store/fts-rebuild.js';
import { DEFAULT_MIGRATION_CONTEXT, MIGRATIONS } from '../store/migrations.js';
import { storedLanguages } from '../store/languages.js';
import { packPassage } from '../store/passages.js';
import { PASSAGE_TEXT_COLUMN, rowTables } from './dump.js';
import { quoteIdent } from '../store/damage.js';
import { keyFor } from './keys.js';
import { backupFile, type Manifest } from './manifest.js';
import { readRecords, type Value } from './records.js';
import { backupSecret } from './keys.js';
import { openSeal } from './sealed.js';
import { documentCount, openRaw, openWithKeys, userVersion, type RawDb } from './sqlite.js';
import { sideFiles } from './paths.js';

/**
 * Restoring a backup chain into a NEW database file under the current key: the one procedure
 * both `restore` and `verify` run (verify into a temporary folder), so what verify approves is
 * exactly what restore will do.
 *
 *   format 2 ─ fresh file, keyed with the current key ─ schema from this build's migrations
 *             (never SQL from the backup) ─ rows of the full backup, then each increment ─
 *             FTS rebuilt from the text ─ a new index history
 *   format 1 ─ gunzip (bounded by the declared size) ─ open with the key that wrote it,
 *             trusted_schema=OFF ─ schema compared with this build's ─ re-keyed to the current key
 *
 * Either way the result is checked (schema, quick_check, document count) before it is returned.
 */

export interface LoadResult {
  documents: number;
  schemaVersion: number;
}

function invalid(m: Pick<Manifest, 'id'>, what: string): OwletError {
  return owletError('OWL_ERR_BACKUP_INVALID', { reason: `backup ${m.id}: ${what}` });
}

/** The schema (type, name, sql) this build creates at `version`, to compare a restored file with. */
export function referenceSchema(version: number): Map<string, string> {
  const db = new Database(':memory:');
  try {
    for (const m of MIGRATIONS) if (m.version <= version) m.up(db, DEFAULT_MIGRATION_CONTEXT);
    return schemaMap(db);
  } finally {
    db.close();
  }
}

function schemaMap(db: RawDb): Map<string, string> {
  const rows = db.prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").all() as { type: string; name: string; sql: string | null }[];
  return new Map(rows.map((r) => [`${r.type} ${r.name}`, (r.sql ?? '').replace(/\s+/g, ' ')]));
}

/** Throws unless `db`'s schema is exactly what this build makes at `version`. */
export function assertOwnSchema(db: RawDb, version: number, m: Pick<Manifest, 'id'>): void {
  if (version < 1 || version > MIGRATIONS[MIGRATIONS.length - 1]!.version) throw invalid(m, `it has schema version ${version}, which this Owlet does not know`);
  const want = referenceSchema(version);
  const got = schemaMap(db);
  for (const [k, sql] of got) if (want.get(k) !== sql) throw invalid(m, `its database has a schema object this Owlet did not make (${k}); it is not used`);
  for (const k of want.keys()) if (!got.has(k)) throw invalid(m, `its database lacks ${k}`);
}

function roomFor(dir: string, bytes: number, m: Pick<Manifest, 'id'>): void {
  let free: number;
  try {
    const s = fs.statfsSync(dir);
    free = s.bavail * s.bsize;
  } catch {
    return;
  }
  if (free < bytes) {
    throw owletError('OWL_ERR_BACKUP_NO_SPACE', { reason: `restoring backup ${m.id} needs about ${Math.ceil(bytes / 1048576)} MB free in ${dir}, only ${Math.floor(free / 1048576)} MB are; free some space first` });
  }
}

/**
 * Restores `chain` (a full backup, then its increments in order) into `target`, encrypted with
 * `targetKey`. `keys`: every key of this installation (the chain may predate a rotation).
 */
export async function loadChain(dir: string, chain: readonly Manifest[], keys: readonly Buffer[], target: string, targetKey: Buffer | null): Promise<LoadResult> {
  const last = chain[chain.length - 1]!;
  for (const f of [target, ...sideFiles(target)]) fs.rmSync(f, { force: true });
  roomFor(path.dirname(target), Math.ceil(last.dbBytes * 1.5) + 16 * 1048576, last);
  try {
    const out = chain[0]!.format === 1 ? await loadLegacy(dir, chain[0]!, keys, target, targetKey) : loadSealed(dir, chain, keys, target, targetKey);
    if (out.documents !== last.documentCount) throw invalid(last, `the restored index holds ${out.documents} documents, the manifest says ${last.documentCount}`);
    if (out.schemaVersion < last.schemaVersion) throw invalid(last, `the restored index has schema ${out.schemaVersion}, the manifest says ${last.schemaVersion}`);
    return out;
  } catch (e) {
    for (const f of [target, ...sideFiles(target)]) fs.rmSync(f, { force: true });
    throw e;
  }
}

function finalCheck(db: RawDb, m: Manifest): LoadResult {
  const lines = (db.pragma('quick_check(10)') as { quick_check: string }[]).map((r) => r.quick_check);
  if (!(lines.length === 1 && lines[0] === 'ok')) throw invalid(m, `the restored index fails quick_check: ${lines.slice(0, 3).join('; ')}`);
  const schemaVersion = userVersion(db);
  assertOwnSchema(db, schemaVersion, m);
  return { documents: documentCount(db), schemaVersion };
}

function loadSealed(dir: string, chain: readonly Manifest[], keys: readonly Buffer[], target: string, targetKey: Buffer | null): LoadResult {
  const first = chain[0]!;
  if (first.kind !== 'full') throw invalid(first, 'the chain does not start with a full backup');
  const db = openRaw(target, { key: targetKey, create: true });
  try {
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    // Rows arrive table by table (and increments replace whole small tables such as roots): no
    // cascades while loading. The final check covers consistency.
    db.pragma('foreign_keys = OFF');
    for (const m of MIGRATIONS) if (m.version <= first.schemaVersion) m.up(db, DEFAULT_MIGRATION_CONTEXT);
    db.pragma(`user_version = ${first.schemaVersion}`);
    // The change-tracking triggers would renumber every loaded row: off while loading, then back.
    const triggers = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").all() as { name: string; sql: string }[];
    for (const t of triggers) db.exec(`DROP TRIGGER ${quoteIdent(t.name)}`);
    const tables = new Map(rowTables(db).map((t) => [t, (db.prepare(`SELECT * FROM ${quoteIdent(t)} LIMIT 0`).columns() as { name: string }[]).map((c) => c.name)]));
    db.transaction(() => {
      for (const m of chain) {
        if (m.format !== 2) throw invalid(m, 'an increment must be of format 2');
        if (m.schemaVersion !== first.schemaVersion) throw invalid(m, `its schema (${m.schemaVersion}) differs from its full backup's (${first.schemaVersion})`);
        applyOne(db, dir, m, keys, tables);
      }
    })();
    for (const t of triggers) db.exec(t.sql);
    // A backup from an older schema (the one before a migration) comes back at this build's.
    const latest = MIGRATIONS[MIGRATIONS.length - 1]!.version;
    // Stemmed as the index that was backed up was (its languages are in the restored meta rows).
    const ctx = { languages: storedLanguages(db) };
    for (const m of MIGRATIONS) if (m.version > first.schemaVersion) m.up(db, ctx);
    db.pragma(`user_version = ${latest}`);
    rebuildFts(db);
    newIndexHistory(db);
    db.pragma('journal_mode = DELETE');
    const orphans = db.pragma('foreign_key_check') as unknown[];
    if (orphans.length) throw invalid(chain[chain.length - 1]!, `the restored index has ${orphans.length} rows whose parent row is missing`);
    const out = finalCheck(db, chain[chain.length - 1]!);
    return out;
  } finally {
    db.close();
  }
}

function applyOne(db: RawDb, dir: string, m: Manifest, keys: readonly Buffer[], tables: Map<string, string[]>): void {
  const key = keyFor(keys, m.keyId);
  if (!key) throw invalid(m, `it was written with a key this installation does not have (key id ${m.keyId ?? 'none'})`);
  const full = m.kind === 'full';
  const seal = openSeal(backupFile(dir, m), backupSecret(key), m.id, m.rawBytes);
  if (seal.kind !== m.kind) throw invalid(m, `its file is ${seal.kind === 'full' ? 'a full' : 'an incremental'} backup, the manifest says ${m.kind}`);
  // Only increments delete (and they exist only from the schema with change tracking on).
  const delPassages = full ? null : db.prepare('DELETE FROM doc_text WHERE id >= ? AND id < ?');
  const delDoc = full ? null : db.prepare('DELETE FROM documents WHERE id = ?');
  let insert: Database.Statement | null = null;
  let table = '';
  let passageCol = -1;
  let idCol = -1;
  for (const chunk of seal.chunks()) {
    for (const rec of readRecords(chunk)) {
      if (rec.t === 'table') {
        const cols = tables.get(rec.name);
        const named = rec.columns.map((c) => (rec.name === 'doc_text' && c === PASSAGE_TEXT_COLUMN ? 'data' : c));
        if (!cols || cols.length !== named.length || cols.some((c, i) => c !== named[i])) throw invalid(m, `it holds rows for a table this Owlet does not have as such (${rec.name})`);
        if (rec.name !== table && (full || !['documents', 'doc_text'].includes(rec.name))) db.exec(`DELETE FROM ${quoteIdent(rec.name)}`);
        table = rec.name;
        passageCol = rec.name === 'doc_text' ? rec.columns.indexOf(PASSAGE_TEXT_COLUMN) : -1;
        idCol = rec.name === 'documents' ? named.indexOf('id') : -1;
        insert = db.prepare(`INSERT OR REPLACE INTO ${quoteIdent(rec.name)} (${named.map(quoteIdent).join(', ')}) VALUES (${named.map(() => '?').join(', ')})`);
      } else if (rec.t === 'row') {
        if (!insert) throw invalid(m, 'a row comes before its table');
        const v: Value[] = rec.values;
        if (passageCol >= 0) {
          const text = v[passageCol];
          if (!Buffer.isBuffer(text)) throw invalid(m, 'a passage is not text');
          v[passageCol] = packPassage(text.toString('utf8'));
        }
        if (delPassages && idCol >= 0) delPassages.run(...passageRange(v[idCol] as bigint));
        insert.run(...v);
      } else {
        if (!delDoc || !delPassages) throw invalid(m, 'a full backup lists a removed document');
        delDoc.run(rec.id);
        delPassages.run(...passageRange(rec.id));
      }
    }
  }
}

class Bounded extends Transform {
  bytes = 0;
  constructor(
    private readonly max: number,
    private readonly m: Manifest,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.max) return cb(invalid(this.m, `it inflates past its declared size (${this.max} bytes); refused`));
    cb(null, chunk);
  }
}

/** Format 1: a gzipped copy of the database, encrypted with the key that was current then. */
async function loadLegacy(dir: string, m: Manifest, keys: readonly Buffer[], target: string, targetKey: Buffer | null): Promise<LoadResult> {
  const file = backupFile(dir, m);
  const bound = new Bounded(m.dbBytes, m);
  await pipeline(fs.createReadStream(file), zlib.createGunzip(), bound, fs.createWriteStream(target, { mode: 0o600 }));
  if (bound.bytes !== m.dbBytes) throw invalid(m, `it decompresses to ${bound.bytes} bytes, the manifest says ${m.dbBytes}`);
  const known = keyFor(keys, m.keyId);
  if (m.encrypted && !known) throw invalid(m, `it was written with a key this installation does not have (key id ${m.keyId ?? 'none'})`);
  const { db } = openWithKeys(target, known ? [known] : [], { untrusted: true });
  try {
    const out = finalCheck(db, m);
    if (targetKey && (!known || !known.equals(targetKey))) {
      // Re-keyed to the current key, so the service opens it after `owlet key rotate`.
      db.pragma('journal_mode = DELETE');
      rekey(db, targetKey);
    }
    return out;
  } finally {
    db.close();
  }
}
