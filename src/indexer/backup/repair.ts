import fs from 'node:fs';
import { rebuildFts } from '../store/fts-rebuild.js';
import { diagnose, ftsTables, quoteIdent, schemaRows } from '../store/damage.js';
import { openRaw, type RawDb } from './sqlite.js';
import { sideFiles } from './paths.js';

/**
 * Repairs for damage that spares the document rows: the FTS index is rebuilt from the stored,
 * compressed text instead of restoring a backup (nothing indexed since the last backup is lost,
 * and no file has to be extracted again).
 */

/** Rebuilds the FTS index inside the damaged file; true when the file then checks clean. */
export function repairFtsInPlace(db: RawDb): boolean {
  try {
    rebuildFts(db);
  } catch {
    return false;
  }
  return diagnose(db).kind === 'ok';
}

/**
 * Copies every row table of `src` (schema, rows, user_version) into a new file, leaving out the
 * FTS tables, whose pages are damaged; then creates the FTS table again and fills it from the
 * copied text. Reading only the row tables means the damaged pages are never touched. The new
 * file has the same key as `key` (null: plain). Throws if the copy does not check clean.
 */
export function copyAndRebuild(src: RawDb, dest: string, key: Buffer | null): { documents: number } {
  for (const f of [dest, ...sideFiles(dest)]) fs.rmSync(f, { force: true });
  const rows = schemaRows(src);
  const { virtual, shadows } = ftsTables(rows);
  const out = openRaw(dest, { key, create: true });
  try {
    out.pragma('journal_mode = DELETE');
    const pageSize = src.pragma('page_size', { simple: true }) as number;
    out.pragma(`page_size = ${pageSize}`);
    const tables = rows.filter((r) => r.type === 'table' && r.sql && !virtual.includes(r.name) && !shadows.has(r.name));
    const later = rows.filter((r) => r.type !== 'table' && r.sql && !shadows.has(r.name) && !virtual.includes(r.name));
    out.transaction(() => {
      for (const t of tables) out.exec(t.sql!);
      for (const v of virtual) out.exec(rows.find((r) => r.name === v)!.sql!);
      for (const t of tables) {
        const cols = (src.prepare(`SELECT * FROM ${quoteIdent(t.name)} LIMIT 0`).columns() as { name: string }[]).map((c) => c.name);
        if (cols.length === 0) continue;
        const ins = out.prepare(`INSERT INTO ${quoteIdent(t.name)} (${cols.map(quoteIdent).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`);
        for (const row of src.prepare(`SELECT ${cols.map(quoteIdent).join(', ')} FROM ${quoteIdent(t.name)}`).raw().iterate() as Iterable<unknown[]>) ins.run(...row);
      }
      for (const x of later) out.exec(x.sql!);
      out.pragma(`user_version = ${src.pragma('user_version', { simple: true }) as number}`);
    })();
    const { documents } = virtual.includes('docs_fts') ? { documents: rebuildFts(out) } : { documents: 0 };
    const d = diagnose(out, 'full');
    if (d.kind !== 'ok') throw new Error(`the rebuilt copy does not check clean: ${d.problems.join('; ')}`);
    return { documents };
  } finally {
    out.close();
  }
}
