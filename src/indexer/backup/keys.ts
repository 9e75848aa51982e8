import crypto from 'node:crypto';

/**
 * The secrets behind backups, all derived from the installation's data keys, which live in its
 * key store (keychain, Electron safeStorage or the key file): nothing new to store or hand over,
 * and a backup stays readable after `owlet key rotate` through the retired key that wrote it.
 *
 *   keyId(k)          which key a backup was written with (an HMAC of a constant, not the key)
 *   backupSecret(k)   encrypts backup chunks (sealed.ts derives one key per file from it)
 *   macKey(k)         authenticates manifests: a file planted in the backup folder, by anyone
 *                     without the key, is not a backup of this installation
 */

export function keyId(key: Buffer | null): string | null {
  return key ? crypto.createHmac('sha256', key).update('owlet backup key id v1').digest('hex').slice(0, 16) : null;
}

function derive(key: Buffer, info: string): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', key, Buffer.alloc(0), info, 32));
}

export function backupSecret(key: Buffer): Buffer {
  return derive(key, 'owlet backup secret v2');
}

export function macKey(key: Buffer): Buffer {
  return derive(key, 'owlet backup manifest mac v2');
}

/** The key among `keys` whose id is `id`, or null. */
export function keyFor(keys: readonly Buffer[], id: string | null): Buffer | null {
  if (!id) return null;
  return keys.find((k) => keyId(k) === id) ?? null;
}

/** A stable serialisation (sorted keys) of the manifest without its `mac`, for the MAC. */
export function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(',')}}`;
}

export function manifestMac(key: Buffer, body: Record<string, unknown>): string {
  const { mac: _mac, ...rest } = body;
  return crypto.createHmac('sha256', macKey(key)).update(canonical(rest)).digest('hex');
}

export function macMatches(key: Buffer, body: Record<string, unknown>, mac: string): boolean {
  const want = Buffer.from(manifestMac(key, body), 'hex');
  const got = Buffer.from(mac, 'hex');
  return got.length === want.length && crypto.timingSafeEqual(got, want);
}
