import fs from 'node:fs';
import path from 'node:path';
import { OwletError } from '../../shared/errors.js';
import { loadConfig, saveConfig } from '../config/load.js';
import { ensureDataDir } from '../config/paths.js';
import type { Config } from '../config/schema.js';
import { closeDatabase, openDatabase, type Db } from '../store/db.js';
import { migrate } from '../store/migrations.js';
import { DocumentStore } from '../store/documents.js';
import { SearchEngine } from '../search/search.js';

export const INDEX_FILE = 'index.db';

/** Everything a command needs to read or write the index. */
export interface IndexContext {
  dataDir: string;
  config: Config;
  db: Db;
  store: DocumentStore;
  search: SearchEngine;
  close(): void;
}

/** Checks `--root` arguments: each must be an existing folder; returns real, absolute paths. */
export function resolveRoots(roots: readonly string[]): string[] {
  return roots.map((r) => {
    const abs = path.resolve(r);
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch {
      throw new OwletError('OWL_ERR_ROOT_MISSING', `root ${abs} does not exist`);
    }
    if (!st.isDirectory()) throw new OwletError('OWL_ERR_ROOT_MISSING', `root ${abs} is not a folder`);
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

export function openIndex(dataDir: string, opts: { readonly?: boolean } = {}): IndexContext {
  if (!opts.readonly) ensureDataDir(dataDir);
  else if (!fs.existsSync(dataDir)) throw new OwletError('OWL_ERR_DATADIR_UNUSABLE', `no Owlet data directory at ${dataDir}; run "owlet index --root DIR" first`);
  const config = loadConfig(dataDir);
  const file = path.join(dataDir, INDEX_FILE);
  const db = openDatabase(file, { readonly: opts.readonly });
  try {
    if (!opts.readonly) {
      migrate(db);
      fs.chmodSync(file, 0o600);
    }
  } catch (e) {
    closeDatabase(db);
    throw e;
  }
  const store = new DocumentStore(db);
  return { dataDir, config, db, store, search: new SearchEngine(db, store), close: () => closeDatabase(db) };
}
