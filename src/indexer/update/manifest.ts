import yaml from 'js-yaml';
import semver from 'semver';
import { z } from 'zod';
import { UpdateRefusal } from './refusal.js';

/**
 * electron-updater's feed manifest (`latest-linux.yml`, `latest-mac.yml`, `latest.yml`) plus our
 * fields: `expires` (freeze attack), `stagingPercentage`, `minimumVersion`, and per file an
 * optional `unpackedSize` (for the disk-space check before a headless install).
 *
 * Parsed with YAML's failsafe schema: every scalar is a string, so "1.10" never becomes 1.1 and
 * nothing in the file can construct objects; numbers are converted and checked here.
 */
const intString = (what: string) =>
  z
    .union([z.string(), z.number()])
    .transform((v) => String(v))
    .refine((v) => /^\d{1,15}$/.test(v), { message: `${what} must be a whole number of bytes` })
    .transform((v) => Number(v));

const isoDate = (what: string) =>
  z.string().refine((v) => /^\d{4}-\d{2}-\d{2}T/.test(v) && !Number.isNaN(Date.parse(v)), { message: `${what} must be an ISO 8601 date-time` });

const sha512 = z.string().refine((v) => /^[A-Za-z0-9+/]{86}==$/.test(v), { message: 'sha512 must be 64 bytes in base64' });

const relativeUrl = z.string().min(1).refine((v) => !v.includes('..') && !v.startsWith('/') && !/^[a-z][a-z0-9+.-]*:/i.test(v) && !v.includes('\\'), {
  message: 'file urls must be plain names relative to the feed (no scheme, no "..", no leading slash)',
});

export const ManifestFile = z.object({
  url: relativeUrl,
  sha512,
  size: intString('size'),
  unpackedSize: intString('unpackedSize').optional(),
  blockMapSize: intString('blockMapSize').optional(),
});

export const ManifestSchema = z.object({
  version: z.string().refine((v) => semver.valid(v) === v, { message: 'version must be a semantic version such as 1.4.2' }),
  files: z.array(ManifestFile).min(1, 'files must list at least one package'),
  path: z.string().optional(),
  sha512: sha512.optional(),
  releaseDate: isoDate('releaseDate'),
  expires: isoDate('expires'),
  stagingPercentage: z
    .union([z.string(), z.number()])
    .transform((v) => Number(v))
    .refine((v) => Number.isFinite(v) && v >= 0 && v <= 100, { message: 'stagingPercentage must be between 0 and 100' })
    .optional(),
  minimumVersion: z.string().refine((v) => semver.valid(v) === v, { message: 'minimumVersion must be a semantic version' }).optional(),
  releaseName: z.string().optional(),
  releaseNotes: z.string().optional(),
});

export type Manifest = z.infer<typeof ManifestSchema>;
export type ManifestFileEntry = z.infer<typeof ManifestFile>;

export type OsName = 'linux' | 'mac' | 'windows';

export function osName(platform: NodeJS.Platform): OsName {
  return platform === 'darwin' ? 'mac' : platform === 'win32' ? 'windows' : 'linux';
}

/** electron-updater's naming: `<channel>.yml` on Windows, `<channel>-mac.yml`, `<channel>-linux.yml`. */
export function manifestName(channel: string, platform: NodeJS.Platform): string {
  const os = osName(platform);
  return os === 'windows' ? `${channel}.yml` : `${channel}-${os}.yml`;
}

/** The headless package of one release for one platform. */
export function artifactName(version: string, platform: NodeJS.Platform, arch: string): string {
  return `owlet-${version}-${osName(platform)}-${arch}.tar.gz`;
}

/** Parses the manifest bytes (already signature-checked by the caller) into a validated Manifest. */
export function parseManifest(bytes: Uint8Array | string): Manifest {
  const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8');
  let raw: unknown;
  try {
    raw = yaml.load(text, { schema: yaml.FAILSAFE_SCHEMA });
  } catch (e) {
    throw new UpdateRefusal('bad-manifest', `the manifest is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const r = ManifestSchema.safeParse(raw);
  if (!r.success) {
    const what = r.error.issues.map((i) => `${i.path.length ? i.path.map(String).join('.') : '(top level)'}: ${i.message}`).join('; ');
    throw new UpdateRefusal('bad-manifest', what);
  }
  return r.data;
}

/** Writes a manifest in the layout electron-builder uses (so electron-updater reads it unchanged). */
export function serializeManifest(m: Manifest): string {
  const ordered: Record<string, unknown> = {
    version: m.version,
    files: m.files.map((f) => ({ ...f })),
    ...(m.path !== undefined ? { path: m.path } : {}),
    ...(m.sha512 !== undefined ? { sha512: m.sha512 } : {}),
    releaseDate: m.releaseDate,
    expires: m.expires,
    ...(m.stagingPercentage !== undefined ? { stagingPercentage: m.stagingPercentage } : {}),
    ...(m.minimumVersion !== undefined ? { minimumVersion: m.minimumVersion } : {}),
    ...(m.releaseName !== undefined ? { releaseName: m.releaseName } : {}),
    ...(m.releaseNotes !== undefined ? { releaseNotes: m.releaseNotes } : {}),
  };
  return yaml.dump(ordered, { lineWidth: -1, quotingType: "'", forceQuotes: false });
}

/** The file entry for this platform's headless package, or a refusal naming what was expected. */
export function pickArtifact(m: Manifest, platform: NodeJS.Platform, arch: string): ManifestFileEntry {
  const want = artifactName(m.version, platform, arch);
  const f = m.files.find((x) => x.url === want);
  if (!f) throw new UpdateRefusal('no-artifact', `release ${m.version} has no ${want}`, { want });
  return f;
}

/** Refuses a manifest whose `expires` lies in the past (a feed frozen at an old release). */
export function assertNotExpired(m: Manifest, now: Date): void {
  if (Date.parse(m.expires) <= now.getTime()) {
    throw new UpdateRefusal('expired', `the manifest for ${m.version} expired on ${m.expires}`, { expires: m.expires });
  }
}
