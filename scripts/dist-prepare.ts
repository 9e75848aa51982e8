#!/usr/bin/env node
// Runs before `electron-builder` in `npm run dist` (see README, "The tray app"):
//   - OWLET_UPDATE_FEED must be the http(s) URL of the update feed folder: electron-builder's
//     publish.url reads it (${env.OWLET_UPDATE_FEED}) and writes it into the app's app-update.yml;
//   - OWLET_RELEASE_KEY (the Ed25519 release key the sign hook signs the feed with) gives the
//     public key the app trusts, plus any OWLET_TRUST public keys (comma-separated PEM files, for a
//     key rotation): written to trusted-keys.json, which the package ships at its root.
// It fails with a message that says what to set, rather than build an app that cannot update.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { privateKeyFromPem, publicKeyFromPem, TRUSTED_KEYS_FILE, trustedKeysDocument } from '../src/indexer/update/keys.js';

export class DistConfigError extends Error {}

/** A real feed: http(s), a host, and not a reserved placeholder name. */
export function checkFeedUrl(raw: string | undefined): string {
  if (!raw) throw new DistConfigError('OWLET_UPDATE_FEED is not set: set it to the URL of the update feed folder (e.g. https://updates.example.org/owlet/), the same folder `npm run release --out` fills');
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new DistConfigError(`OWLET_UPDATE_FEED=${raw} is not a URL`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new DistConfigError(`OWLET_UPDATE_FEED must be an http:// or https:// URL, not ${u.protocol}`);
  if (/(^|\.)(invalid|example|test|localhost)$/i.test(u.hostname) || /^(example\.(com|org|net))$/i.test(u.hostname)) {
    throw new DistConfigError(`OWLET_UPDATE_FEED points at ${u.hostname}, a reserved placeholder name: installed apps could never update`);
  }
  if (u.protocol === 'http:' && !/^(127\.|\[::1\]$)/.test(u.hostname)) process.stderr.write(`dist: warning: the feed ${raw} is plain http; manifests are signed, but use https for a public feed\n`);
  return u.href.endsWith('/') ? u.href : `${u.href}/`;
}

export function prepareAppPackage(env: NodeJS.ProcessEnv, root: string): { feed: string; trustedKeysFile: string; keyIds: string[] } {
  const feed = checkFeedUrl(env.OWLET_UPDATE_FEED);
  const keyFile = env.OWLET_RELEASE_KEY;
  if (!keyFile) throw new DistConfigError('OWLET_RELEASE_KEY is not set: the path of the Ed25519 release key (PKCS#8 PEM) that signs the feed; the app trusts its public key');
  let pub: crypto.KeyObject;
  try {
    pub = crypto.createPublicKey(privateKeyFromPem(fs.readFileSync(keyFile, 'utf8')));
  } catch (e) {
    throw new DistConfigError(`OWLET_RELEASE_KEY=${keyFile} is not a usable Ed25519 private key: ${(e as Error).message}`);
  }
  const extra = (env.OWLET_TRUST ?? '').split(',').map((s) => s.trim()).filter(Boolean).map((f) => {
    try {
      return publicKeyFromPem(fs.readFileSync(f, 'utf8'));
    } catch (e) {
      throw new DistConfigError(`OWLET_TRUST: ${f} is not a usable Ed25519 public key: ${(e as Error).message}`);
    }
  });
  const doc = trustedKeysDocument([pub, ...extra]);
  const trustedKeysFile = path.join(root, TRUSTED_KEYS_FILE);
  fs.writeFileSync(trustedKeysFile, JSON.stringify(doc, null, 2) + '\n');
  return { feed, trustedKeysFile, keyIds: doc.keys.map((k) => k.id) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
    const r = prepareAppPackage(process.env, root);
    process.stdout.write(`dist: feed ${r.feed}\ndist: the app trusts ${r.keyIds.join(', ')} (${r.trustedKeysFile})\n`);
  } catch (e) {
    process.stderr.write(`dist: ${(e as Error).message}\n`);
    process.exit(2);
  }
}
