import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { FILE_MODE, NOFOLLOW, ensurePrivateDir } from './files.js';

/**
 * Handing a one-time sign-in link to the browser without putting it in any process's argv
 * (`/proc/<pid>/cmdline` is readable by every local user): the link goes into a 0600 HTML page in
 * a folder only this user can enter, and the browser opener is given that page's path. The page
 * forwards the browser to the link at once. Pages are removed at the next hand-over once a few
 * minutes old (the code inside has expired after 60 s anyway).
 */

export const HANDOVER_PREFIX = 'owlet-login-';
const MAX_AGE_MS = 5 * 60_000;

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * `$XDG_RUNTIME_DIR/owlet` when the runtime folder is a real, private folder of ours (tmpfs,
 * removed at logout), else `<dataDir>/tmp` (the data folder is private: see data-dir-guard).
 */
export function handoverDir(dataDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const rt = env.XDG_RUNTIME_DIR;
  if (rt && path.isAbsolute(rt) && process.platform !== 'win32') {
    try {
      const st = fs.lstatSync(rt);
      const uid = typeof process.geteuid === 'function' ? process.geteuid() : st.uid;
      if (st.isDirectory() && st.uid === uid && (st.mode & 0o077) === 0) return path.join(rt, 'owlet');
    } catch {
      /* not usable: fall back to the data folder */
    }
  }
  return path.join(dataDir, 'tmp');
}

export function handoverPage(url: string): string {
  const u = escapeHtml(url);
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">` +
    `<meta http-equiv="refresh" content="0;url=${u}"><title>Signing in to Owlet</title></head>` +
    `<body><p>Signing in to Owlet… <a href="${u}">continue</a></p></body></html>\n`
  );
}

/** Writes the page (O_EXCL, 0600, random name, never through a symlink); returns its path. */
export function writeHandoverPage(dataDir: string, url: string, opts: { env?: NodeJS.ProcessEnv; now?: number } = {}): string {
  const dir = handoverDir(dataDir, opts.env);
  ensurePrivateDir(dir);
  pruneHandoverPages(dir, opts.now ?? Date.now());
  const file = path.join(dir, `${HANDOVER_PREFIX}${randomBytes(12).toString('hex')}.html`);
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | NOFOLLOW, FILE_MODE);
  try {
    fs.writeSync(fd, handoverPage(url));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

export function pruneHandoverPages(dir: string, now: number): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    if (!n.startsWith(HANDOVER_PREFIX)) continue;
    const f = path.join(dir, n);
    try {
      if (now - fs.lstatSync(f).mtimeMs > MAX_AGE_MS) fs.rmSync(f, { force: true });
    } catch {
      /* gone meanwhile */
    }
  }
}
