import fs from 'node:fs';
import { unpackPassage } from '../store/passages.js';
import { currentChangeSeq, hasChangeTracking, indexUuid, passageRange, TRACKED_TABLES } from '../store/changes.js';
import type { Codec } from './codec.js';
import { ftsTables, quoteIdent, schemaRows } from '../store/damage.js';
import { RecordWriter } from './records.js';
import { SealWriter, type BackupKind, type SealStats } from './sealed.js';
import { documentCount, userVersion, type RawDb } from './sqlite.js';

/**
 * Streams the rows of the open index (plaintext only in this process's memory) into a sealed
 * backup file. Left out: the FTS index, rebuilt from the stored text on restore (it is derived
 * data and half the file). The passages of doc_text are stored inflated (`data:text`), so the
 * codec compresses the text across passages instead of each 8 KB passage on its own.
 *
 * Full: every row table. Incremental (`since` = the parent backup's change sequence, and the
 * same index history): the documents changed after it with their passages, a GONE record for each
 * document removed after it, and the small tables (roots, meta, queues) whole.
 */

const CHUNK_TARGET = 4 * 1024 * 1024;

export interface DumpRequest {
  db: RawDb;
  fd: number;
  secret: Buffer;
  id: string;
  codec: Codec;
  /** Incremental from this change sequence when the index is of history `sinceUuid`; null: full. */
  since: { seq: number; uuid: string } | null;
  /** Plaintext bytes per chunk (default 4 MiB; tests use small ones). */
  chunkBytes?: number;
}

export interface DumpResult {
  kind: BackupKind;
  stats: SealStats;
  schemaVersion: number;
  documents: number;
  changeSeq: number | null;
  indexUuid: string | null;
}

export const PASSAGE_TEXT_COLUMN = 'data:text';

function columnsOf(db: RawDb, table: string): string[] {
  return (db.prepare(`SELECT * FROM ${quoteIdent(table)} LIMIT 0`).columns() as { name: string }[]).map((c) => c.name);
}

export function rowTables(db: RawDb): string[] {
  const rows = schemaRows(db);
  const { virtual, shadows } = ftsTables(rows);
  return rows.filter((r) => r.type === 'table' && !virtual.includes(r.name) && !shadows.has(r.name)).map((r) => r.name);
}

export function dumpIndex(r: DumpRequest): DumpResult {
  const { db } = r;
  // One read transaction: every row comes from the same snapshot, and the writer goes on (WAL).
  db.exec('BEGIN');
  try {
    const tracking = hasChangeTracking(db);
    const seq = tracking ? currentChangeSeq(db) : null;
    const uuid = tracking ? indexUuid(db) : null;
    const incremental = r.since !== null && seq !== null && uuid === r.since.uuid && r.since.seq <= seq;
    const kind: BackupKind = incremental ? 'incremental' : 'full';
    const seal = new SealWriter(r.fd, r.secret, r.id, kind, r.codec);
    const w = new RecordWriter();
    const flush = (final: boolean) => {
      if (w.size > 0 || final) seal.chunk(w.take(), final);
    };
    const maybeFlush = () => {
      if (w.size >= (r.chunkBytes ?? CHUNK_TARGET)) flush(false);
    };
    const copy = (table: string, where = '', params: unknown[] = []) => {
      const cols = columnsOf(db, table);
      const passages = table === 'doc_text';
      w.table(table, passages ? cols.map((c) => (c === 'data' ? PASSAGE_TEXT_COLUMN : c)) : cols);
      const dataAt = cols.indexOf('data');
      const stmt = db.prepare(`SELECT ${cols.map(quoteIdent).join(', ')} FROM ${quoteIdent(table)} ${where}`).raw().safeIntegers(true);
      for (const row of stmt.iterate(...params) as Iterable<unknown[]>) {
        if (passages && dataAt >= 0) row[dataAt] = Buffer.from(unpackPassage(row[dataAt] as Buffer), 'utf8');
        w.row(row);
        maybeFlush();
      }
    };
    const tables = rowTables(db);
    if (!incremental) {
      for (const t of tables) copy(t);
    } else {
      const since = r.since!.seq;
      for (const t of tables) if (!(TRACKED_TABLES as readonly string[]).includes(t)) copy(t);
      // Removals first: a path removed and added again (a new id) must not collide on restore.
      for (const id of db.prepare('SELECT doc_id FROM doc_tombstones WHERE change_seq > ?').pluck().safeIntegers(true).iterate(since) as Iterable<bigint>) {
        w.gone(id);
        maybeFlush();
      }
      copy('documents', 'WHERE change_seq > ?', [since]);
      const ids = db.prepare('SELECT id FROM documents WHERE change_seq > ? ORDER BY id').pluck().safeIntegers(true).all(since) as bigint[];
      for (const id of ids) {
        const [from, to] = passageRange(id);
        copy('doc_text', 'WHERE id >= ? AND id < ?', [from, to]);
      }
    }
    flush(true);
    const stats = seal.finish();
    fs.fsyncSync(r.fd);
    return { kind, stats, schemaVersion: userVersion(db), documents: documentCount(db), changeSeq: seq, indexUuid: uuid };
  } finally {
    db.exec('COMMIT');
  }
}
