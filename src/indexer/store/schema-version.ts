import type { Db } from './db.js';

/**
 * The schema version this build writes, and where a file stands. Apart from migrations.ts so that
 * reading a status (store/stats.ts, service/status.ts) does not load the migrations' own
 * dependencies (language detection, every stemmer): issue #14. migrations.ts refuses to load when
 * its last migration is not this version, so a new migration cannot leave it behind.
 */
export const SCHEMA_VERSION = 6;

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}
