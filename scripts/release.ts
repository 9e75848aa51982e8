#!/usr/bin/env node
// npm run release -- --version V --key KEY.pem --out FEED [--trust PUB.pem …] [--channel latest]
//   [--expires-days 30] [--staging-percentage N] [--minimum-version V]
// Builds owlet-V-<os>-<arch>.tar.gz from this built checkout, writes <channel>-<os>.yml and signs it.
// KEY.pem: a PKCS#8 Ed25519 private key (`openssl genpkey -algorithm ed25519 -out KEY.pem`); keep it out of the repo.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import semver from 'semver';
import { privateKeyFromPem, publicKeyFromPem } from '../src/indexer/update/keys.js';
import { SCHEMA_VERSION } from '../src/indexer/store/migrations.js';
import { cutRelease } from '../src/indexer/update/release/release.js';

function fail(msg: string): never {
  process.stderr.write(`release: ${msg}\n`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    version: { type: 'string' },
    key: { type: 'string' },
    out: { type: 'string' },
    trust: { type: 'string', multiple: true },
    channel: { type: 'string' },
    'expires-days': { type: 'string' },
    'staging-percentage': { type: 'string' },
    'minimum-version': { type: 'string' },
  },
  strict: true,
});
const version = values.version ?? fail('--version is required (e.g. --version 1.4.0)');
if (semver.valid(version) !== version) fail(`--version ${version} is not a semantic version such as 1.4.0`);
const keyFile = values.key ?? fail('--key KEY.pem is required (openssl genpkey -algorithm ed25519 -out KEY.pem)');
const out = path.resolve(values.out ?? fail('--out FEED (the feed folder) is required'));
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
if (!fs.existsSync(path.join(root, 'dist', 'indexer', 'cli', 'main.js'))) fail('dist/ is missing: run npm run build first');
let key;
try {
  key = privateKeyFromPem(fs.readFileSync(keyFile, 'utf8'));
} catch (e) {
  fail(`cannot use ${keyFile} as the signing key: ${(e as Error).message}`);
}
const trust = (values.trust ?? []).map((f) => {
  try {
    return publicKeyFromPem(fs.readFileSync(f, 'utf8'));
  } catch (e) {
    return fail(`cannot use ${f} as a trusted public key: ${(e as Error).message}`);
  }
});
const num = (v: string | undefined, what: string) => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) fail(`${what} must be a non-negative number`);
  return n;
};
const r = await cutRelease({
  root,
  version,
  key,
  trust,
  outDir: out,
  channel: values.channel,
  expiresDays: num(values['expires-days'], '--expires-days'),
  stagingPercentage: num(values['staging-percentage'], '--staging-percentage'),
  minimumVersion: values['minimum-version'],
  schemaVersion: SCHEMA_VERSION,
});
process.stdout.write(
  `release ${version}\n  package   ${r.artifact} (${(r.file.size / 1048576).toFixed(1)} MB, ${((r.file.unpackedSize ?? 0) / 1048576).toFixed(1)} MB unpacked)\n` +
    `  manifest  ${r.manifest}\n  signature ${r.signature}\n  trusts    ${r.trustedKeyIds.join(', ')}\n`,
);
