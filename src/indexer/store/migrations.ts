import type { Db } from './db.js';
import { owletError } from '../../shared/errors.js';
import { detectLanguage } from '../text/language.js';
import { stemsText } from '../text/stem.js';
import { packPassage, splitPassages, unpackPassage } from './passages.js';
import { SCHEMA_VERSION, schemaVersion } from './schema-version.js';

/**
 * Forward-only schema migrations. Each entry moves the schema from `version - 1` to `version`;
 * `PRAGMA user_version` records where a file stands. Never edit a shipped migration: add one.
 */
export interface Migration {
  version: number;
  description: string;
  up(db: Db, ctx: MigrationContext): void;
}

/** What a migration may need besides the database: settings that shape derived data. */
export interface MigrationContext {
  /** Configured stemming languages (ISO 639-1), most important first. */
  languages: readonly string[];
  /** Migration 6 repacks stored text only up to this many passages (default REPACK_LIMIT_PASSAGES). */
  repackLimitPassages?: number;
}

/**
 * About 100 M characters of text in schema-5 passages (twice the small bench corpus): repacked in
 * seconds on this 2-core machine, well inside the supervisor's one-minute ready deadline.
 */
export const REPACK_LIMIT_PASSAGES = 12_000;

export const DEFAULT_MIGRATION_CONTEXT: MigrationContext = { languages: ['en'] };

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'documents, roots, compressed text passages, contentless FTS5 index',
    up(db) {
      db.exec(`
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE roots (
          id INTEGER PRIMARY KEY,
          path TEXT NOT NULL UNIQUE,
          state TEXT NOT NULL DEFAULT 'online' CHECK (state IN ('online', 'offline')),
          added_at INTEGER NOT NULL,
          last_scan_at INTEGER
        );
        CREATE TABLE documents (
          id INTEGER PRIMARY KEY,
          path TEXT NOT NULL UNIQUE,
          root_id INTEGER NOT NULL REFERENCES roots(id) ON DELETE CASCADE,
          ext TEXT NOT NULL,
          size INTEGER NOT NULL,
          mtime_ms INTEGER NOT NULL,
          file_id TEXT,
          hash TEXT,
          title TEXT,
          extractor TEXT,
          status TEXT NOT NULL CHECK (status IN ('indexed', 'skipped', 'failed')),
          reason TEXT,
          message TEXT,
          indexed_at INTEGER NOT NULL,
          text_bytes INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX documents_root ON documents(root_id);
        CREATE INDEX documents_file_id ON documents(file_id);
        CREATE INDEX documents_status ON documents(status) WHERE status <> 'indexed';
        -- Extracted text in deflated passages: snippets read only the passages they need.
        CREATE TABLE doc_text (
          doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
          seq INTEGER NOT NULL,
          data BLOB NOT NULL,
          PRIMARY KEY (doc_id, seq)
        ) WITHOUT ROWID;
        -- Contentless: the text lives once (compressed) in doc_text, not twice.
        CREATE VIRTUAL TABLE docs_fts USING fts5(
          title, body, content = '', contentless_delete = 1,
          tokenize = 'unicode61 remove_diacritics 2'
        );
      `);
    },
  },
  {
    version: 2,
    description: 'extraction attempts (quarantine) and the persistent retry queue',
    up(db) {
      db.exec(`
        -- Written BEFORE a file is handed to an extractor and cleared with its result: a row that
        -- survives a crash names the file that was being extracted when the process died.
        CREATE TABLE extraction_attempts (
          path TEXT PRIMARY KEY,
          size INTEGER NOT NULL,
          mtime_ms INTEGER NOT NULL,
          attempts INTEGER NOT NULL,
          started_at INTEGER NOT NULL
        );
        -- Files whose read failed with a transient error, retried with backoff across restarts.
        CREATE TABLE retry_queue (
          path TEXT PRIMARY KEY,
          attempts INTEGER NOT NULL,
          next_at INTEGER NOT NULL,
          last_error TEXT NOT NULL
        );
        CREATE INDEX retry_queue_next ON retry_queue(next_at);
      `);
    },
  },
  {
    version: 3,
    description: 'passages in a rowid table keyed (doc_id << 20) + seq, so 2-4 KB blobs stay on their leaf page',
    up(db) {
      // A WITHOUT ROWID table keeps at most ~1/4 page of a row locally: the deflated passages
      // (2-4 KB) spilled to mostly empty overflow pages, a quarter of the index file.
      db.exec(`
        CREATE TABLE doc_text_v3 (id INTEGER PRIMARY KEY, data BLOB NOT NULL);
        INSERT INTO doc_text_v3 (id, data) SELECT doc_id * 1048576 + seq, data FROM doc_text;
        DROP TABLE doc_text;
        ALTER TABLE doc_text_v3 RENAME TO doc_text;
      `);
    },
  },
  {
    version: 4,
    description: 'stemming: each document\'s language, and a stems column beside the words as written',
    up(db, ctx) {
      // FTS5 cannot add a column, so the index is rebuilt from the stored passages: no document is
      // extracted again. The language is detected from the stored text (the declared language of
      // html/docx/odt is not stored; it applies from the next time the file changes).
      db.exec(`
        ALTER TABLE documents ADD COLUMN lang TEXT;
        DROP TABLE docs_fts;
        CREATE VIRTUAL TABLE docs_fts USING fts5(
          title, body, stems, content = '', contentless_delete = 1,
          tokenize = 'unicode61 remove_diacritics 2'
        );
      `);
      const docs = db.prepare<[], { id: number; path: string; title: string | null }>(
        "SELECT id, path, title FROM documents WHERE status = 'indexed' ORDER BY id",
      );
      const passages = db.prepare<[number, number], { data: Buffer }>('SELECT data FROM doc_text WHERE id >= ? AND id < ? ORDER BY id');
      const setLang = db.prepare('UPDATE documents SET lang = ? WHERE id = ?');
      const insert = db.prepare('INSERT INTO docs_fts (rowid, title, body, stems) VALUES (?, ?, ?, ?)');
      const stemmable = new Set(ctx.languages);
      for (const d of docs.all()) {
        const text = passages.all(d.id * 1048576, (d.id + 1) * 1048576).map((p) => unpackPassage(p.data)).join('');
        const lang = detectLanguage(text, null, { preferred: ctx.languages });
        setLang.run(lang, d.id);
        const base = d.path.split(/[\\/]/).pop() ?? d.path;
        const title = d.title && d.title.trim() ? `${d.title} ${base}` : base;
        const stemLang = lang !== null && stemmable.has(lang) ? lang : null;
        insert.run(d.id, title, text, stemsText(`${title}\n${text}`, stemLang));
      }
    },
  },
  {
    version: 5,
    description: 'change tracking for incremental backups: a change sequence on documents, tombstones for removed ones',
    up(db) {
      // Every insert, update or delete of a document takes the next number of `meta.change_seq`;
      // an incremental backup stores the documents (and removals) numbered after its parent's.
      // Triggers, so no write path can forget it (FK cascades from a removed root included).
      db.exec(`
        ALTER TABLE documents ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX documents_change_seq ON documents(change_seq);
        CREATE TABLE doc_tombstones (doc_id INTEGER PRIMARY KEY, change_seq INTEGER NOT NULL);
        CREATE INDEX doc_tombstones_seq ON doc_tombstones(change_seq);
        INSERT OR IGNORE INTO meta (key, value) VALUES ('change_seq', '0');
        -- Which history of the index this is: a restore starts a new one, so an incremental backup
        -- never builds on a backup taken from another history.
        INSERT OR REPLACE INTO meta (key, value) VALUES ('index_uuid', lower(hex(randomblob(16))));
        CREATE TRIGGER documents_track_insert AFTER INSERT ON documents BEGIN
          UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'change_seq';
          UPDATE documents SET change_seq = (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'change_seq') WHERE id = NEW.id;
          DELETE FROM doc_tombstones WHERE doc_id = NEW.id;
        END;
        CREATE TRIGGER documents_track_update AFTER UPDATE ON documents WHEN NEW.change_seq = OLD.change_seq BEGIN
          UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'change_seq';
          UPDATE documents SET change_seq = (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'change_seq') WHERE id = NEW.id;
        END;
        CREATE TRIGGER documents_track_delete AFTER DELETE ON documents BEGIN
          UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'change_seq';
          INSERT OR REPLACE INTO doc_tombstones (doc_id, change_seq) VALUES (OLD.id, (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'change_seq'));
        END;
      `);
      // Existing rows: all "changed" at 1, so the first backup after the upgrade is a full one.
      db.exec("UPDATE meta SET value = '1' WHERE key = 'change_seq'");
    },
  },
  {
    version: 6,
    description: 'a smaller index: FTS5 leaves that fit a page, and passages of 32 K characters in Brotli',
    up(db, ctx) {
      // FTS5 writes leaves of `pgsz` bytes (default 4050) as rows of docs_fts_data; with the
      // cipher's reserved bytes a 4 KB page holds at most ~4,029 bytes of a row, so every leaf
      // spilled into an overflow page, 2.5 MB of empty space on the small bench corpus. 128 bytes
      // under the page size leaves room for any cipher's reserve and the cell header.
      db.exec(`INSERT INTO docs_fts (docs_fts, rank) VALUES ('pgsz', ${ftsLeafBytes(db)})`);
      // The repack below runs before the service answers ready (the supervisor kills a start that
      // takes over a minute, and a killed migration rolls back, so a big index would never get
      // through). Above the limit only new and changed documents and new segments take the new
      // formats: old passages and leaves are read as they are.
      const passages = (db.prepare('SELECT count(*) AS n FROM doc_text').get() as { n: number }).n;
      if (passages > (ctx.repackLimitPassages ?? REPACK_LIMIT_PASSAGES)) return;
      // The stored text, split and compressed again (store/passages.ts): no document is extracted.
      // Passages are read in any format, so rows a backup restore packed already are fine too.
      const owners = db.prepare<[], { doc: number }>('SELECT DISTINCT id >> 20 AS doc FROM doc_text ORDER BY 1');
      const read = db.prepare<[number, number], { data: Buffer }>('SELECT data FROM doc_text WHERE id >= ? AND id < ? ORDER BY id');
      const drop = db.prepare('DELETE FROM doc_text WHERE id >= ? AND id < ?');
      const write = db.prepare('INSERT INTO doc_text (id, data) VALUES (?, ?)');
      for (const { doc } of owners.all()) {
        const from = doc * 1048576;
        const text = read.all(from, from + 1048576).map((p) => unpackPassage(p.data)).join('');
        drop.run(from, from + 1048576);
        splitPassages(text).forEach((p, seq) => write.run(from + seq, packPassage(p)));
      }
      // Merges every segment into one, written with the new leaf size (no text is tokenised again).
      db.exec("INSERT INTO docs_fts (docs_fts) VALUES ('optimize')");
    },
  },
];

/** The FTS5 leaf size (`pgsz`) that keeps a leaf on one page of this database. */
export function ftsLeafBytes(db: Db): number {
  return (db.pragma('page_size', { simple: true }) as number) - 128;
}

export { SCHEMA_VERSION, schemaVersion };
if (MIGRATIONS[MIGRATIONS.length - 1]!.version !== SCHEMA_VERSION) {
  throw new Error(`store/schema-version.ts says ${SCHEMA_VERSION} but the last migration is ${MIGRATIONS[MIGRATIONS.length - 1]!.version}: update SCHEMA_VERSION there`);
}

/** Applies every pending migration, each in its own transaction. Returns the versions applied. */
export function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS, ctx: MigrationContext = DEFAULT_MIGRATION_CONTEXT): number[] {
  const current = schemaVersion(db);
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  if (current > latest) {
    throw owletError('OWL_ERR_DB_NEWER', { found: current, supported: latest });
  }
  const applied: number[] = [];
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      m.up(db, ctx);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
    applied.push(m.version);
  }
  return applied;
}
