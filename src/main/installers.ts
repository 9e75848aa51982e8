import fs from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import type { InstallerStore } from './updater.js';

/**
 * The kept installers the updater rolls back with (`<userData>/installers/<version>/<file>`).
 * Keeps the newest `keepVersions` versions only: each is a full installer (~100 MB).
 * `run` starts an installer and lets the app quit (NSIS .exe and .dmg are opened by the OS; an
 * AppImage is made executable and started), passed in so tests do not run anything.
 */
export function createInstallerStore(o: { dir: string; run: (file: string) => Promise<void>; keepVersions?: number }): InstallerStore {
  const keepVersions = Math.max(2, o.keepVersions ?? 2);
  const versions = (): string[] => {
    try {
      return fs.readdirSync(o.dir).filter((v) => semver.valid(v) !== null).sort(semver.rcompare);
    } catch {
      return [];
    }
  };
  return {
    keep(version, file) {
      if (!semver.valid(version)) throw new Error(`not a version: ${version}`);
      const dir = path.join(o.dir, version);
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      const dest = path.join(dir, path.basename(file));
      fs.copyFileSync(file, dest);
      for (const old of versions().slice(keepVersions)) fs.rmSync(path.join(o.dir, old), { recursive: true, force: true });
      return dest;
    },
    find(version) {
      if (!semver.valid(version)) return null;
      const dir = path.join(o.dir, version);
      try {
        const f = fs.readdirSync(dir)[0];
        return f ? path.join(dir, f) : null;
      } catch {
        return null;
      }
    },
    versions: () => versions().filter((v) => {
      try {
        return fs.readdirSync(path.join(o.dir, v)).length > 0;
      } catch {
        return false;
      }
    }),
    reinstall: (file) => o.run(file),
  };
}
