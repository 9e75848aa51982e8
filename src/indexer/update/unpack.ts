import fs from 'node:fs';
import path from 'node:path';
import * as tar from 'tar';
import { loadTrustedKeys } from './keys.js';
import { versionRoot, type InstallLayout } from './layout.js';
import { UpdateRefusal } from './refusal.js';

/**
 * Unpacks a verified package into `versions/<v>.partial`, checks it is a runnable Owlet of that
 * version with usable trusted keys, then renames it to `versions/<v>`. Only plain files and folders
 * are extracted (no links, devices or absolute paths), even from a signed package.
 */
export async function unpackRelease(l: InstallLayout, version: string, artifact: string, beforeRename?: () => Promise<void>): Promise<string> {
  const final = versionRoot(l, version);
  const partial = `${final}.partial`;
  fs.rmSync(partial, { recursive: true, force: true });
  fs.mkdirSync(partial, { recursive: true, mode: 0o755 });
  let refused: string | undefined;
  try {
    await tar.x({
      file: artifact,
      cwd: partial,
      strict: true,
      preservePaths: false,
      preserveOwner: false,
      filter: (p, entry) => {
        const type = 'type' in entry ? entry.type : undefined;
        const ok = type === undefined || type === 'File' || type === 'Directory' || type === 'OldFile' || type === 'ContiguousFile';
        if (!ok) refused ??= `${p} is a ${String(type)}`;
        return ok;
      },
    });
  } catch (e) {
    fs.rmSync(partial, { recursive: true, force: true });
    throw new UpdateRefusal('bad-release', `the package cannot be unpacked: ${(e as Error).message}`);
  }
  const fail = (why: string): never => {
    fs.rmSync(partial, { recursive: true, force: true });
    throw new UpdateRefusal('bad-release', why);
  };
  if (refused) fail(`the package holds an entry that is not a file or folder (${refused})`);
  if (!fs.existsSync(path.join(partial, 'bin', 'owlet.js'))) fail('the package has no bin/owlet.js');
  let pkgVersion: unknown;
  try {
    pkgVersion = (JSON.parse(fs.readFileSync(path.join(partial, 'package.json'), 'utf8')) as { version?: unknown }).version;
  } catch (e) {
    fail(`the package's package.json is unreadable: ${(e as Error).message}`);
  }
  if (pkgVersion !== version) fail(`the package says it is ${String(pkgVersion)}, the signed manifest says ${version}`);
  try {
    loadTrustedKeys(partial);
  } catch (e) {
    fail(`the package's trusted keys are unusable (updates would stop working): ${(e as Error).message}`);
  }
  await beforeRename?.();
  fs.rmSync(final, { recursive: true, force: true });
  fs.renameSync(partial, final);
  return final;
}
