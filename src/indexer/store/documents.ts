import path from 'node:path';
import type { Db } from './db.js';
import { packPassage, splitPassages, unpackPassage } from './passages.js';
import { joinStems, stemLanguageFor, stemsText, type BodyStems } from '../text/stem.js';

export type DocStatus = 'indexed' | 'skipped' | 'failed';

/** How many files were not indexed for one status and reason. */
export interface ProblemGroup {
  status: 'skipped' | 'failed';
  reason: string;
  count: number;
}

export interface DocMeta {
  path: string;
  rootId: number;
  ext: string;
  size: number;
  mtimeMs: number;
  /** `dev:ino`, used to recognise a rename without re-extracting. */
  fileId: string | null;
}

export interface IndexedDoc extends DocMeta {
  hash: string;
  title: string | null;
  extractor: string;
  text: string;
  /** The document's language (ISO 639-1), declared or detected; null or absent when unknown. */
  lang?: string | null;
  /** The body's stems, made by the extraction worker; used when made in the language this store would pick. */
  bodyStems?: BodyStems;
  /**
   * The text split and packed as `splitPassages` + `packPassage` make them, by the extraction
   * worker (spares the writer's thread the compression); made here when absent.
   */
  passages?: readonly Uint8Array[];
}

export interface UnindexedDoc extends DocMeta {
  status: Exclude<DocStatus, 'indexed'>;
  reason: string;
  message: string;
  hash?: string | null;
}

/** What reconciliation needs to decide whether a file changed. */
export interface DocState {
  id: number;
  path: string;
  size: number;
  mtimeMs: number;
  fileId: string | null;
  status: DocStatus;
  reason: string | null;
}

export interface DocRow {
  id: number;
  path: string;
  rootId: number;
  ext: string;
  size: number;
  mtimeMs: number;
  hash: string | null;
  title: string | null;
  extractor: string | null;
  status: DocStatus;
  reason: string | null;
  message: string | null;
  indexedAt: number;
  lang: string | null;
}

export interface RootRow {
  id: number;
  path: string;
  state: 'online' | 'offline';
  lastScanAt: number | null;
}

export interface Counts {
  indexed: number;
  skipped: number;
  failed: number;
  textBytes: number;
  bytes: number;
}

/** The text the FTS title column holds: the document title and the file name, both searchable. */
export function ftsTitle(title: string | null, filePath: string): string {
  const base = path.basename(filePath);
  return title && title.trim() ? `${title} ${base}` : base;
}

/** Passage rows are keyed (doc_id << 20) + seq: one B-tree, no extra index, and 2^20 passages per document. */
export const PASSAGES_PER_DOC = 1 << 20;
export function passageKey(docId: number, seq: number): number {
  return docId * PASSAGES_PER_DOC + seq;
}
function passageRange(docId: number): [number, number] {
  return [docId * PASSAGES_PER_DOC, (docId + 1) * PASSAGES_PER_DOC];
}

const DOC_COLUMNS = `id, path, root_id AS rootId, ext, size, mtime_ms AS mtimeMs, hash, title, extractor, status, reason, message, indexed_at AS indexedAt, lang`;

export interface StoreOptions {
  /**
   * The configured stemming languages, most important first. A document in one of them gets
   * stems in its language; one of unknown language gets the first; any other gets none (it is
   * found by its words as written only).
   */
  languages?: readonly string[];
}

/** The `stems` column for a document: stems of its title text and body in its language. */
export function ftsStems(titleText: string, body: string, lang: string | null, languages: readonly string[], bodyStems?: BodyStems): string {
  const stemLang = stemLanguageFor(lang, languages);
  if (bodyStems && bodyStems.lang === stemLang) return joinStems(stemsText(titleText, stemLang), bodyStems.text);
  return stemsText(`${titleText}\n${body}`, stemLang);
}

/** A write to the FTS index, held until the end of the transaction that made it (see `transaction`). */
type FtsWrite =
  | { op: 'delete'; id: number }
  /** `body` null: the document's stored text, read when applied (a rename must not hold it meanwhile). */
  | { op: 'insert'; id: number; title: string; body: string | null; lang: string | null; bodyStems: BodyStems | undefined };

/** All reads and writes of indexed documents. Callers group writes with `transaction`. */
export class DocumentStore {
  private readonly q;
  private readonly languages: readonly string[];
  /** FTS writes of the running `transaction`, in order; null outside one (FTS writes then apply at once). */
  private ftsWrites: FtsWrite[] | null = null;
  constructor(private readonly db: Db, private readonly now: () => number = Date.now, opts: StoreOptions = {}) {
    this.languages = opts.languages ?? ['en'];
    this.q = {
      rootByPath: db.prepare<[string], { id: number }>('SELECT id FROM roots WHERE path = ?'),
      insertRoot: db.prepare('INSERT INTO roots (path, added_at) VALUES (?, ?)'),
      roots: db.prepare<[], RootRow>('SELECT id, path, state, last_scan_at AS lastScanAt FROM roots ORDER BY path'),
      setRootState: db.prepare('UPDATE roots SET state = ? WHERE id = ?'),
      setRootScanned: db.prepare('UPDATE roots SET last_scan_at = ? WHERE id = ?'),
      statesUnder: db.prepare<[number], DocState>(
        'SELECT id, path, size, mtime_ms AS mtimeMs, file_id AS fileId, status, reason FROM documents WHERE root_id = ?',
      ),
      // A range on the path's unique index (BINARY order): everything below one folder, cheaply.
      statesBelow: db.prepare<[string, string], DocState>(
        'SELECT id, path, size, mtime_ms AS mtimeMs, file_id AS fileId, status, reason FROM documents WHERE path >= ? AND path < ?',
      ),
      byPath: db.prepare<[string], DocState>(
        'SELECT id, path, size, mtime_ms AS mtimeMs, file_id AS fileId, status, reason FROM documents WHERE path = ?',
      ),
      row: db.prepare<[number], DocRow>(`SELECT ${DOC_COLUMNS} FROM documents WHERE id = ?`),
      insertDoc: db.prepare(
        `INSERT INTO documents (path, root_id, ext, size, mtime_ms, file_id, hash, title, extractor, status, reason, message, indexed_at, text_bytes, lang)
         VALUES (@path, @rootId, @ext, @size, @mtimeMs, @fileId, @hash, @title, @extractor, @status, @reason, @message, @indexedAt, @textBytes, @lang)`,
      ),
      updateDoc: db.prepare(
        `UPDATE documents SET root_id = @rootId, ext = @ext, size = @size, mtime_ms = @mtimeMs, file_id = @fileId, hash = @hash,
           title = @title, extractor = @extractor, status = @status, reason = @reason, message = @message,
           indexed_at = @indexedAt, text_bytes = @textBytes, lang = @lang WHERE id = @id`,
      ),
      renameDoc: db.prepare('UPDATE documents SET path = ?, root_id = ?, ext = ?, mtime_ms = ?, file_id = ? WHERE id = ?'),
      deleteDoc: db.prepare('DELETE FROM documents WHERE id = ?'),
      deleteText: db.prepare<[number, number]>('DELETE FROM doc_text WHERE id >= ? AND id < ?'),
      insertText: db.prepare('INSERT INTO doc_text (id, data) VALUES (?, ?)'),
      passages: db.prepare<[number, number], { data: Buffer }>('SELECT data FROM doc_text WHERE id >= ? AND id < ? ORDER BY id'),
      passage: db.prepare<[number], { data: Buffer }>('SELECT data FROM doc_text WHERE id = ?'),
      deleteFts: db.prepare('DELETE FROM docs_fts WHERE rowid = ?'),
      insertFts: db.prepare('INSERT INTO docs_fts (rowid, title, body, stems) VALUES (?, ?, ?, ?)'),
      counts: db.prepare<[], { status: DocStatus; n: number; textBytes: number; bytes: number }>(
        // bytes: the source files of searchable documents only (store/stats.ts defines every count).
        'SELECT status, count(*) AS n, coalesce(sum(text_bytes), 0) AS textBytes, coalesce(sum(CASE WHEN status = \'indexed\' THEN size END), 0) AS bytes FROM documents GROUP BY status',
      ),
      problems: db.prepare<[number, number], DocRow>(
        `SELECT ${DOC_COLUMNS} FROM documents WHERE status <> 'indexed' ORDER BY path LIMIT ? OFFSET ?`,
      ),
      problemsWithReason: db.prepare<[string, number, number], DocRow>(
        `SELECT ${DOC_COLUMNS} FROM documents WHERE status <> 'indexed' AND coalesce(reason, 'unknown') = ? ORDER BY path LIMIT ? OFFSET ?`,
      ),
      // mtime -1 matches no file on disk, so the next look at the file extracts it again.
      markForRetry: db.prepare<[string]>(`UPDATE documents SET mtime_ms = -1 WHERE path = ? AND status <> 'indexed'`),
      problemGroups: db.prepare<[], ProblemGroup>(
        `SELECT status, coalesce(reason, 'unknown') AS reason, count(*) AS count FROM documents WHERE status <> 'indexed'
         GROUP BY status, coalesce(reason, 'unknown') ORDER BY status = 'failed' DESC, count DESC, reason`,
      ),
    };
  }

  /**
   * Runs `fn` in one write transaction. Its FTS writes are applied at the end, in the order made,
   * after every other write: a statement that needs a statement journal (any write to `documents`,
   * whose change-tracking triggers make it one) opens a savepoint, and FTS5 flushes its pending
   * terms to disk at every savepoint. Interleaved, each document became its own tiny FTS segment,
   * and merging those was most of the writer's CPU; grouped, a batch makes a few large segments.
   * Nothing in a transaction reads the FTS index, so the order among other writes is not observable.
   */
  transaction<T>(fn: () => T): T {
    return this.db
      .transaction(() => {
        const outer = this.ftsWrites;
        if (outer !== null) {
          // Nested (a savepoint): the outer transaction applies them; a rolled-back savepoint's are dropped.
          const mark = outer.length;
          try {
            return fn();
          } catch (e) {
            outer.length = mark;
            throw e;
          }
        }
        const writes: FtsWrite[] = [];
        this.ftsWrites = writes;
        try {
          const result = fn();
          this.applyFtsWrites(writes);
          return result;
        } finally {
          this.ftsWrites = null;
        }
      })
      .immediate();
  }

  private applyFtsWrites(writes: readonly FtsWrite[]): void {
    // In rowid order: FTS5 flushes its pending terms whenever a write's rowid is below the last
    // one's, so a batch of re-indexed or renamed documents (old ids, in the order the workers
    // finished) made a segment per step down. Writes to different rowids commute; the sort is
    // stable, so each rowid's own writes keep their order.
    const ordered = writes.length > 1 ? [...writes].sort((a, b) => a.id - b.id) : writes;
    for (const w of ordered) {
      if (w.op === 'delete') this.q.deleteFts.run(w.id);
      else {
        const body = w.body ?? this.text(w.id);
        this.q.insertFts.run(w.id, w.title, body, ftsStems(w.title, body, w.lang, this.languages, w.bodyStems));
      }
    }
  }

  private deleteFts(id: number): void {
    if (this.ftsWrites) this.ftsWrites.push({ op: 'delete', id });
    else this.q.deleteFts.run(id);
  }

  ensureRoot(rootPath: string): number {
    const found = this.q.rootByPath.get(rootPath);
    if (found) return found.id;
    return Number(this.q.insertRoot.run(rootPath, this.now()).lastInsertRowid);
  }

  roots(): RootRow[] {
    return this.q.roots.all();
  }

  setRootState(id: number, state: 'online' | 'offline'): void {
    this.q.setRootState.run(state, id);
  }

  markRootScanned(id: number): void {
    this.q.setRootScanned.run(this.now(), id);
  }

  /** Forgets a root the user removed from the configuration (not one that merely went offline). */
  removeRoot(id: number): void {
    this.transaction(() => {
      for (const d of this.q.statesUnder.all(id)) this.deleteInTx(d.id);
      this.db.prepare('DELETE FROM roots WHERE id = ?').run(id);
    });
  }

  statesUnder(rootId: number): Map<string, DocState> {
    const m = new Map<string, DocState>();
    for (const s of this.q.statesUnder.iterate(rootId)) m.set(s.path, s);
    return m;
  }

  /**
   * Documents below the folder `dir` (not `dir` itself), through the path index: a burst of
   * deletions looks each path up here, where loading the whole root per path was quadratic
   * (5,000 deletions in a root of 8,000 documents held the service for 84 s).
   */
  statesBelow(dir: string, sep: string = path.sep): DocState[] {
    // Every path that starts with `dir + sep` sorts in [dir + sep, dir + (sep + 1)) byte-wise.
    const next = String.fromCharCode(sep.charCodeAt(0) + 1);
    return this.q.statesBelow.all(dir + sep, dir + next);
  }

  stateOf(filePath: string): DocState | undefined {
    return this.q.byPath.get(filePath);
  }

  get(id: number): DocRow | undefined {
    return this.q.row.get(id);
  }

  /** Stores an extracted document: its row, its FTS entry and its compressed passages. */
  putIndexed(doc: IndexedDoc): number {
    const existing = this.q.byPath.get(doc.path);
    const packed = doc.passages ?? splitPassages(doc.text).map(packPassage);
    const params = {
      ...doc,
      status: 'indexed' as const,
      reason: null,
      message: null,
      indexedAt: this.now(),
      textBytes: Buffer.byteLength(doc.text, 'utf8'),
      lang: doc.lang ?? null,
    };
    let id: number;
    if (existing) {
      id = existing.id;
      this.q.updateDoc.run({ ...params, id });
      this.q.deleteText.run(...passageRange(id));
      if (existing.status === 'indexed') this.deleteFts(id);
    } else {
      id = Number(this.q.insertDoc.run(params).lastInsertRowid);
    }
    packed.forEach((p, seq) => this.q.insertText.run(passageKey(id, seq), p));
    this.insertFts(id, ftsTitle(doc.title, doc.path), doc.text, doc.lang ?? null, doc.bodyStems);
    return id;
  }

  /** Records a file that was skipped or failed, with its reason; any previous text is dropped. */
  putUnindexed(doc: UnindexedDoc): number {
    const existing = this.q.byPath.get(doc.path);
    const params = {
      ...doc,
      hash: doc.hash ?? null,
      title: null,
      extractor: null,
      indexedAt: this.now(),
      textBytes: 0,
      lang: null,
    };
    if (existing) {
      this.q.updateDoc.run({ ...params, id: existing.id });
      if (existing.status === 'indexed') {
        this.deleteFts(existing.id);
        this.q.deleteText.run(...passageRange(existing.id));
      }
      return existing.id;
    }
    return Number(this.q.insertDoc.run(params).lastInsertRowid);
  }

  /** A file moved: keep its extracted text, change its path (and the file name in the title column). */
  rename(id: number, to: DocMeta): void {
    const row = this.q.row.get(id);
    if (!row) return;
    this.q.renameDoc.run(to.path, to.rootId, to.ext, to.mtimeMs, to.fileId, id);
    if (row.status === 'indexed') {
      this.deleteFts(id);
      // Inside a transaction the text is read when the FTS writes are applied: a batch of renamed
      // large documents would otherwise hold every one's whole text until its commit.
      if (this.ftsWrites) this.ftsWrites.push({ op: 'insert', id, title: ftsTitle(row.title, to.path), body: null, lang: row.lang, bodyStems: undefined });
      else this.insertFts(id, ftsTitle(row.title, to.path), this.text(id), row.lang);
    }
  }

  /** Writes a document's FTS entry: its words as written (title, body) and their stems (inside `transaction`: at its end). */
  insertFts(id: number, titleText: string, body: string, lang: string | null, bodyStems?: BodyStems): void {
    if (this.ftsWrites) this.ftsWrites.push({ op: 'insert', id, title: titleText, body, lang, bodyStems });
    else this.q.insertFts.run(id, titleText, body, ftsStems(titleText, body, lang, this.languages, bodyStems));
  }

  delete(id: number): void {
    this.deleteInTx(id);
  }

  private deleteInTx(id: number): void {
    const row = this.q.row.get(id);
    if (!row) return;
    if (row.status === 'indexed') this.deleteFts(id);
    this.q.deleteText.run(...passageRange(id));
    this.q.deleteDoc.run(id);
  }

  /** The whole stored text of a document (used by rename and FTS rebuild, not by search). */
  text(id: number): string {
    return this.q.passages.all(...passageRange(id)).map((p) => unpackPassage(p.data)).join('');
  }

  /** Lazily inflated passages, so a snippet stops reading as soon as it has what it needs. */
  *passages(id: number): Generator<string> {
    for (let seq = 0; ; seq++) {
      const p = this.q.passage.get(passageKey(id, seq));
      if (!p) return;
      yield unpackPassage(p.data);
    }
  }

  counts(): Counts {
    const c: Counts = { indexed: 0, skipped: 0, failed: 0, textBytes: 0, bytes: 0 };
    for (const r of this.q.counts.all()) {
      c[r.status] = r.n;
      c.textBytes += r.textBytes;
      c.bytes += r.bytes;
    }
    return c;
  }

  problems(limit = 1000, offset = 0): DocRow[] {
    return this.q.problems.all(limit, offset);
  }

  /** Files not indexed for one reason (the dashboard lists each group on its own). */
  problemsWithReason(reason: string, limit: number, offset: number): DocRow[] {
    return this.q.problemsWithReason.all(reason, limit, offset);
  }

  /** Makes a skipped or failed file look changed, so it is extracted again; false when it is not such a file. */
  markForRetry(filePath: string): boolean {
    return this.q.markForRetry.run(filePath).changes > 0;
  }

  /** Files not indexed, counted by status and reason: failures first, then the largest groups. */
  problemGroups(): ProblemGroup[] {
    return this.q.problemGroups.all();
  }
}
