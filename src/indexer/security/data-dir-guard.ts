import fs from 'node:fs';
import path from 'node:path';
import { type OwletError, owletError } from '../../shared/errors.js';

/**
 * The data folder holds the token, the keys (without a keychain), the index and the logs: whoever
 * can write into it can plant a token, swap a log for a symlink into the user's shell startup
 * file, or forge service.json. So it and every folder in it must be owned by the user, closed to
 * everyone else (0700 or tighter), and real folders, not symlinks. Anything else is refused before
 * anything is read from it or written to it, with the command that fixes it.
 */

export type DirProblemKind = 'symlink' | 'owner' | 'mode' | 'not-a-folder';

export interface DirProblem {
  path: string;
  kind: DirProblemKind;
  /** What is wrong, in words. */
  message: string;
  /** A shell command (or step) that fixes it. */
  fix: string;
}

export interface GuardProbe {
  /** Effective uid; null where the platform has no POSIX owners (Windows). */
  uid: number | null;
}

export const systemGuardProbe = (): GuardProbe => ({
  uid: process.platform === 'win32' || typeof process.geteuid !== 'function' ? null : process.geteuid(),
});

const q = (p: string) => `'${p.replace(/'/g, `'\\''`)}'`;
const octal = (m: number) => (m & 0o777).toString(8).padStart(3, '0');

/** One folder (or the data folder itself): a real folder, ours, 0700 or tighter. */
function checkFolder(dir: string, st: fs.Stats, uid: number): DirProblem | null {
  if (st.isSymbolicLink()) {
    return { path: dir, kind: 'symlink', message: `${dir} is a symbolic link (to ${safeReadlink(dir)}); Owlet only uses real folders it owns`, fix: `rm ${q(dir)}   # removes only the link; Owlet recreates the folder` };
  }
  if (!st.isDirectory()) return { path: dir, kind: 'not-a-folder', message: `${dir} is not a folder`, fix: `mv ${q(dir)} ${q(dir + '.moved')}` };
  if (st.uid !== uid) {
    return { path: dir, kind: 'owner', message: `${dir} belongs to user ${st.uid}, not to you (${uid}): that user could read or plant files in it`, fix: `sudo chown -R ${uid} ${q(dir)} && chmod 700 ${q(dir)}   # or move it away and let Owlet start a new one` };
  }
  if ((st.mode & 0o077) !== 0) {
    return { path: dir, kind: 'mode', message: `${dir} is open to other users (mode ${octal(st.mode)}); it must be 0700`, fix: `chmod 700 ${q(dir)}` };
  }
  return null;
}

function safeReadlink(p: string): string {
  try {
    return fs.readlinkSync(p);
  } catch {
    return '?';
  }
}

/** A file directly in a checked folder: not a symlink, ours, writable by us only. */
function checkFile(file: string, st: fs.Stats, uid: number): DirProblem | null {
  if (st.isSymbolicLink()) return { path: file, kind: 'symlink', message: `${file} is a symbolic link (to ${safeReadlink(file)}); Owlet never follows links in its data folder`, fix: `rm ${q(file)}` };
  if (st.uid !== uid) return { path: file, kind: 'owner', message: `${file} belongs to user ${st.uid}, not to you (${uid}): it was not written by your Owlet`, fix: `rm ${q(file)}   # after checking who put it there` };
  if ((st.mode & 0o022) !== 0) return { path: file, kind: 'mode', message: `${file} can be changed by other users (mode ${octal(st.mode)})`, fix: `chmod 600 ${q(file)}` };
  return null;
}

/**
 * Every problem with the data folder and everything in it (folders recursively, bounded; files
 * only for links, owner and write access). An absent folder has no problems (it is created 0700).
 */
export function inspectDataDir(dataDir: string, probe: GuardProbe = systemGuardProbe(), limit = 5000): DirProblem[] {
  const uid = probe.uid;
  if (uid === null) return [];
  let st: fs.Stats;
  try {
    st = fs.lstatSync(dataDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const problems: DirProblem[] = [];
  const top = checkFolder(dataDir, st, uid);
  if (top && top.kind !== 'mode') return [top];
  if (top) problems.push(top);
  const queue = [dataDir];
  let seen = 0;
  while (queue.length && seen < limit) {
    const dir = queue.shift()!;
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (++seen > limit) break;
      const p = path.join(dir, name);
      let s: fs.Stats;
      try {
        s = fs.lstatSync(p);
      } catch {
        continue; // removed meanwhile
      }
      if (s.isDirectory()) {
        const bad = checkFolder(p, s, uid);
        if (bad) problems.push(bad);
        else queue.push(p);
      } else {
        const bad = checkFile(p, s, uid);
        if (bad) problems.push(bad);
      }
    }
  }
  return problems;
}

function describe(problems: DirProblem[]): string {
  const shown = problems.slice(0, 5).map((p) => `${p.message}. Fix: ${p.fix}`);
  const more = problems.length > 5 ? ` (and ${problems.length - 5} more; "owlet doctor" lists them all)` : '';
  return shown.join('; ') + more;
}

/** Refuses (OWL_ERR_DATADIR_UNUSABLE) unless the whole data folder is private to this user. */
export function assertPrivateDataDir(dataDir: string, probe: GuardProbe = systemGuardProbe()): void {
  const problems = inspectDataDir(dataDir, probe);
  if (problems.length === 0) return;
  throw owletError('OWL_ERR_DATADIR_UNUSABLE', { dir: dataDir, reason: `it is not private to you: ${describe(problems)}` });
}

/** The data folder alone (clients that read one file from it: cheap, no walk). */
export function assertPrivateFolder(dir: string, probe: GuardProbe = systemGuardProbe()): void {
  if (probe.uid === null) return;
  let st: fs.Stats;
  try {
    st = fs.lstatSync(dir);
  } catch {
    return; // absent: the caller reports the missing file
  }
  const bad = checkFolder(dir, st, probe.uid);
  if (bad) throw owletError('OWL_ERR_DATADIR_UNUSABLE', { dir, reason: `it is not private to you: ${bad.message}. Fix: ${bad.fix}` });
}

/** A file Owlet wrote in its data folder that it must not trust (the folder is the file's). */
function untrusted(file: string, why: string): OwletError {
  return owletError('OWL_ERR_DATADIR_UNUSABLE', { dir: path.dirname(file), reason: `${path.basename(file)} ${why}` });
}

export interface TrustedReadOptions {
  /** Refuse when group or others may read it (secrets), not only when they may write it. */
  secret?: boolean;
  probe?: GuardProbe;
}

/**
 * Reads a file Owlet itself wrote, refusing to follow a symlink (O_NOFOLLOW) and checking, on the
 * open descriptor (no race with a swap), that it is ours and not writable (for secrets: readable)
 * by anyone else. Null when it does not exist.
 */
export function readTrustedFile(file: string, opts: TrustedReadOptions = {}): Buffer | null {
  const probe = opts.probe ?? systemGuardProbe();
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') throw untrusted(file, `is a symbolic link; Owlet never follows links in its data folder. Fix: rm '${file}'`);
    throw e;
  }
  try {
    const st = fs.fstatSync(fd);
    if (probe.uid !== null) {
      if (st.uid !== probe.uid) throw untrusted(file, `belongs to user ${st.uid}, not to you (${probe.uid}), so it is not trusted. Fix: rm '${file}' after checking who put it there`);
      const open = opts.secret ? 0o077 : 0o022;
      if ((st.mode & open) !== 0) {
        throw untrusted(file, `is ${opts.secret ? 'readable' : 'writable'} by other users (mode ${octal(st.mode)}), so it is not trusted. Fix: chmod 600 '${file}'${opts.secret ? ' and replace the secret (it may have been read)' : ''}`);
      }
    }
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
