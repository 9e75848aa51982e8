import semver from 'semver';
import { fetchBytes } from './download.js';
import type { TrustedKey } from './keys.js';
import { assertNotExpired, manifestName, parseManifest, pickArtifact, type Manifest, type ManifestFileEntry } from './manifest.js';
import { policyForbids, type EffectiveUpdateSettings } from './policy.js';
import { UpdateRefusal } from './refusal.js';
import { verifyBytes } from './signature.js';
import { inStagingBucket, isBad, type UpdateState } from './state.js';

/** Manifests and signatures are small; anything bigger is not one of ours. */
export const MANIFEST_MAX_BYTES = 1024 * 1024;
export const SIGNATURE_MAX_BYTES = 4096;

export interface SignedManifest {
  manifest: Manifest;
  /** The exact bytes that were verified (the Electron adapter hands them on unchanged). */
  bytes: Buffer;
  keyId: string;
  url: string;
}

function feedFile(feedUrl: string, name: string): string {
  return new URL(name, feedUrl.endsWith('/') ? feedUrl : `${feedUrl}/`).href;
}

export function artifactUrl(feedUrl: string, file: ManifestFileEntry): string {
  return feedFile(feedUrl, file.url);
}

/**
 * Fetches `<channel>-<os>.yml` and its `.sig`, verifies the signature over the exact bytes with
 * the trusted keys, then parses and checks expiry. Nothing from the manifest is believed before
 * the signature verifies.
 */
export async function fetchSignedManifest(opts: {
  feedUrl: string;
  channel: string;
  platform: NodeJS.Platform;
  trusted: readonly TrustedKey[];
  now: Date;
  stallMs: number;
}): Promise<SignedManifest> {
  const url = feedFile(opts.feedUrl, manifestName(opts.channel, opts.platform));
  const limits = { stallMs: opts.stallMs, deadlineMs: Math.max(opts.stallMs * 2, 10_000) };
  const bytes = await fetchBytes(url, { ...limits, maxBytes: MANIFEST_MAX_BYTES });
  let sig: Buffer;
  try {
    sig = await fetchBytes(`${url}.sig`, { ...limits, maxBytes: SIGNATURE_MAX_BYTES });
  } catch (e) {
    if (e instanceof UpdateRefusal && e.reason === 'feed-unreachable') throw new UpdateRefusal('missing-signature', `cannot fetch ${url}.sig: ${e.message}`);
    throw e;
  }
  const keyId = verifyBytes(bytes, sig.toString('utf8'), opts.trusted);
  const manifest = parseManifest(bytes);
  assertNotExpired(manifest, opts.now);
  return { manifest, bytes, keyId, url };
}

export type CheckOutcome =
  | { status: 'up-to-date'; version: string; manifest: SignedManifest }
  | { status: 'staged-out'; version: string; manifest: SignedManifest }
  | { status: 'available'; version: string; manifest: SignedManifest; artifact: ManifestFileEntry; url: string };

/**
 * Decides whether the verified manifest offers an update this installation may take. Refusals
 * (thrown) are attacks or policy; `up-to-date` and `staged-out` are ordinary answers.
 */
export function decide(opts: {
  signed: SignedManifest;
  settings: EffectiveUpdateSettings;
  currentVersion: string;
  state: UpdateState;
  platform: NodeJS.Platform;
  arch: string;
  feedUrl: string;
}): CheckOutcome {
  const { signed, state } = opts;
  const m = signed.manifest;
  if (m.version === opts.currentVersion) return { status: 'up-to-date', version: m.version, manifest: signed };
  if (isBad(state, m.version)) throw new UpdateRefusal('marked-bad', `version ${m.version} failed its health gate here before`, { version: m.version });
  const floor = state.highestInstalled !== null && semver.gt(state.highestInstalled, opts.currentVersion) ? state.highestInstalled : opts.currentVersion;
  if (!semver.gt(m.version, floor)) {
    throw new UpdateRefusal('not-newer', `the feed offers ${m.version}, not newer than ${floor} (the highest version installed here)`, { offered: m.version, highest: floor });
  }
  const forbidden = policyForbids(opts.settings, m.version);
  if (forbidden) throw new UpdateRefusal('policy', forbidden, { version: m.version });
  if (m.minimumVersion !== undefined && semver.lt(opts.currentVersion, m.minimumVersion)) {
    throw new UpdateRefusal('minimum-version', `${m.version} needs at least ${m.minimumVersion} installed; this is ${opts.currentVersion}`);
  }
  if (!inStagingBucket(state.stagingId, m.version, m.stagingPercentage)) return { status: 'staged-out', version: m.version, manifest: signed };
  const artifact = pickArtifact(m, opts.platform, opts.arch);
  return { status: 'available', version: m.version, manifest: signed, artifact, url: artifactUrl(opts.feedUrl, artifact) };
}
