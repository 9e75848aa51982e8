import fs from 'node:fs';
import { sqliteFailureOf } from './sqlite-errors.js';
import type { Db } from './db.js';

/**
 * Notices the index's write-ahead log deleted (or replaced) under the open connection, and heals it.
 *
 * A WAL removed by a cleanup tool or a user does not hurt the connection that has it open: it keeps
 * reading and writing the deleted file through its descriptor. Every OTHER connection (`owlet
 * doctor`, a CLI search) opens a new, empty file at the path while the shared index (-shm) still
 * counts frames that live only in the deleted one, and fails with "disk I/O error". Worse, the
 * commits in the deleted file would be gone for good when the connection closes without a checkpoint.
 *
 * Healing: switching the connection out of WAL mode checkpoints every frame it still holds (read
 * through its open descriptor) into index.db, and switching back opens a new WAL at the path. That
 * needs the database to itself; while another connection is open it is tried again at the next check.
 */

export type WalState = 'ok' | 'missing' | 'replaced';

export type WalHeal = { healed: true; state: Exclude<WalState, 'ok'> } | { healed: false; state: WalState; reason?: string };

function inodeOf(file: string): number | null {
  try {
    return fs.statSync(file).ino;
  } catch {
    return null;
  }
}

export class WalWatch {
  private ino: number | null;
  /** The index file this connection opened: a WAL beside a replaced file is not ours to touch. */
  private readonly fileIno: number | null;
  private readonly wal: string;

  /** `db` is the connection that owns `file` (already in WAL mode, so its WAL exists). */
  constructor(
    private readonly db: Db,
    private readonly file: string,
  ) {
    this.wal = `${file}-wal`;
    this.ino = inodeOf(this.wal);
    this.fileIno = inodeOf(file);
  }

  /**
   * What happened to the WAL since the connection opened it. An index file that vanished or was
   * replaced is not the WAL's problem (recovery watches that), and the WAL now at the path may
   * belong to the new file: it reads as 'ok' here, and is never touched.
   */
  check(): WalState {
    if (!this.db.open || this.ino === null || this.fileIno === null || inodeOf(this.file) !== this.fileIno) return 'ok';
    const now = inodeOf(this.wal);
    if (now === this.ino) return 'ok';
    return now === null ? 'missing' : 'replaced';
  }

  /** Checks and, when the WAL is gone, checkpoints it into index.db and opens a new one. Never waits for a lock. */
  heal(): WalHeal {
    const state = this.check();
    if (state === 'ok') return { healed: false, state };
    const timeout = Number(this.db.pragma('busy_timeout', { simple: true }));
    this.db.pragma('busy_timeout = 0');
    try {
      const mode = String(this.db.pragma('journal_mode = DELETE', { simple: true })).toLowerCase();
      if (mode !== 'delete') return { healed: false, state, reason: `the journal mode stayed ${mode}` };
      this.db.pragma('journal_mode = WAL');
      // The first read after the switch creates the new WAL file.
      this.db.prepare('SELECT count(*) FROM sqlite_master').get();
      this.ino = inodeOf(this.wal);
      return { healed: true, state };
    } catch (e) {
      // Another connection holds the database: try again at the next check.
      if (sqliteFailureOf(e) === 'busy') return { healed: false, state, reason: 'another connection has the index open' };
      throw e;
    } finally {
      this.db.pragma(`busy_timeout = ${timeout}`);
    }
  }
}
