import fs from 'node:fs';
import path from 'node:path';
import { owletError } from '../../shared/errors.js';
import type { Config } from '../config/schema.js';
import { openDatabase, closeDatabase, type Db } from '../store/db.js';
import { DocumentStore } from '../store/documents.js';
import type { SecretStore } from '../security/secret-store.js';
import { openSecretStore } from '../security/secrets.js';
import { openKeyedDatabase, type KeyedOpen } from '../store/data-key.js';
import { trapCorruption } from '../store/corruption-trap.js';
import { applyMemoryLimits } from '../store/memory.js';
import { INDEX_FILE } from '../store/stats.js';

/**
 * Opening the index to read it, with a configuration the caller loaded: what openIndex does for
 * read-only callers, in a module that loads neither the configuration loader (the schema library)
 * nor the migrations nor the search modules, so `owlet status` without a service starts quickly
 * (issue #14); read-only-index.ts adds the search engine. Same key store, same key checks, same
 * read-only connection.
 */

/** The index opened, without the search engine. */
export interface StoreContext {
  dataDir: string;
  config: Config;
  db: Db;
  store: DocumentStore;
  /** The database key (encryption at rest); null only for a legacy plaintext file opened read-only. Metrics and backups use it. */
  key: Buffer | null;
  /** Where the keys live; null never for writers. */
  secrets: SecretStore | null;
  /** What opening did to the key or file (created a key, migrated plaintext, finished a rotation). */
  keyEvents: KeyedOpen['events'];
  close(): void;
}

export interface ReadOnlyOptions {
  secrets?: SecretStore;
  onCorrupt?: (e: unknown) => void;
}

export function assertDataDirExists(dataDir: string): void {
  if (!fs.existsSync(dataDir)) throw owletError('OWL_ERR_DATADIR_UNUSABLE', { dir: dataDir, reason: 'it does not exist' });
}

export function openReadOnlyStore(dataDir: string, config: Config, opts: ReadOnlyOptions = {}): StoreContext {
  const file = path.join(dataDir, INDEX_FILE);
  // A data folder without an index gets openDatabase's clear "no index" error.
  const secrets = !fs.existsSync(file) ? null : (opts.secrets ?? openSecretStore(dataDir, config.security.secretStore));
  const { db, key, events: keyEvents } = secrets ? openKeyedDatabase(file, secrets, { readonly: true }) : { db: openDatabase(file, { readonly: true }), key: null, events: [] };
  applyMemoryLimits(db, config.memory);
  // Before any statement is prepared: SQLITE_CORRUPT anywhere on this connection reaches recovery.
  if (opts.onCorrupt) trapCorruption(db, opts.onCorrupt);
  const store = new DocumentStore(db, Date.now, { languages: config.search.languages });
  return { dataDir, config, db, store, key, secrets, keyEvents, close: () => closeDatabase(db) };
}
