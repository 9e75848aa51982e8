import { errnoCode, isOwletError, owletError } from '../../shared/errors.js';

/**
 * THE SQLite error classifier: every "is this corruption / a full disk / a lock?" question in
 * Owlet is answered here, so recovery, the disk-space guard and the error messages agree.
 *
 * It walks the `cause` chain (an OwletError wrapping a SqliteError counts as that SqliteError),
 * recognises SQLite's extended codes (SQLITE_CORRUPT_VTAB, SQLITE_BUSY_SNAPSHOT, …) and Owlet's
 * own database codes, and as a last resort SQLite's message texts, which some wrappers (worker
 * threads, FTS5 virtual tables) pass on without a code.
 */
export type SqliteFailure = 'corrupt' | 'full' | 'busy';

const BY_CODE: readonly [RegExp, SqliteFailure][] = [
  [/^SQLITE_(CORRUPT|NOTADB)/, 'corrupt'],
  [/^SQLITE_FULL/, 'full'],
  [/^SQLITE_(BUSY|LOCKED)/, 'busy'],
];
const BY_OWLET_CODE: Readonly<Record<string, SqliteFailure>> = { OWL_ERR_DB_CORRUPT: 'corrupt', OWL_ERR_DB_FULL: 'full', OWL_ERR_DB_BUSY: 'busy' };
const BY_MESSAGE: readonly [RegExp, SqliteFailure][] = [
  [/database disk image is malformed|file is not a database/i, 'corrupt'],
  [/database or disk is full/i, 'full'],
];

export function sqliteFailureOf(e: unknown): SqliteFailure | null {
  for (let cur: unknown = e, depth = 0; cur && depth < 5; depth++) {
    if (isOwletError(cur) && BY_OWLET_CODE[cur.code]) return BY_OWLET_CODE[cur.code]!;
    const code = errnoCode(cur);
    if (code) {
      // A disk-full write can surface as SQLITE_IOERR_WRITE with "space" in the text.
      if (code === 'SQLITE_IOERR_WRITE' && /space/i.test((cur as Error).message ?? '')) return 'full';
      for (const [re, kind] of BY_CODE) if (re.test(code)) return kind;
    }
    const msg = (cur as { message?: unknown }).message;
    if (typeof msg === 'string') for (const [re, kind] of BY_MESSAGE) if (re.test(msg)) return kind;
    cur = (cur as { cause?: unknown }).cause;
  }
  return null;
}

/** True for SQLITE_CORRUPT*, SQLITE_NOTADB and OWL_ERR_DB_CORRUPT, also when wrapped as a cause. */
export function isCorruptionError(e: unknown): boolean {
  return sqliteFailureOf(e) === 'corrupt';
}

/** The first SQLite result code on the `cause` chain (SQLITE_ERROR, SQLITE_CORRUPT, …), if any. */
function sqliteCodeOf(e: unknown): string | undefined {
  for (let cur: unknown = e, depth = 0; cur && depth < 5; depth++) {
    const code = errnoCode(cur);
    if (code?.startsWith('SQLITE_')) return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * A file whose first bytes say "plaintext SQLite" but that SQLite cannot read as one is damaged
 * (an encrypted index whose header was overwritten reads "unsupported file format" or "malformed"),
 * not a database from before encryption. Those failures become OWL_ERR_DB_CORRUPT, so recovery
 * restores a backup instead of the migration failing for good (issue 11, point 13). Only what says
 * the file's content is wrong counts: I/O errors, a file that cannot be opened, read-only or
 * permission errors, locks and a full disk pass through unchanged, so a real legacy index met by a
 * transient fault is never replaced.
 */
export function plaintextReadFailure(file: string, e: unknown): unknown {
  const code = sqliteCodeOf(e);
  const msg = e instanceof Error ? e.message : String(e);
  const contentIsWrong = sqliteFailureOf(e) === 'corrupt' || (code === 'SQLITE_ERROR' && /unsupported file format/i.test(msg));
  if (!contentIsWrong) return e;
  return owletError('OWL_ERR_DB_CORRUPT', { reason: `${file} begins like a plaintext SQLite database but cannot be read as one (${msg}): it is damaged, not an index from an earlier version` }, { detail: { sqlite: code ?? 'unknown' }, cause: e });
}
