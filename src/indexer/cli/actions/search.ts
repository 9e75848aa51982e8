import type { SearchResult } from '../../../shared/api.js';
import { resolveDataDir } from '../../config/paths.js';
import { runningService } from '../../service/service-file.js';
import { readApiToken } from '../../security/token.js';
import { askService } from './service-client.js';
import { snippetForTerminal, type Io } from '../io.js';

/** The API's bound on q (http/contract.ts SearchParams); a longer query is searched on disk. */
const API_MAX_QUERY = 1000;

/**
 * Asks the running service, if there is one: it has the index open, its caches warm and its key
 * in hand. Null when it cannot answer (none running, unreachable, busy, rate-limited, not ready):
 * the caller then searches the index on disk, as before services existed. A malformed query is
 * the user's error either way and is thrown.
 */
async function searchThroughService(dataDir: string, input: string, page: { limit: number; offset: number }): Promise<SearchResult | null> {
  if (input.length > API_MAX_QUERY) return null;
  const running = runningService(dataDir);
  if (!running) return null;
  let token: string;
  try {
    token = readApiToken(dataDir);
  } catch {
    return null;
  }
  const q = new URLSearchParams({ q: input, limit: String(page.limit), offset: String(page.offset) });
  const a = await askService<SearchResult>(running, token, `/api/v1/search?${q}`, 'the search request', 3000);
  if (a.ok) return a.body;
  if (a.error.code === 'OWL_ERR_QUERY_INVALID') throw a.error;
  return null;
}

/** `owlet search`: the service answers when it runs; otherwise only the store and search modules are loaded. */
export async function search(words: string[], o: { dataDir?: string; limit: number; offset: number; json?: boolean }, io: Io): Promise<void> {
  const input = words.join(' ');
  const dataDir = resolveDataDir(o.dataDir);
  const page = { limit: o.limit, offset: o.offset };
  const result = (await searchThroughService(dataDir, input, page)) ?? (await (await import('./search-index.js')).searchIndexOnDisk(dataDir, input, page));
  if (o.json) return io.out(JSON.stringify(result));
  io.out(`${result.total} result${result.total === 1 ? '' : 's'}`);
  if (result.suggestion) io.out(`Did you mean: ${result.suggestion.query}`);
  result.hits.forEach((h, i) => {
    io.out(`${o.offset + i + 1}. ${h.title}\n   ${h.path}\n   ${snippetForTerminal(h.snippet, io.stdoutIsTTY)}`);
  });
}
