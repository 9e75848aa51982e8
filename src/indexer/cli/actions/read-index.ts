import type { IndexContext } from '../../service/read-only-index.js';
import { assertDataDirExists, openReadOnlyStore, type StoreContext } from '../../service/read-only-store.js';
import { readConfig } from '../quick-config.js';

/*
 * The index opened read-only for a command no service answered: the configuration through the
 * fast path when it is certain, the store (and for a search, the search modules), nothing of
 * indexing, migrating or serving (issue #14; test/indexer/cli/startup.test.ts checks the module
 * graphs).
 */

export async function openStoreToRead(dataDir: string): Promise<StoreContext> {
  assertDataDirExists(dataDir);
  return openReadOnlyStore(dataDir, await readConfig(dataDir));
}

export async function openIndexToRead(dataDir: string): Promise<IndexContext> {
  assertDataDirExists(dataDir);
  const config = await readConfig(dataDir);
  return (await import('../../service/read-only-index.js')).openReadOnlyIndex(dataDir, config);
}
