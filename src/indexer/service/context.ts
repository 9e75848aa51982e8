import fs from 'node:fs';
import path from 'node:path';
import { owletError } from '../../shared/errors.js';
import { loadConfig, saveConfig } from '../config/load.js';
import { loadOrRepairConfig } from '../config/repair.js';
import { ensureDataDir } from '../config/paths.js';
import type { Config } from '../config/schema.js';
import { closeDatabase, type Db } from '../store/db.js';
import { MIGRATIONS, migrate } from '../store/migrations.js';
import { saveLanguages } from '../store/languages.js';
import { DocumentStore } from '../store/documents.js';
import { SearchEngine } from '../search/search.js';
import type { SecretStore } from '../security/secret-store.js';
import { openSecretStore } from '../security/secrets.js';
import { openKeyedDatabase } from '../store/data-key.js';
import { assertEncrypted } from '../security/cipher.js';
import { trapCorruption } from '../store/corruption-trap.js';
import { applyMemoryLimits } from '../store/memory.js';
import { INDEX_FILE } from '../store/stats.js';
import { assertDataDirExists, openReadOnlyIndex, type IndexContext } from './read-only-index.js';

export { INDEX_FILE };

/** Runs before a pending schema migration (the backup feature takes a verified backup first). */
export type BeforeMigrate = (o: { db: Db; key: Buffer | null; dataDir: string; config: Config }) => void;

export type { IndexContext };

/** Checks `--root` arguments: each must be an existing folder; returns real, absolute paths. */
export function resolveRoots(roots: readonly string[]): string[] {
  return roots.map((r) => {
    const abs = path.resolve(r);
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch {
      throw owletError('OWL_ERR_ROOT_MISSING', { reason: `root ${abs} does not exist` });
    }
    if (!st.isDirectory()) throw owletError('OWL_ERR_ROOT_MISSING', { reason: `root ${abs} is not a folder` });
    return fs.realpathSync(abs);
  });
}

/** Adds roots named on the command line to the saved configuration, so later runs remember them. */
export function rememberRoots(dataDir: string, config: Config, roots: readonly string[]): Config {
  const known = new Set(config.roots.map((r) => path.resolve(r)));
  const added = roots.filter((r) => !known.has(r));
  if (added.length === 0) return config;
  const next = { ...config, roots: [...config.roots, ...added] };
  saveConfig(dataDir, next);
  return next;
}

export function openIndex(dataDir: string, opts: { readonly?: boolean; secrets?: SecretStore; onCorrupt?: (e: unknown) => void; beforeMigrate?: BeforeMigrate } = {}): IndexContext {
  if (opts.readonly) {
    assertDataDirExists(dataDir);
    return openReadOnlyIndex(dataDir, loadConfig(dataDir), opts);
  }
  ensureDataDir(dataDir);
  // A writer (the service, a restore) runs on the last good configuration when config.json broke
  // after its process started: the service start validated (and repaired) it moments earlier, and
  // a second read that throws here would fail the start for good (supervisor state `failed`).
  const config = loadOrRepairConfig(dataDir).config;
  const file = path.join(dataDir, INDEX_FILE);
  const secrets = opts.secrets ?? openSecretStore(dataDir, config.security.secretStore);
  const { db, key, events: keyEvents } = openKeyedDatabase(file, secrets);
  applyMemoryLimits(db, config.memory);
  // Before any statement is prepared: SQLITE_CORRUPT anywhere on this connection reaches recovery.
  if (opts.onCorrupt) trapCorruption(db, opts.onCorrupt);
  try {
    opts.beforeMigrate?.({ db, key, dataDir, config });
    migrate(db, MIGRATIONS, { languages: config.search.languages });
    saveLanguages(db, config.search.languages);
    fs.chmodSync(file, 0o600);
    if (key) assertEncrypted(file);
  } catch (e) {
    closeDatabase(db);
    throw e;
  }
  const store = new DocumentStore(db, Date.now, { languages: config.search.languages });
  return { dataDir, config, db, store, search: new SearchEngine(db, store, { languages: config.search.languages }), key, secrets, keyEvents, close: () => closeDatabase(db) };
}
