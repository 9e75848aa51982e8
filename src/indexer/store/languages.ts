import type { Db } from './db.js';

/**
 * The stemming languages the index was last opened with, kept in `meta` so that repairs which
 * see only the database file (FTS rebuild, copy-and-rebuild) stem as the service does.
 */
const KEY = 'stem_languages';

export function saveLanguages(db: Db, languages: readonly string[]): void {
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(KEY, JSON.stringify(languages));
}

export function storedLanguages(db: Db): string[] {
  try {
    const row = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?').get(KEY);
    const v: unknown = row ? JSON.parse(row.value) : null;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string') && v.length > 0) return v as string[];
  } catch {
    // no meta table yet, or a damaged value: the default applies
  }
  return ['en'];
}
