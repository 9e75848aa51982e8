import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { owletError } from '../../shared/errors.js';

/**
 * Which folders may be indexed. A folder added from the dashboard must be one this user owns the
 * reading of: it exists, is a folder, can be listed by this user, is not a system folder (whose
 * churn and size would swamp the index and which holds no documents), is not another user's home,
 * and is not Owlet's own data folder (the index would watch itself being written).
 */
export interface RootRules {
  /** Owlet's data folder (real path). */
  dataDir: string;
  /** This user's home folder. */
  home: string;
  platform?: NodeJS.Platform;
}

/** Folders that are the system itself, refused along with everything below them. */
const SYSTEM_TREES: Record<'posix' | 'darwin' | 'win32', string[]> = {
  posix: ['/bin', '/boot', '/dev', '/etc', '/lib', '/lib32', '/lib64', '/libx32', '/proc', '/run', '/sbin', '/snap', '/sys', '/usr', '/var/lib', '/var/log', '/var/cache'],
  darwin: ['/bin', '/dev', '/etc', '/sbin', '/usr', '/System', '/Library', '/private/etc', '/private/var/db', '/cores', '/Applications'],
  win32: ['c:\\windows', 'c:\\program files', 'c:\\program files (x86)', 'c:\\programdata', 'c:\\$recycle.bin', 'c:\\system volume information'],
};
/** Folders too broad to index as a whole (everything of every user), refused exactly; folders below them are fine. */
const TOO_BROAD: Record<'posix' | 'darwin' | 'win32', string[]> = {
  posix: ['/', '/home', '/mnt', '/media', '/var', '/tmp', '/opt', '/srv', '/root'],
  darwin: ['/', '/Users', '/Volumes', '/private', '/private/var', '/tmp', '/private/tmp', '/opt'],
  win32: ['c:\\', 'c:\\users'],
};
/** Where other users' homes live: a folder there but outside this user's home is someone else's. */
const HOMES: Record<'posix' | 'darwin' | 'win32', string> = { posix: '/home', darwin: '/Users', win32: 'c:\\users' };

function family(p: NodeJS.Platform): 'posix' | 'darwin' | 'win32' {
  return p === 'win32' ? 'win32' : p === 'darwin' ? 'darwin' : 'posix';
}

/** `child` is `parent` or below it (string comparison of resolved paths; case-folded on Windows). */
export function isWithin(child: string, parent: string, platform: NodeJS.Platform = process.platform): boolean {
  const norm = (p: string) => (platform === 'win32' ? p.toLowerCase() : p);
  const c = norm(child);
  const par = norm(parent);
  if (c === par) return true;
  const sep = platform === 'win32' ? '\\' : '/';
  return c.startsWith(par.endsWith(sep) ? par : par + sep);
}

const refused = (reason: string) => owletError('OWL_ERR_ROOT_REFUSED', { reason });

/**
 * Checks a folder someone asks to index and returns its real, absolute path, or throws
 * OWL_ERR_ROOT_MISSING (not there) / OWL_ERR_ROOT_REFUSED (not allowed) with the reason in words.
 */
export function checkRoot(input: string, rules: RootRules): string {
  const platform = rules.platform ?? process.platform;
  const fam = family(platform);
  const pathApi = platform === 'win32' ? path.win32 : path.posix;
  const trimmed = input.trim();
  if (!trimmed) throw owletError('OWL_ERR_ROOT_MISSING', { reason: 'no folder given: type the full path of a folder' });
  if (trimmed.includes('\0')) throw refused('the path contains a NUL character');
  if (!pathApi.isAbsolute(trimmed)) throw refused(`"${trimmed}" is not a full path: start it with ${platform === 'win32' ? 'a drive letter such as C:\\' : '/'}`);
  const abs = pathApi.resolve(trimmed);
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch {
    throw owletError('OWL_ERR_ROOT_MISSING', { reason: `the folder ${abs} does not exist` });
  }
  if (!st.isDirectory()) throw owletError('OWL_ERR_ROOT_MISSING', { reason: `${abs} is a file, not a folder` });
  const real = fs.realpathSync(abs);
  for (const candidate of new Set([abs, real])) {
    if (TOO_BROAD[fam].some((b) => (platform === 'win32' ? candidate.toLowerCase() === b : candidate === b)))
      throw refused(`${candidate} holds far more than documents (every user's files or the whole system): choose a folder inside it, such as your Documents folder`);
    const sys = SYSTEM_TREES[fam].find((s) => isWithin(candidate, s, platform));
    if (sys) throw refused(`${candidate} is a system folder (${sys}); Owlet indexes your documents, not the operating system`);
  }
  const dataDir = fs.existsSync(rules.dataDir) ? fs.realpathSync(rules.dataDir) : rules.dataDir;
  if (isWithin(real, dataDir, platform)) throw refused(`${real} is Owlet's own data folder: the index would index itself`);
  const home = fs.existsSync(rules.home) ? fs.realpathSync(rules.home) : rules.home;
  const homes = HOMES[fam];
  if (isWithin(real, homes, platform) && !isWithin(real, home, platform) && !isWithin(home, real, platform))
    throw refused(`${real} is in another user's home folder; Owlet only indexes folders of the user it runs as`);
  try {
    fs.accessSync(real, fs.constants.R_OK | fs.constants.X_OK);
  } catch {
    throw refused(`you (${os.userInfo().username}) cannot open ${real}: Owlet can only index folders you may read`);
  }
  return real;
}

/**
 * Where the desktop says the user's Documents, Desktop and Downloads folders are: on Linux the
 * XDG user-dirs file (localised names such as ~/Dokumente), elsewhere the usual names in the home.
 */
export function userFolderPaths(home: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): { name: string; path: string }[] {
  const names = { Documents: 'XDG_DOCUMENTS_DIR', Desktop: 'XDG_DESKTOP_DIR', Downloads: 'XDG_DOWNLOAD_DIR' } as const;
  const xdg: Record<string, string> = {};
  if (platform !== 'win32' && platform !== 'darwin') {
    const config = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(home, '.config');
    try {
      for (const line of fs.readFileSync(path.join(config, 'user-dirs.dirs'), 'utf8').split('\n')) {
        const m = /^\s*(XDG_[A-Z]+_DIR)="(.*)"\s*$/.exec(line);
        if (!m) continue;
        const value = m[2]!.replace(/^\$HOME(?=\/|$)/, home);
        // A folder set to the home itself means "none" in user-dirs; relative values are not honoured.
        if (path.isAbsolute(value) && path.resolve(value) !== path.resolve(home)) xdg[m[1]!] = value;
      }
    } catch {
      // No user-dirs file: the usual names.
    }
  }
  return (Object.keys(names) as (keyof typeof names)[]).map((name) => ({ name, path: xdg[names[name]] ?? path.join(home, name) }));
}

/** The usual document folders of this user that exist, for the first-run welcome. */
export function suggestedFolders(home: string, env: NodeJS.ProcessEnv = process.env): { name: string; path: string }[] {
  const out: { name: string; path: string }[] = [];
  for (const f of userFolderPaths(home, env)) {
    try {
      if (fs.statSync(f.path).isDirectory()) out.push({ name: f.name, path: fs.realpathSync(f.path) });
    } catch {
      // Not there on this machine: not offered.
    }
  }
  return out;
}
