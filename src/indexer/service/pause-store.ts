import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { errnoCode } from '../../shared/errors.js';
import { writePrivateFile } from '../security/files.js';

/**
 * The user's pause, remembered in the data folder (`pause.json`) so that a restart (the app
 * relaunched, `owlet run` restarting a killed child, a reboot) does not quietly start indexing
 * again: "for 1 hour" and "until tomorrow" keep their end time, "until resumed" holds until the
 * user resumes. Written atomically and owner-only (writePrivateFile); removed by resume and when
 * a timed pause ends.
 */
export const PAUSE_FILE = 'pause.json';

const PauseFile = z.object({
  version: z.literal(1),
  /** When the pause ends by itself (ISO 8601); null: until resumed. */
  until: z.iso.datetime({ offset: true }).nullable(),
  since: z.iso.datetime({ offset: true }),
});

export type SavedPause = { until: number | null };

export type LoadedPause = { kind: 'none' } | { kind: 'paused'; until: number | null } | { kind: 'expired' } | { kind: 'unreadable'; message: string; /** Kept for a later start: a read error, or a file a newer Owlet wrote. */ keep: boolean };

export class PauseStore {
  readonly file: string;
  constructor(dataDir: string) {
    this.file = path.join(dataDir, PAUSE_FILE);
  }

  save(p: SavedPause, now: number): void {
    writePrivateFile(this.file, JSON.stringify({ version: 1, until: p.until === null ? null : new Date(p.until).toISOString(), since: new Date(now).toISOString() }) + '\n');
  }

  clear(): void {
    fs.rmSync(this.file, { force: true });
  }

  /** What a starting service finds; an expired or unreadable file is the caller's to clear. */
  load(now: number): LoadedPause {
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(this.file, 'utf8'));
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return { kind: 'none' };
      return { kind: 'unreadable', message: `${this.file} cannot be read (${(e as Error).message})`, keep: !(e instanceof SyntaxError) };
    }
    const r = PauseFile.safeParse(raw);
    const newer = typeof raw === 'object' && raw !== null && typeof (raw as { version?: unknown }).version === 'number' && (raw as { version: number }).version > 1;
    if (!r.success) return { kind: 'unreadable', message: `${this.file} is ${newer ? 'from a newer Owlet' : 'malformed'}: ${r.error.issues[0]?.message ?? 'invalid'}`, keep: newer };
    if (r.data.until === null) return { kind: 'paused', until: null };
    const until = Date.parse(r.data.until);
    return until > now ? { kind: 'paused', until } : { kind: 'expired' };
  }
}
