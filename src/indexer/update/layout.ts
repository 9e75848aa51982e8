import fs from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { errnoCode } from '../../shared/errors.js';

/**
 * The headless install layout:
 *
 *   PREFIX/versions/<version>/      one extracted release each (bin/owlet.js, dist/, node_modules/, …)
 *   PREFIX/versions/<v>.partial/    an unpack in progress (removed at start-up: never run)
 *   PREFIX/current -> versions/<v>  the active version, switched atomically (new link, then rename)
 *   PREFIX/downloads/               packages being downloaded (removed at start-up)
 *   PREFIX/update-state.json        highest version installed, bad versions, the update in progress
 *
 * A running Owlet knows it is installed when the real path of its bin/owlet.js lies in
 * PREFIX/versions/<version>/; from a source checkout updates are off.
 */
export interface InstallLayout {
  prefix: string;
  versionsDir: string;
  current: string;
  downloads: string;
}

export function layoutOf(prefix: string): InstallLayout {
  return { prefix, versionsDir: path.join(prefix, 'versions'), current: path.join(prefix, 'current'), downloads: path.join(prefix, 'downloads') };
}

export interface Installation {
  layout: InstallLayout;
  /** The version this process runs (its tree's folder name). */
  version: string;
  /** The tree this process runs from. */
  root: string;
}

/** Installed when `binFile`'s real path is PREFIX/versions/<semver>/bin/owlet.js; null from a checkout. */
export function detectInstallation(binFile: string): Installation | null {
  let real: string;
  try {
    real = fs.realpathSync(binFile);
  } catch {
    return null;
  }
  const root = path.dirname(path.dirname(real));
  const version = path.basename(root);
  const versionsDir = path.dirname(root);
  if (path.basename(path.dirname(real)) !== 'bin' || path.basename(real) !== 'owlet.js') return null;
  if (path.basename(versionsDir) !== 'versions' || semver.valid(version) !== version) return null;
  return { layout: layoutOf(path.dirname(versionsDir)), version, root };
}

export function versionRoot(l: InstallLayout, version: string): string {
  return path.join(l.versionsDir, version);
}

export function entryOf(l: InstallLayout, version: string): string {
  return path.join(versionRoot(l, version), 'bin', 'owlet.js');
}

/** The version `current` points at, or null when there is no link yet. */
export function currentVersion(l: InstallLayout): string | null {
  try {
    const target = fs.readlinkSync(l.current);
    const v = path.basename(target);
    return semver.valid(v) === v ? v : null;
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return null;
    throw e;
  }
}

function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // not possible on Windows; rename is still atomic there
  }
}

/**
 * Points `current` at `version`: a new link beside it, then rename over the old one. A reader (or a
 * crash) sees the old link or the new one, never none.
 */
export function switchCurrent(l: InstallLayout, version: string): void {
  if (!fs.existsSync(entryOf(l, version))) throw new Error(`cannot switch to ${version}: ${entryOf(l, version)} is missing`);
  const tmp = `${l.current}.${process.pid}.new`;
  fs.rmSync(tmp, { force: true });
  fs.symlinkSync(path.join('versions', version), tmp, process.platform === 'win32' ? 'junction' : 'dir');
  fs.renameSync(tmp, l.current);
  fsyncDir(l.prefix);
}

/** Complete versions on disk, newest first. */
export function installedVersions(l: InstallLayout): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(l.versionsDir);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return [];
    throw e;
  }
  return names.filter((n) => semver.valid(n) === n && fs.existsSync(path.join(l.versionsDir, n, 'bin', 'owlet.js'))).sort(semver.rcompare);
}

/** Removes leftovers of an interrupted update: `.partial` trees, stray links and downloads. */
export function cleanLeftovers(l: InstallLayout): string[] {
  const removed: string[] = [];
  for (const dir of [l.versionsDir, l.downloads]) {
    let names: string[] = [];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) {
      if (dir === l.downloads || n.endsWith('.partial') || n.endsWith('.old')) {
        fs.rmSync(path.join(dir, n), { recursive: true, force: true });
        removed.push(path.join(dir, n));
      }
    }
  }
  for (const n of fs.existsSync(l.prefix) ? fs.readdirSync(l.prefix) : []) {
    if (/^current\.\d+\.new$/.test(n)) {
      fs.rmSync(path.join(l.prefix, n), { force: true });
      removed.push(path.join(l.prefix, n));
    }
  }
  return removed;
}

/**
 * Keeps the current version and the previous one (the rollback target); older trees are removed.
 * A tree is first renamed to `.old` so a crash mid-delete never leaves a half tree under a version name.
 */
export function prune(l: InstallLayout, keep: readonly (string | null)[]): string[] {
  const removed: string[] = [];
  for (const v of installedVersions(l)) {
    if (keep.includes(v)) continue;
    const old = path.join(l.versionsDir, `${v}.old`);
    fs.renameSync(versionRoot(l, v), old);
    fs.rmSync(old, { recursive: true, force: true });
    removed.push(v);
  }
  return removed;
}
