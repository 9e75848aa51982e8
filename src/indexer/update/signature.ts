import crypto from 'node:crypto';
import { keyId, type TrustedKey } from './keys.js';
import { UpdateRefusal } from './refusal.js';

/**
 * Detached Ed25519 signatures over the exact bytes of a manifest file. The `.sig` file holds the
 * base64 signature on its first line and `keyid: <id>` on the second, so "signed by a key we do
 * not trust" (unknown-key) is told apart from "altered or forged" (bad-signature). A signature
 * without a key-id line is checked against every trusted key.
 */
export function signBytes(bytes: Uint8Array, privateKey: crypto.KeyObject): string {
  const sig = crypto.sign(null, bytes, privateKey).toString('base64');
  const pub = crypto.createPublicKey(privateKey);
  return `${sig}\nkeyid: ${keyId(pub)}\n`;
}

interface ParsedSignature {
  signature: Buffer;
  keyId: string | undefined;
}

function parseSignature(text: string): ParsedSignature {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const first = lines[0] ?? '';
  if (!/^[A-Za-z0-9+/]{86}==$/.test(first)) throw new UpdateRefusal('bad-signature', 'the .sig file does not hold a base64 Ed25519 signature');
  let id: string | undefined;
  for (const l of lines.slice(1)) {
    const m = /^keyid:\s*([0-9a-f]{16})$/.exec(l);
    if (!m) throw new UpdateRefusal('bad-signature', 'the .sig file has an unexpected line after the signature');
    id = m[1];
  }
  return { signature: Buffer.from(first, 'base64'), keyId: id };
}

/** Returns the id of the trusted key that made the signature; throws a refusal otherwise. */
export function verifyBytes(bytes: Uint8Array, sigText: string, trusted: readonly TrustedKey[]): string {
  const sig = parseSignature(sigText);
  const candidates = sig.keyId === undefined ? trusted : trusted.filter((k) => k.id === sig.keyId);
  if (candidates.length === 0) {
    throw new UpdateRefusal('unknown-key', `the manifest is signed by key ${sig.keyId ?? '?'}, which this installation does not trust`, {
      keyId: sig.keyId ?? null,
      trusted: trusted.map((k) => k.id).join(','),
    });
  }
  for (const k of candidates) {
    if (crypto.verify(null, bytes, k.key, sig.signature)) return k.id;
  }
  throw new UpdateRefusal('bad-signature', 'the manifest signature does not verify: the manifest was altered after signing', { keyId: sig.keyId ?? null });
}
