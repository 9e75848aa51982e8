import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { TRUSTED_KEYS_FILE, trustedKeysDocument } from '../keys.js';
import { artifactName, manifestName, parseManifest, type Manifest, type ManifestFileEntry } from '../manifest.js';
import { expiryFrom, writeSignedManifest } from './sign.js';
import { stageTree } from './stage.js';

/**
 * `npm run release`: builds the headless package `owlet-V-<os>-<arch>.tar.gz` from the built
 * checkout, puts it in the feed folder, and writes and signs `<channel>-<os>.yml`. When the feed
 * already holds a manifest for the same version (electron-builder's, or another architecture's),
 * the package is added to its `files` and the whole manifest is signed again.
 */
export interface ReleaseOptions {
  root: string;
  version: string;
  key: crypto.KeyObject;
  /** Further public keys the new release trusts (key rotation); the signing key is always trusted. */
  trust?: crypto.KeyObject[];
  outDir: string;
  platform?: NodeJS.Platform;
  arch?: string;
  channel?: string;
  now?: Date;
  expiresDays?: number;
  stagingPercentage?: number;
  minimumVersion?: string;
  /** The index schema of this code (store/migrations SCHEMA_VERSION), recorded in the package. */
  schemaVersion?: number;
  /** Top-level entries of `root` to ship (default bin, dist, README.md, LICENSE). */
  entries?: string[];
}

export interface ReleaseResult {
  artifact: string;
  manifest: string;
  signature: string;
  file: ManifestFileEntry;
  trustedKeyIds: string[];
}

export async function cutRelease(o: ReleaseOptions): Promise<ReleaseResult> {
  const platform = o.platform ?? process.platform;
  const arch = o.arch ?? process.arch;
  const now = o.now ?? new Date();
  const channel = o.channel ?? 'latest';
  fs.mkdirSync(o.outDir, { recursive: true });
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'owlet-release-'));
  try {
    const { bytes: unpackedSize } = stageTree({ root: o.root, version: o.version, entries: o.entries, dest: stage, ...(o.schemaVersion !== undefined ? { schemaVersion: o.schemaVersion } : {}) });
    const trustDoc = trustedKeysDocument([crypto.createPublicKey(o.key), ...(o.trust ?? [])]);
    fs.writeFileSync(path.join(stage, TRUSTED_KEYS_FILE), JSON.stringify(trustDoc, null, 2) + '\n');
    const name = artifactName(o.version, platform, arch);
    const artifact = path.join(o.outDir, name);
    const tmp = `${artifact}.tmp`;
    await tar.c({ gzip: { level: 6 }, file: tmp, cwd: stage, portable: true, noMtime: false }, fs.readdirSync(stage));
    fs.renameSync(tmp, artifact);
    const sha512 = crypto.createHash('sha512').update(fs.readFileSync(artifact)).digest('base64');
    const file: ManifestFileEntry = { url: name, sha512, size: fs.statSync(artifact).size, unpackedSize };
    const manifestFile = path.join(o.outDir, manifestName(channel, platform));
    let m: Manifest = {
      version: o.version,
      files: [file],
      releaseDate: now.toISOString(),
      expires: expiryFrom(now, o.expiresDays ?? 30),
      ...(o.stagingPercentage !== undefined ? { stagingPercentage: o.stagingPercentage } : {}),
      ...(o.minimumVersion !== undefined ? { minimumVersion: o.minimumVersion } : {}),
    };
    if (fs.existsSync(manifestFile)) {
      let existing: Manifest | undefined;
      try {
        existing = parseManifest(fs.readFileSync(manifestFile));
      } catch {
        existing = undefined; // unreadable or unsigned-format leftovers are replaced, not merged
      }
      if (existing && existing.version === o.version) {
        m = { ...existing, ...m, files: [...existing.files.filter((f) => f.url !== name), file] };
        if (existing.path !== undefined) m.path = existing.path;
        if (existing.sha512 !== undefined) m.sha512 = existing.sha512;
      }
    }
    const { sigFile } = writeSignedManifest(manifestFile, m, o.key);
    return { artifact, manifest: manifestFile, signature: sigFile, file, trustedKeyIds: trustDoc.keys.map((k) => k.id) };
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}
