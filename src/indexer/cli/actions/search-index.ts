import path from 'node:path';
import type { SearchResult } from '../../../shared/api.js';
import { parseQuery } from '../../search/query.js';
import { openIndexToRead } from './read-index.js';

/** Searches the index on disk, read-only: for `owlet search` when no service can answer. */
export async function searchIndexOnDisk(dataDir: string, input: string, page: { limit: number; offset: number }): Promise<SearchResult> {
  parseQuery(input); // a malformed query is reported before the index is opened
  const ctx = await openIndexToRead(dataDir);
  try {
    return ctx.search.search(parseQuery(input, { languages: ctx.config.search.languages }), { limit: page.limit, offset: page.offset, roots: ctx.config.roots.map((r) => path.resolve(r)) }, input);
  } finally {
    ctx.close();
  }
}
