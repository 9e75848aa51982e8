import type { Config } from '../config/schema.js';
import { SearchEngine } from '../search/search.js';
import { openReadOnlyStore, type ReadOnlyOptions, type StoreContext } from './read-only-store.js';

export { assertDataDirExists } from './read-only-store.js';

/** Everything a command needs to read or write the index. */
export interface IndexContext extends StoreContext {
  search: SearchEngine;
}

/** The index opened read-only (read-only-store.ts) with its search engine: openIndex's read-only path, and the CLI's. */
export function openReadOnlyIndex(dataDir: string, config: Config, opts: ReadOnlyOptions = {}): IndexContext {
  const ctx = openReadOnlyStore(dataDir, config, opts);
  return { ...ctx, search: new SearchEngine(ctx.db, ctx.store, { languages: config.search.languages }) };
}
