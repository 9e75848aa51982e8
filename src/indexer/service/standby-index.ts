import fs from 'node:fs';
import path from 'node:path';
import type { SearchResult } from '../../shared/api.js';
import { owletError } from '../../shared/errors.js';
import type { Config } from '../config/schema.js';
import { loadConfig, parseConfig } from '../config/load.js';
import { LAST_GOOD_FILE, readLastGood } from '../config/last-good.js';
import type { Logger } from '../log/logger.js';
import { parseQuery } from '../search/query.js';
import type { SecretStore } from '../security/secret-store.js';
import { INDEX_FILE } from '../store/stats.js';
import { openReadOnlyIndex, type IndexContext } from './read-only-index.js';

/**
 * The read-only view of the index that the hot standby serves searches from (host/standby.ts).
 *
 * It never writes: a read-only connection, no data lock, no migration, no checkpoint, no repair of
 * config.json. It never serves from a file it cannot trust to be the one the primary writes:
 *
 * - index.db replaced (a recovery or a restore renamed a new file into place): the connection still
 *   reads the old inode, so it is closed and the new file opened;
 * - the WAL deleted or replaced under the primary: a connection opened now would fail ("disk I/O
 *   error", see store/wal-watch.ts), and the primary can only heal the WAL once it has the database
 *   to itself, so the standby closes its connection at once and waits for a WAL with a new inode;
 * - any SQLite error while searching: closed, and reopened at the next check.
 *
 * While closed it is not ready; the standby then answers readiness with 503 and hands searches to
 * the primary.
 */

export interface StandbyIndexOptions {
  dataDir: string;
  log: Logger;
  /** Where the keys come from (default: the configured secret store, as the CLI reads it). */
  secrets?: SecretStore;
  /** Opens the index (tests count opens); default `openReadOnlyIndex`. */
  open?: (dataDir: string, config: Config) => IndexContext;
  now?: () => number;
}

/** What a check found, for logs and tests. */
export type StandbyCheck = 'ok' | 'opened' | 'reopened' | 'closed' | 'waiting';

function inodeOf(file: string): number | null {
  try {
    return fs.statSync(file).ino;
  } catch {
    return null;
  }
}

function stampOf(file: string): string {
  try {
    const st = fs.statSync(file);
    return `${st.ino}:${st.mtimeMs}:${st.size}`;
  } catch {
    return 'missing';
  }
}

/**
 * The configuration as the standby may read it: config.json, or the last good copy when the file
 * is damaged (the primary repairs it; the standby never writes it). Throws when neither is usable.
 */
export function standbyConfig(dataDir: string): Config {
  try {
    return loadConfig(dataDir);
  } catch (e) {
    const raw = readLastGood(dataDir);
    if (raw === null) throw e;
    return parseConfig(raw, LAST_GOOD_FILE);
  }
}

/**
 * How long the standby waits for the primary to recreate a deleted WAL before it tries to open
 * anyway (the primary checks every 2 s; a primary that died meanwhile leaves none).
 */
export const WAL_WAIT_MS = 10_000;

export class StandbyIndex {
  private ctx: IndexContext | null = null;
  private config: Config;
  private configStamp: string;
  private fileIno: number | null = null;
  private walIno: number | null = null;
  /** Why it is closed (for readiness reasons). */
  private closedBecause = 'the index is not open yet';
  private readonly file: string;
  private readonly wal: string;
  private readonly configFile: string;
  /** The WAL was deleted under the open connection of this index.db inode, at this time. */
  private walGone: { fileIno: number | null; at: number } | null = null;

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  constructor(private readonly o: StandbyIndexOptions) {
    this.file = path.join(o.dataDir, INDEX_FILE);
    this.wal = `${this.file}-wal`;
    this.configFile = path.join(o.dataDir, 'config.json');
    this.configStamp = stampOf(this.configFile);
    this.config = standbyConfig(o.dataDir);
  }

  /** The configuration it reads with (config.json as last read, or the last good one). */
  get configNow(): Config {
    return this.config;
  }

  get ready(): boolean {
    return this.ctx !== null;
  }

  /** Why it cannot serve now (empty while ready). */
  get reasons(): string[] {
    return this.ctx ? [] : [`standby: ${this.closedBecause}`];
  }

  /**
   * Brings the view in step with the disk: reopens after a replacement, closes when the WAL went
   * away, opens when the files are back. Cheap (three stats) when nothing changed; call it often.
   */
  check(): StandbyCheck {
    this.reloadConfig();
    const fileIno = inodeOf(this.file);
    const walIno = inodeOf(this.wal);
    if (this.ctx) {
      if (fileIno === this.fileIno && walIno === this.walIno) return 'ok';
      const walDeleted = fileIno === this.fileIno && walIno === null;
      this.close(fileIno === null ? 'index.db was moved away (a recovery sets a damaged file aside)' : fileIno !== this.fileIno ? 'index.db was replaced' : walDeleted ? 'the write-ahead log was deleted' : 'the write-ahead log was replaced');
      if (walDeleted) {
        // The primary heals it only with the database to itself: stay closed until it has.
        this.walGone = { fileIno, at: this.now() };
        this.closedBecause = 'waiting for the primary to recreate the deleted write-ahead log';
        return 'closed';
      }
      if (fileIno === null) return 'closed';
      return this.tryOpen() ? 'reopened' : 'closed';
    }
    if (fileIno === null) {
      this.closedBecause = 'there is no index.db yet';
      return 'waiting';
    }
    if (walIno === null && this.walGone?.fileIno === fileIno && this.now() - this.walGone.at < WAL_WAIT_MS) return 'waiting';
    this.walGone = null;
    return this.tryOpen() ? 'opened' : 'waiting';
  }

  search(q: string, limit: number, offset: number): SearchResult {
    const ctx = this.ctx;
    if (!ctx) throw owletError('OWL_ERR_NOT_READY', { reason: `the standby cannot read the index now (${this.closedBecause})` });
    try {
      // Only the configured roots, as the primary searches (service.ts indexerSettings).
      const roots = this.config.roots.map((r) => path.resolve(r));
      return ctx.search.search(parseQuery(q, { languages: this.config.search.languages }), { limit, offset, roots }, q);
    } catch (e) {
      // Whatever SQLite said (corrupt page, I/O error on a file swapped under it): never serve
      // from this connection again; the next check opens what is on disk now.
      this.close(`a search failed: ${e instanceof Error ? e.message : String(e)}`);
      throw owletError('OWL_ERR_NOT_READY', { reason: 'the standby could not read the index; try again in a moment' });
    }
  }

  close(why = 'closed'): void {
    const ctx = this.ctx;
    this.ctx = null;
    this.closedBecause = why;
    if (!ctx) return;
    this.o.log.info('standby index closed', { reason: why });
    try {
      ctx.close();
    } catch (e) {
      this.o.log.warn('closing the standby index reported an error', { error: e });
    }
  }

  private tryOpen(): boolean {
    const fileIno = inodeOf(this.file);
    const walIno = inodeOf(this.wal);
    let ctx: IndexContext | null = null;
    try {
      ctx = (this.o.open ?? ((d, c) => openReadOnlyIndex(d, c, this.o.secrets ? { secrets: this.o.secrets } : {})))(this.o.dataDir, this.config);
      // A consistent read before it counts as ready: the schema and the document table answer.
      ctx.db.prepare('SELECT count(*) FROM sqlite_master').get();
      ctx.search.search(parseQuery('owlet-standby-probe'), { limit: 1, offset: 0 });
    } catch (e) {
      try {
        ctx?.close();
      } catch {
        /* already unusable */
      }
      const why = `the index cannot be read: ${e instanceof Error ? e.message : String(e)}`;
      // Tried every check: said once per distinct reason, not four times a second.
      if (why !== this.closedBecause) this.o.log.info('standby cannot open the index yet', { reason: why });
      this.closedBecause = why;
      return false;
    }
    // Opened something other than what was stat'ed (replaced in between): the next check sees it.
    this.ctx = ctx;
    this.fileIno = fileIno;
    this.walIno = walIno;
    this.o.log.info('standby index opened', {});
    return true;
  }

  /** A configuration changed by the dashboard or by hand (roots, languages) is read again; a damaged one is ignored. */
  private reloadConfig(): void {
    const stamp = stampOf(this.configFile);
    if (stamp === this.configStamp) return;
    this.configStamp = stamp;
    let next: Config;
    try {
      next = loadConfig(this.o.dataDir);
    } catch {
      return; // the primary repairs it; keep the configuration the standby had
    }
    const languagesChanged = next.search.languages.join(',') !== this.config.search.languages.join(',');
    this.config = next;
    // The search engine was made for the old languages (snippet and name-match stems): open again
    // with the new ones, as the primary does, so both answer alike (review finding).
    if (languagesChanged && this.ctx) {
      this.close('the search languages changed');
      this.tryOpen();
    }
  }
}
