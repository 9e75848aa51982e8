import { errnoCode } from '../../shared/errors.js';
import type Database from 'better-sqlite3-multiple-ciphers';

type RawDb = Database.Database;

/**
 * Corruption detection: which errors mean "the file is damaged", and how far the damage goes.
 *
 *   diagnose(db) ─ quick_check ok ─────────────────────────────────────────▶ ok
 *        │ problems (or the check itself fails)
 *        ▼
 *   per-table quick_check(T) for every ordinary table, and the FTS5 'integrity-check'
 *        ├─ every row table readable, only the FTS index inconsistent ─────▶ fts    (rebuild in place)
 *        ├─ every row table readable, FTS b-trees or free pages damaged ───▶ copy   (copy rows, rebuild FTS)
 *        └─ a row table (documents, passages, roots…) damaged ──────────────▶ rows   (restore a backup)
 */

// The one classifier lives in sqlite-errors.ts; re-exported for the callers that import it from here.
export { isCorruptionError } from './sqlite-errors.js';

export type DamageKind = 'ok' | 'fts' | 'copy' | 'rows';

export interface Diagnosis {
  kind: DamageKind;
  /** The first problems SQLite reported (at most 10), for the log and the status. */
  problems: string[];
  /** Tables whose b-tree check failed. */
  damagedTables: string[];
}

const MAX_PROBLEMS = 10;

function check(db: RawDb, pragma: string): string[] {
  try {
    const rows = db.pragma(pragma) as Record<string, string>[];
    return rows.map((r) => String(Object.values(r)[0]));
  } catch (e) {
    return [`${errnoCode(e) ?? 'error'}: ${(e as Error).message}`];
  }
}

const isOk = (lines: string[]) => lines.length === 1 && lines[0] === 'ok';

interface SchemaRow {
  type: string;
  name: string;
  sql: string | null;
}

/** FTS5 tables and their shadow tables (`<name>_data`, `_idx`, `_docsize`, `_config`, `_content`). */
export function ftsTables(rows: readonly SchemaRow[]): { virtual: string[]; shadows: Set<string> } {
  const virtual = rows.filter((r) => r.type === 'table' && /^\s*CREATE\s+VIRTUAL\s+TABLE/i.test(r.sql ?? '') && /USING\s+fts5/i.test(r.sql ?? '')).map((r) => r.name);
  const shadows = new Set<string>();
  for (const v of virtual) for (const s of ['data', 'idx', 'docsize', 'config', 'content']) shadows.add(`${v}_${s}`);
  return { virtual, shadows };
}

export function schemaRows(db: RawDb): SchemaRow[] {
  return db.prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").all() as SchemaRow[];
}

/**
 * Finds out whether and where a database is damaged. `full` runs integrity_check (also compares
 * indexes with their tables) instead of quick_check. Never throws for damage: a file whose
 * schema cannot even be read is `rows`.
 */
export function diagnose(db: RawDb, mode: 'quick' | 'full' = 'quick'): Diagnosis {
  const whole = check(db, mode === 'full' ? `integrity_check(${MAX_PROBLEMS})` : `quick_check(${MAX_PROBLEMS})`);
  if (isOk(whole)) return { kind: 'ok', problems: [], damagedTables: [] };
  let rows: SchemaRow[];
  try {
    rows = schemaRows(db);
  } catch (e) {
    return { kind: 'rows', problems: [...whole, (e as Error).message].slice(0, MAX_PROBLEMS), damagedTables: ['sqlite_master'] };
  }
  const { virtual, shadows } = ftsTables(rows);
  const damaged: string[] = [];
  for (const r of rows) {
    if (r.type !== 'table' || virtual.includes(r.name)) continue;
    if (!isOk(check(db, `quick_check(${quoteIdent(r.name)})`))) damaged.push(r.name);
  }
  const rowDamage = damaged.filter((t) => !shadows.has(t));
  if (rowDamage.length > 0) return { kind: 'rows', problems: whole, damagedTables: damaged };
  if (damaged.length > 0) return { kind: 'copy', problems: whole, damagedTables: damaged };
  // Every b-tree reads; what is wrong is either the FTS index's content or page bookkeeping.
  const ftsOnly = whole.every((l) => /fts5|docs_fts/i.test(l));
  return { kind: ftsOnly ? 'fts' : 'copy', problems: whole, damagedTables: [] };
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
