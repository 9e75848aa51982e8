import { assertDataDirExists, openReadOnlyIndex, type IndexContext } from '../../service/read-only-index.js';
import { readConfig } from '../quick-config.js';

/**
 * The index opened read-only for a command no service answered: the configuration through the
 * fast path when it is certain, the store and search modules, nothing of indexing, migrating or
 * serving (issue #14; test/indexer/cli/startup.test.ts checks the module graph).
 */
export async function openIndexToRead(dataDir: string): Promise<IndexContext> {
  assertDataDirExists(dataDir);
  return openReadOnlyIndex(dataDir, await readConfig(dataDir));
}
