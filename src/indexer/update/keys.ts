import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { UpdateRefusal } from './refusal.js';

/**
 * The release-signing keys an installation trusts. They ship inside every release as
 * `trusted-keys.json`, so the keys in force are those of the running version: a new key becomes
 * trusted only by installing a release whose manifest an already-trusted key signed (rotation).
 */
export const TRUSTED_KEYS_FILE = 'trusted-keys.json';

const TrustedKeysSchema = z
  .object({
    version: z.literal(1),
    keys: z
      .array(
        z
          .object({
            id: z.string().regex(/^[0-9a-f]{16}$/, 'a key id is 16 lower-case hex digits'),
            publicKey: z.string().includes('BEGIN PUBLIC KEY', { message: 'publicKey must be a PEM SPKI public key' }),
          })
          .strict(),
      )
      .min(1, 'at least one trusted key is required'),
  })
  .strict();

export type TrustedKeysFile = z.infer<typeof TrustedKeysSchema>;

export interface TrustedKey {
  id: string;
  key: crypto.KeyObject;
}

/** A key id: the first 8 bytes (hex) of SHA-256 over the DER public key. Stable and short. */
export function keyId(publicKey: crypto.KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return crypto.createHash('sha256').update(der).digest('hex').slice(0, 16);
}

export function publicKeyFromPem(pem: string): crypto.KeyObject {
  const k = crypto.createPublicKey(pem);
  if (k.asymmetricKeyType !== 'ed25519') throw new Error(`expected an Ed25519 public key, got ${k.asymmetricKeyType ?? 'unknown'}`);
  return k;
}

/** Reads a PKCS#8 Ed25519 private key (as `openssl genpkey -algorithm ed25519` writes it). */
export function privateKeyFromPem(pem: string): crypto.KeyObject {
  const k = crypto.createPrivateKey(pem);
  if (k.asymmetricKeyType !== 'ed25519') throw new Error(`expected an Ed25519 private key, got ${k.asymmetricKeyType ?? 'unknown'}`);
  return k;
}

export function trustedKeysDocument(keys: crypto.KeyObject[]): TrustedKeysFile {
  const seen = new Map<string, string>();
  for (const k of keys) seen.set(keyId(k), k.export({ type: 'spki', format: 'pem' }).toString());
  return { version: 1, keys: [...seen].map(([id, publicKey]) => ({ id, publicKey })) };
}

/** Parses a trusted-keys document; the id of every key is recomputed so a mislabelled key is an error. */
export function parseTrustedKeys(text: string, source: string): TrustedKey[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UpdateRefusal('bad-release', `${source} is not valid JSON: ${(e as Error).message}`);
  }
  const r = TrustedKeysSchema.safeParse(raw);
  if (!r.success) throw new UpdateRefusal('bad-release', `${source}: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data.keys.map((k) => {
    let key: crypto.KeyObject;
    try {
      key = publicKeyFromPem(k.publicKey);
    } catch (e) {
      throw new UpdateRefusal('bad-release', `${source}: key ${k.id} is unusable: ${(e as Error).message}`);
    }
    if (keyId(key) !== k.id) throw new UpdateRefusal('bad-release', `${source}: key ${k.id} has the id ${keyId(key)}`);
    return { id: k.id, key };
  });
}

/** The keys trusted by the release tree rooted at `appRoot`. */
export function loadTrustedKeys(appRoot: string): TrustedKey[] {
  const file = path.join(appRoot, TRUSTED_KEYS_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UpdateRefusal('bad-release', `cannot read ${file}: ${(e as Error).message}`);
  }
  return parseTrustedKeys(text, file);
}
