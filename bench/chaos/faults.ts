import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { tokenFor, writeDocument } from '../lib/doc-corpus.js';
import type { Rng } from '../lib/rng.js';
import type { Target } from '../lib/target.js';

/**
 * The fault kinds the chaos run injects. Each `inject` performs the whole fault, holding it as long
 * as it lasts and undoing what a person would undo (a drive plugged back in, space freed), and
 * returns when the fault is over. What Owlet must do about it is not done here: the run measures it.
 */

export type FaultKind =
  | 'kill-service'
  | 'kill-worker'
  | 'hang-service'
  | 'corrupt-index'
  | 'delete-wal'
  | 'disk-full'
  | 'root-offline'
  | 'file-burst'
  | 'poisoned-file'
  | 'clock-jump'
  | 'bad-config';

export const FAULT_KINDS: readonly FaultKind[] = [
  'kill-service',
  'kill-worker',
  'hang-service',
  'corrupt-index',
  'delete-wal',
  'disk-full',
  'root-offline',
  'file-burst',
  'poisoned-file',
  'clock-jump',
  'bad-config',
];

/**
 * How often one desktop meets each fault in real life (per day), the assumption behind the
 * "equivalent days" figure. Deliberately pessimistic; see docs/operations/validation.md.
 */
export const REAL_WORLD_PER_DAY: Record<FaultKind, number> = {
  'kill-service': 1 / 30, // the OS kills it (OOM killer, forced logout, update of a shared library)
  'kill-worker': 1 / 7, // a parser crash on some malformed file
  'hang-service': 1 / 60, // a wedged process: stuck I/O on a dead network share, a debugger, SIGSTOP
  'corrupt-index': 1 / 365, // a bad sector, a crash mid-write on a disk that lies about fsync
  'delete-wal': 1 / 365, // a cleanup tool or a user deleting "temporary" files
  'disk-full': 1 / 90,
  'root-offline': 1, // a laptop leaves its USB drive or network share behind every day
  'file-burst': 1 / 7, // an archive unpacked, a git checkout, a photo import
  'poisoned-file': 1 / 30,
  'clock-jump': 1 / 30, // NTP correcting a drifted clock after a long suspend, a manual change
  'bad-config': 1 / 365, // a hand edit gone wrong, a sync tool writing half a file
};

/** What a run should see from Owlet for each fault: the alert it must raise, if any. */
export const EXPECTED_ALERT: Partial<Record<FaultKind, readonly string[]>> = {
  'disk-full': ['disk-space-critical'],
  'corrupt-index': ['integrity-failed', 'index-corrupt'],
  'bad-config': ['config-restored'],
};

/**
 * Alerts that stay firing after their fault by design: a restored configuration keeps
 * `config-restored` up until config.json is edited (the damaged copy beside it may hold a change the
 * user wants back). Every other alert must have cleared when a run ends.
 */
export const STANDING_BY_DESIGN: Partial<Record<FaultKind, readonly string[]>> = {
  'bad-config': ['config-restored', 'crash-loop'],
  // Three unclean restarts within an hour is the crash-loop rule's condition: after three kills it
  // fires, as it should, and clears only when the hour has passed.
  'kill-service': ['crash-loop'],
  'hang-service': ['crash-loop'],
};

export interface FaultContext {
  target: Target;
  rng: Rng;
  /** The main root (bursts and poisoned files go under it). */
  root: string;
  /** A second root the root-offline fault takes away and brings back. */
  removableRoot: string;
  /** Where the data folder's file system can be filled, or null when it is not a private tmpfs. */
  fillableDir: string | null;
  /** libfaketime's offset file for the service tree, or null when libfaketime is not installed. */
  clockFile: string | null;
  /** Files Owlet must end up with, by token; faults that add or remove files update it. */
  expected: Map<string, string>;
  /** Files removed from the disk, by token: none may still be found. */
  deleted: Map<string, string>;
  /** Scale of the file burst (5,000 in the long run). */
  burstFiles: number;
  /** Extraction deadline configured for the run (the poisoned file outlasts it). */
  extractTimeoutMs: number;
  sleep(ms: number): Promise<void>;
}

export interface FaultOutcome {
  /** When the fault condition ended (the kill sent, the drive back, the space freed). */
  endedAt: number;
  note: string;
  /** Set when this fault could not be injected on this machine, and why. */
  skipped?: string;
}

const signal = (pid: number, sig: NodeJS.Signals): boolean => {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
};

async function waitUntil(check: () => boolean, timeoutMs: number, sleep: (ms: number) => Promise<void>): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await sleep(100);
  }
  return check();
}

/** New documents for the workers to chew on (a worker must be busy to be killed or frozen). */
function feedWorkers(ctx: FaultContext, label: string, n: number): void {
  const dir = path.join(ctx.root, 'feed', label);
  for (let i = 0; i < n; i++) {
    const id = `${label}x${i}`;
    ctx.expected.set(tokenFor(id), writeDocument(dir, id, ctx.rng, ctx.rng.int(0, 2)));
  }
}

let burstSeq = 0;
let feedSeq = 0;

export const FAULTS: Record<FaultKind, (ctx: FaultContext) => Promise<FaultOutcome>> = {
  async 'kill-service'(ctx) {
    const pid = ctx.target.servicePid();
    if (pid === null) return { endedAt: Date.now(), note: 'no serving child at that moment (still restarting)' };
    signal(pid, 'SIGKILL');
    return { endedAt: Date.now(), note: `SIGKILL to service pid ${pid}` };
  },

  async 'kill-worker'(ctx) {
    feedWorkers(ctx, `kw${++feedSeq}`, 20);
    await waitUntil(() => ctx.target.workerPids().length > 0, 5000, ctx.sleep);
    const workers = ctx.target.workerPids();
    if (workers.length === 0) return { endedAt: Date.now(), note: 'no extraction worker alive to kill' };
    const pid = ctx.rng.pick(workers);
    signal(pid, 'SIGKILL');
    return { endedAt: Date.now(), note: `SIGKILL to worker pid ${pid}` };
  },

  async 'hang-service'(ctx) {
    const pid = ctx.target.servicePid();
    if (pid === null) return { endedAt: Date.now(), note: 'no serving child at that moment' };
    signal(pid, 'SIGSTOP');
    // Detecting the hang is Owlet's job: recovery is timed from the SIGSTOP, not from the replacement.
    const stoppedAt = Date.now();
    // The supervisor's hang detector must notice the silence and replace the child.
    const replaced = await waitUntil(() => {
      const now = ctx.target.servicePid();
      return now !== null && now !== pid;
    }, 45_000, ctx.sleep);
    signal(pid, 'SIGCONT');
    return { endedAt: replaced ? stoppedAt : Date.now(), note: replaced ? `SIGSTOP to ${pid}; replaced by the supervisor after ${Date.now() - stoppedAt} ms` : `SIGSTOP to ${pid}; NOT replaced within 45 s, resumed by the harness` };
  },

  async 'corrupt-index'(ctx) {
    const file = path.join(ctx.target.dataDir, 'index.db');
    let size: number;
    try {
      size = fs.statSync(file).size;
    } catch {
      // Nothing was damaged: no alert is owed (counted as skipped, not as a fault without its alert).
      return { endedAt: Date.now(), note: '', skipped: 'no index.db at that moment' };
    }
    const pages = Math.floor(size / 4096);
    // A file just created (its pages still in the WAL) has nothing beyond the header to damage.
    if (pages < 4) return { endedAt: Date.now(), note: '', skipped: 'index.db too small to damage pages beyond the header' };
    const fd = fs.openSync(file, 'r+');
    const hit: number[] = [];
    try {
      for (let i = 0; i < 4; i++) {
        const page = ctx.rng.int(2, pages - 1);
        fs.writeSync(fd, crypto.randomBytes(4096), 0, 4096, page * 4096);
        hit.push(page);
      }
    } finally {
      fs.closeSync(fd);
    }
    return { endedAt: Date.now(), note: `overwrote pages ${hit.join(', ')} of ${pages}` };
  },

  async 'delete-wal'(ctx) {
    const wal = path.join(ctx.target.dataDir, 'index.db-wal');
    feedWorkers(ctx, `wal${++feedSeq}`, 10);
    await ctx.sleep(500);
    try {
      fs.rmSync(wal);
      return { endedAt: Date.now(), note: 'deleted index.db-wal under the running service' };
    } catch {
      return { endedAt: Date.now(), note: 'no WAL file at that moment' };
    }
  },

  async 'disk-full'(ctx) {
    if (!ctx.fillableDir) return { endedAt: Date.now(), note: '', skipped: 'the data folder is not on a private tmpfs (needs root to mount one)' };
    const filler = path.join(ctx.fillableDir, `filler-${Date.now()}`);
    const fd = fs.openSync(filler, 'w');
    const chunk = Buffer.alloc(1024 * 1024);
    try {
      for (;;) fs.writeSync(fd, chunk);
    } catch {
      /* ENOSPC: full */
    } finally {
      fs.closeSync(fd);
    }
    feedWorkers(ctx, `full${++feedSeq}`, 10);
    await ctx.sleep(8000);
    fs.rmSync(filler, { force: true });
    return { endedAt: Date.now(), note: 'filled the data volume for 8 s, then freed it' };
  },

  async 'root-offline'(ctx) {
    const away = `${ctx.removableRoot}.away`;
    try {
      fs.renameSync(ctx.removableRoot, away);
    } catch (e) {
      return { endedAt: Date.now(), note: `could not take the root away: ${(e as Error).message}` };
    }
    await ctx.sleep(6000);
    fs.renameSync(away, ctx.removableRoot);
    return { endedAt: Date.now(), note: 'second root gone for 6 s, then back' };
  },

  async 'file-burst'(ctx) {
    const n = ctx.burstFiles;
    const prev = path.join(ctx.root, `burst-${burstSeq}`);
    const dir = path.join(ctx.root, `burst-${++burstSeq}`);
    // Deletions: the previous burst's folder goes, files and all.
    for (const [tok, p] of ctx.expected) {
      if (!p.startsWith(prev + path.sep)) continue;
      ctx.expected.delete(tok);
      ctx.deleted.set(tok, p);
    }
    fs.rmSync(prev, { recursive: true, force: true });
    // Creations, in nested folders created while files stream into them.
    const made: [string, string][] = [];
    for (let i = 0; i < n; i++) {
      const tok = `b${burstSeq}n${i}burst`;
      const p = path.join(dir, `s${i % 25}`, `t${i % 5}`, `${tok}.txt`);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, `burst file ${tok}\n`);
      made.push([tok, p]);
    }
    // Renames and deletions among the new files.
    for (let i = 0; i < made.length; i++) {
      const [tok, p] = made[i]!;
      if (i % 5 === 1) {
        const to = p.replace(/\.txt$/, '-renamed.txt');
        fs.renameSync(p, to);
        ctx.expected.set(tok, to);
      } else if (i % 10 === 2) {
        fs.rmSync(p);
        ctx.deleted.set(tok, p);
      } else ctx.expected.set(tok, p);
    }
    return { endedAt: Date.now(), note: `${n} files created in ${dir}, ${Math.floor(n / 5)} renamed, ${Math.floor(n / 10)} deleted; the previous burst folder removed` };
  },

  async 'poisoned-file'(ctx) {
    // A file whose extraction never finishes: the worker that takes it is frozen past the deadline.
    const label = `poison${++feedSeq}`;
    feedWorkers(ctx, label, 8);
    await waitUntil(() => ctx.target.workerPids().length > 0, 5000, ctx.sleep);
    const frozen = ctx.target.workerPids();
    for (const pid of frozen) signal(pid, 'SIGSTOP');
    await ctx.sleep(ctx.extractTimeoutMs + 2000);
    for (const pid of frozen) signal(pid, 'SIGCONT');
    return { endedAt: Date.now(), note: frozen.length ? `froze ${frozen.length} busy worker(s) past the ${ctx.extractTimeoutMs} ms extraction deadline` : 'no worker alive to freeze' };
  },

  async 'clock-jump'(ctx) {
    if (!ctx.clockFile) return { endedAt: Date.now(), note: '', skipped: 'libfaketime is not installed (apt-get install faketime)' };
    const hours = ctx.rng.pick([-3, 2, 26]);
    fs.writeFileSync(ctx.clockFile, `${hours >= 0 ? '+' : ''}${hours}h\n`);
    await ctx.sleep(5000);
    fs.writeFileSync(ctx.clockFile, '+0\n');
    return { endedAt: Date.now(), note: `wall clock of the service tree jumped ${hours} h for 5 s, then back` };
  },

  async 'bad-config'(ctx) {
    const file = path.join(ctx.target.dataDir, 'config.json');
    let good: Buffer;
    try {
      good = fs.readFileSync(file);
    } catch {
      return { endedAt: Date.now(), note: 'no config.json to damage' };
    }
    fs.writeFileSync(file, '{ "roots": [ "half a file');
    // A restart makes the service read it again (the worst moment for a broken file).
    const pid = ctx.target.servicePid();
    if (pid !== null) signal(pid, 'SIGKILL');
    await ctx.sleep(8000);
    // Owlet should have put the last good configuration back itself; only if it did not does the
    // harness repair the file (as a person would have to).
    const healed = fs.readdirSync(ctx.target.dataDir).some((f) => f.startsWith('config.json.broken-')) && fs.readFileSync(file, 'utf8').trim().startsWith('{') && !fs.readFileSync(file, 'utf8').includes('half a file');
    if (!healed) fs.writeFileSync(file, good, { mode: 0o600 });
    return { endedAt: Date.now(), note: healed ? 'config.json unparseable across a service restart; Owlet restored the last good one' : 'config.json unparseable across a service restart for 8 s; NOT restored by Owlet, repaired by the harness' };
  },
};
