import type { SearchResult } from '../../shared/api.js';

export interface SearchCacheStats {
  hits: number;
  misses: number;
  entries: number;
  invalidations: number;
}

/**
 * A small LRU of search results keyed by (query text, limit, offset). The dashboard re-asks the
 * same query while polling and people page back and forth, so repeats are common; any committed
 * index batch clears the whole cache (the BatchWriter's onDidCommit hook), so a cached answer is
 * never older than the index. Errors are not cached. A Map keeps insertion order: re-inserting on
 * a hit makes it the most recent, and the first key is the least recently used.
 */
export class SearchCache {
  private readonly map = new Map<string, SearchResult>();
  private hitCount = 0;
  private missCount = 0;
  private invalidationCount = 0;

  constructor(private readonly maxEntries = 256) {}

  get(q: string, limit: number, offset: number, compute: () => SearchResult): SearchResult {
    if (this.maxEntries <= 0) {
      this.missCount++;
      return compute();
    }
    const key = `${limit}\u0000${offset}\u0000${q}`;
    const found = this.map.get(key);
    if (found) {
      this.hitCount++;
      this.map.delete(key);
      this.map.set(key, found);
      return found;
    }
    this.missCount++;
    const result = compute();
    this.map.set(key, result);
    if (this.map.size > this.maxEntries) this.map.delete(this.map.keys().next().value as string);
    return result;
  }

  /** The index changed: every cached answer may be stale. */
  clear(): void {
    if (this.map.size) this.invalidationCount++;
    this.map.clear();
  }

  stats(): SearchCacheStats {
    return { hits: this.hitCount, misses: this.missCount, entries: this.map.size, invalidations: this.invalidationCount };
  }
}
