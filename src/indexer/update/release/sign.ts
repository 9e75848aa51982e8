import type crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { parseManifest, serializeManifest, type Manifest } from '../manifest.js';
import { signBytes } from '../signature.js';

/**
 * Signing a feed manifest: the `.sig` is written from the exact bytes written, and the bytes are
 * read back and parsed first, so a manifest the engine would refuse is never signed.
 */
export function writeSignedManifest(file: string, m: Manifest, key: crypto.KeyObject): { bytes: Buffer; sigFile: string } {
  const bytes = Buffer.from(serializeManifest(m));
  parseManifest(bytes);
  const sigFile = `${file}.sig`;
  fs.writeFileSync(`${file}.tmp`, bytes);
  fs.writeFileSync(`${sigFile}.tmp`, signBytes(bytes, key));
  // Manifest before signature: a reader between the two renames sees a mismatch and refuses, never a forgery.
  fs.renameSync(`${file}.tmp`, file);
  fs.renameSync(`${sigFile}.tmp`, sigFile);
  return { bytes, sigFile };
}

export function expiryFrom(now: Date, days: number): string {
  return new Date(now.getTime() + days * 86_400_000).toISOString();
}

/**
 * The electron-builder hook's job: electron-builder writes `latest*.yml` without our `expires`;
 * this adds it (and keeps every field electron-builder wrote), then signs. Returns the .sig paths
 * so electron-builder publishes them beside the manifests.
 */
export function signElectronBuilderManifests(outDir: string, key: crypto.KeyObject, opts: { now: Date; expiresDays: number }): string[] {
  const out: string[] = [];
  for (const name of fs.readdirSync(outDir)) {
    if (!/\.yml$/.test(name) || !/^[a-z][a-z0-9-]*(-(mac|linux))?(-[a-z0-9]+)?\.yml$/.test(name) || name === 'builder-debug.yml' || name === 'builder-effective-config.yaml') continue;
    const file = path.join(outDir, name);
    const raw = yaml.load(fs.readFileSync(file, 'utf8'), { schema: yaml.FAILSAFE_SCHEMA }) as Record<string, unknown> | null;
    if (!raw || typeof raw !== 'object' || !('version' in raw) || !('files' in raw)) continue;
    const m = parseManifest(yaml.dump({ ...raw, expires: expiryFrom(opts.now, opts.expiresDays) }, { lineWidth: -1 }));
    out.push(writeSignedManifest(file, m, key).sigFile);
  }
  return out;
}
