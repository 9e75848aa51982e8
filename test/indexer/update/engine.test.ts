import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigSchema } from '../../../src/indexer/config/schema.js';
import { decide, fetchSignedManifest, type SignedManifest } from '../../../src/indexer/update/check.js';
import { assertDiskSpace } from '../../../src/indexer/update/disk.js';
import { downloadToFile, fetchBytes, sha512OfFile } from '../../../src/indexer/update/download.js';
import { parseTrustedKeys, trustedKeysDocument, type TrustedKey } from '../../../src/indexer/update/keys.js';
import { artifactName, manifestName, parseManifest, serializeManifest, type Manifest } from '../../../src/indexer/update/manifest.js';
import { effectiveSettings, readPolicy } from '../../../src/indexer/update/policy.js';
import { isRefusal, type RefusalReason } from '../../../src/indexer/update/refusal.js';
import { DEFAULT_UPDATE_CONFIG, nextCheckDelayMs } from '../../../src/indexer/config/update-settings.js';
import { signBytes, verifyBytes } from '../../../src/indexer/update/signature.js';
import { inStagingBucket, markBad, noteInstalled, readState, writeState } from '../../../src/indexer/update/state.js';
import { tmpDir } from '../../helpers/tmp.js';
import { makeKey, serveFeed } from './helpers.js';

function refusedWith(reason: RefusalReason) {
  return (e: unknown) => {
    assert.ok(isRefusal(e), `expected a refusal, got ${String(e)}`);
    assert.equal(e.reason, reason, e.message);
    assert.equal(e.code, 'OWL_ERR_UPDATE_REFUSED');
    return true;
  };
}

const sha = (b: Buffer | string) => crypto.createHash('sha512').update(b).digest('base64');

function manifest(over: Partial<Manifest> = {}): Manifest {
  const v = over.version ?? '1.2.0';
  return {
    version: v,
    files: [{ url: artifactName(v, 'linux', 'x64'), sha512: sha('pkg'), size: 3 }],
    releaseDate: '2026-12-01T10:00:00.000Z',
    expires: '2027-01-01T00:00:00.000Z',
    ...over,
  };
}

const trustedOf = (...keys: ReturnType<typeof makeKey>[]): TrustedKey[] =>
  parseTrustedKeys(JSON.stringify(trustedKeysDocument(keys.map((k) => k.publicKey))), 'test');

describe('the feed manifest (electron-updater format plus expires/staging/minimumVersion)', () => {
  it('round-trips through the YAML electron-updater reads, keeping "1.10.0" a string', () => {
    const m = manifest({ version: '1.10.0', stagingPercentage: 40, minimumVersion: '1.0.0' });
    const back = parseManifest(serializeManifest(m));
    assert.deepEqual(back, m);
  });

  it('reads the manifest electron-builder writes (quoted releaseDate, path and sha512 at top level)', () => {
    const text = [
      'version: 2.0.1',
      'files:',
      `  - url: Owlet-2.0.1.AppImage`,
      `    sha512: ${sha('x')}`,
      '    size: 123456',
      '    blockMapSize: 300',
      'path: Owlet-2.0.1.AppImage',
      `sha512: ${sha('x')}`,
      "releaseDate: '2026-11-30T09:12:00.000Z'",
      "expires: '2026-12-30T09:12:00.000Z'",
      '',
    ].join('\n');
    const m = parseManifest(text);
    assert.equal(m.files[0]?.size, 123456);
    assert.equal(m.path, 'Owlet-2.0.1.AppImage');
  });

  it('refuses malformed manifests with the field at fault', () => {
    assert.throws(() => parseManifest('version: [1'), refusedWith('bad-manifest'));
    assert.throws(() => parseManifest(serializeManifest(manifest()).replace(/expires:.*\n/, '')), /expires/);
    assert.throws(() => parseManifest(serializeManifest(manifest({ version: 'one' }))), /version must be a semantic version/);
    const escaping = manifest();
    escaping.files[0]!.url = '../../etc/passwd';
    assert.throws(() => parseManifest(serializeManifest(escaping)), /relative to the feed/);
    assert.throws(() => parseManifest(serializeManifest(manifest()).replace(/size: 3/, 'size: -3')), /whole number/);
  });

  it('names manifests the way electron-updater looks for them', () => {
    assert.equal(manifestName('latest', 'linux'), 'latest-linux.yml');
    assert.equal(manifestName('latest', 'darwin'), 'latest-mac.yml');
    assert.equal(manifestName('beta', 'win32'), 'beta.yml');
  });
});

describe('Ed25519 signatures over the exact manifest bytes', () => {
  const k1 = makeKey();
  const k2 = makeKey();
  const bytes = Buffer.from(serializeManifest(manifest()));

  it('verifies a signature by a trusted key and names the key', () => {
    assert.equal(verifyBytes(bytes, signBytes(bytes, k1.privateKey), trustedOf(k1, k2)), k1.id);
  });

  it('refuses a manifest altered by one byte after signing (bad-signature)', () => {
    const sig = signBytes(bytes, k1.privateKey);
    const altered = Buffer.from(bytes);
    altered[altered.length - 2] = altered[altered.length - 2]! ^ 1;
    assert.throws(() => verifyBytes(altered, sig, trustedOf(k1)), refusedWith('bad-signature'));
  });

  it('refuses a signature by a key the installation does not trust (unknown-key)', () => {
    assert.throws(() => verifyBytes(bytes, signBytes(bytes, k2.privateKey), trustedOf(k1)), refusedWith('unknown-key'));
  });

  it('refuses a signature relabelled with a trusted key id (bad-signature) and garbage signatures', () => {
    const forged = signBytes(bytes, k2.privateKey).replace(k2.id, k1.id);
    assert.throws(() => verifyBytes(bytes, forged, trustedOf(k1)), refusedWith('bad-signature'));
    assert.throws(() => verifyBytes(bytes, 'hello', trustedOf(k1)), refusedWith('bad-signature'));
    const keyless = signBytes(bytes, k2.privateKey).split('\n')[0]!;
    assert.throws(() => verifyBytes(bytes, keyless, trustedOf(k1)), refusedWith('bad-signature'));
    assert.equal(verifyBytes(bytes, keyless, trustedOf(k1, k2)), k2.id);
  });

  it('rejects a trusted-keys file whose key id does not match its key', () => {
    const doc = trustedKeysDocument([k1.publicKey]);
    doc.keys[0]!.id = k2.id;
    assert.throws(() => parseTrustedKeys(JSON.stringify(doc), 'trusted-keys.json'), refusedWith('bad-release'));
    assert.throws(() => parseTrustedKeys('{"version":1,"keys":[]}', 'trusted-keys.json'), /at least one trusted key/);
  });
});

describe('bounded downloads', () => {
  const dir = tmpDir();
  const feedDir = path.join(dir, 'feed');
  fs.mkdirSync(feedDir);
  const payload = crypto.randomBytes(200_000);
  fs.writeFileSync(path.join(feedDir, 'pkg.bin'), payload);
  const limits = { stallMs: 2_000, deadlineMs: 20_000 };
  let n = 0;
  const target = () => path.join(dir, `dl-${++n}`);

  it('downloads a package, hashing it on the way (sha512 base64 as electron-updater writes it)', async () => {
    const feed = await serveFeed(feedDir);
    const f = target();
    const r = await downloadToFile(`${feed.url}pkg.bin`, f, { ...limits, maxBytes: payload.length, expectedSize: payload.length });
    assert.equal(r.size, payload.length);
    assert.equal(r.sha512, sha(payload));
    assert.equal(await sha512OfFile(f), sha(payload));
  });

  it('cuts off a server that sends more than the manifest allows (endless data) and keeps no file', async () => {
    const feed = await serveFeed(feedDir);
    let sent = 0;
    feed.setOverride((_req, res) => {
      res.writeHead(200);
      const pump = () => {
        while (sent < 50_000_000 && res.write(Buffer.alloc(65536))) sent += 65536;
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
      return true;
    });
    const f = target();
    await assert.rejects(downloadToFile(`${feed.url}pkg.bin`, f, { ...limits, maxBytes: payload.length, expectedSize: payload.length }), refusedWith('too-large'));
    assert.equal(fs.existsSync(f), false);
    assert.ok(sent < 50_000_000, 'the client stopped reading long before the server ran out');
  });

  it('refuses a package whose announced size is not the signed size (size-mismatch), before reading it', async () => {
    const feed = await serveFeed(feedDir);
    const f = target();
    await assert.rejects(downloadToFile(`${feed.url}pkg.bin`, f, { ...limits, maxBytes: payload.length + 10, expectedSize: payload.length + 10 }), refusedWith('size-mismatch'));
    assert.equal(fs.existsSync(f), false);
  });

  it('refuses a body announced bigger than the cap before reading it', async () => {
    const feed = await serveFeed(feedDir);
    await assert.rejects(fetchBytes(`${feed.url}pkg.bin`, { ...limits, maxBytes: 1000 }), refusedWith('too-large'));
  });

  it('refuses a truncated download (connection closed early, or a short complete body)', async () => {
    const feed = await serveFeed(feedDir);
    feed.setOverride((_req, res) => {
      res.writeHead(200, { 'content-length': payload.length });
      res.write(payload.subarray(0, 1000), () => res.destroy());
      return true;
    });
    await assert.rejects(downloadToFile(`${feed.url}pkg.bin`, target(), { ...limits, maxBytes: payload.length, expectedSize: payload.length }), refusedWith('truncated'));
    feed.setOverride((_req, res) => {
      res.writeHead(200).end(payload.subarray(0, 1000));
      return true;
    });
    await assert.rejects(downloadToFile(`${feed.url}pkg.bin`, target(), { ...limits, maxBytes: payload.length, expectedSize: payload.length }), refusedWith('truncated'));
  });

  it('abandons a download that stalls', async () => {
    const feed = await serveFeed(feedDir);
    feed.setOverride((_req, res) => {
      res.writeHead(200, { 'content-length': payload.length });
      res.write(payload.subarray(0, 10));
      return true;
    });
    await assert.rejects(downloadToFile(`${feed.url}pkg.bin`, target(), { stallMs: 300, deadlineMs: 20_000, maxBytes: payload.length, expectedSize: payload.length }), refusedWith('stalled'));
  });

  it('reports an unreachable feed and HTTP errors as feed-unreachable', async () => {
    const feed = await serveFeed(feedDir);
    await assert.rejects(fetchBytes(`${feed.url}missing.yml`, { ...limits, maxBytes: 100 }), refusedWith('feed-unreachable'));
    await feed.close();
    await assert.rejects(fetchBytes(`${feed.url}pkg.bin`, { ...limits, maxBytes: 100 }), refusedWith('feed-unreachable'));
  });
});

describe('checking a feed', () => {
  const k1 = makeKey();
  const dir = tmpDir();
  const now = new Date('2026-12-02T12:00:00Z');
  const settings = effectiveSettings({ ...DEFAULT_UPDATE_CONFIG, feedUrl: 'http://127.0.0.1:1/' }, { file: 'none', status: 'absent', policy: {} });

  function publish(m: Manifest, key = k1): void {
    const bytes = Buffer.from(serializeManifest(m));
    fs.writeFileSync(path.join(dir, 'latest-linux.yml'), bytes);
    fs.writeFileSync(path.join(dir, 'latest-linux.yml.sig'), signBytes(bytes, key.privateKey));
  }

  it('fetches and verifies the manifest, then refuses it when expired (freeze attack) or unsigned', async () => {
    const feed = await serveFeed(dir);
    publish(manifest());
    const signed = await fetchSignedManifest({ feedUrl: feed.url, channel: 'latest', platform: 'linux', trusted: trustedOf(k1), now, stallMs: 2000 });
    assert.equal(signed.manifest.version, '1.2.0');
    assert.equal(signed.keyId, k1.id);
    await assert.rejects(
      fetchSignedManifest({ feedUrl: feed.url, channel: 'latest', platform: 'linux', trusted: trustedOf(k1), now: new Date('2027-02-01T00:00:00Z'), stallMs: 2000 }),
      refusedWith('expired'),
    );
    fs.rmSync(path.join(dir, 'latest-linux.yml.sig'));
    await assert.rejects(fetchSignedManifest({ feedUrl: feed.url, channel: 'latest', platform: 'linux', trusted: trustedOf(k1), now, stallMs: 2000 }), refusedWith('missing-signature'));
  });

  const signed = (m: Manifest): SignedManifest => ({ manifest: m, bytes: Buffer.alloc(0), keyId: k1.id, url: 'x' });
  const state = () => readState(dir);
  const base = { settings, currentVersion: '1.1.0', platform: 'linux' as const, arch: 'x64', feedUrl: 'http://127.0.0.1:1/feed/' };

  it('offers a newer version with the URL of this platform’s package', () => {
    const out = decide({ ...base, signed: signed(manifest()), state: state() });
    assert.equal(out.status, 'available');
    assert.ok(out.status === 'available' && out.url === 'http://127.0.0.1:1/feed/owlet-1.2.0-linux-x64.tar.gz');
    assert.equal(decide({ ...base, signed: signed(manifest({ version: '1.1.0' })), state: state() }).status, 'up-to-date');
    assert.throws(() => decide({ ...base, arch: 'arm64', signed: signed(manifest()), state: state() }), refusedWith('no-artifact'));
  });

  it('refuses versions not above the highest ever installed (rollback attack) and versions marked bad', () => {
    const s = state();
    assert.throws(() => decide({ ...base, signed: signed(manifest({ version: '1.0.9' })), state: s }), refusedWith('not-newer'));
    noteInstalled(s, '1.3.0');
    assert.throws(() => decide({ ...base, signed: signed(manifest({ version: '1.2.0' })), state: s }), refusedWith('not-newer'));
    const s2 = state();
    markBad(s2, '1.2.0', 'never ready', now);
    assert.throws(() => decide({ ...base, signed: signed(manifest()), state: s2 }), refusedWith('marked-bad'));
  });

  it('honours minimumVersion and staged rollouts', () => {
    assert.throws(() => decide({ ...base, signed: signed(manifest({ minimumVersion: '1.1.5' })), state: state() }), refusedWith('minimum-version'));
    assert.equal(decide({ ...base, signed: signed(manifest({ stagingPercentage: 0 })), state: state() }).status, 'staged-out');
    // Buckets are stable per machine and spread across machines.
    const ids = Array.from({ length: 400 }, (_, i) => `id-${i}`);
    const inHalf = ids.filter((id) => inStagingBucket(id, '1.2.0', 50)).length;
    assert.ok(inHalf > 120 && inHalf < 280, `about half the machines take a 50% rollout (got ${inHalf}/400)`);
    assert.equal(inStagingBucket('id-1', '1.2.0', 50), inStagingBucket('id-1', '1.2.0', 50));
  });

  it('lets the machine policy outrank the user configuration', () => {
    const polDir = tmpDir();
    const file = path.join(polDir, 'policy.json');
    assert.equal(readPolicy(file).status, 'absent');
    fs.writeFileSync(file, JSON.stringify({ pinnedVersion: '1.1.x', channel: 'stable', feedUrl: 'https://corp.example/owlet/' }));
    const pinned = effectiveSettings({ ...DEFAULT_UPDATE_CONFIG, feedUrl: 'https://user.example/' }, readPolicy(file));
    assert.equal(pinned.feedUrl, 'https://corp.example/owlet/');
    assert.equal(pinned.channel, 'stable');
    assert.throws(() => decide({ ...base, settings: pinned, signed: signed(manifest()), state: state() }), refusedWith('policy'));
    assert.equal(decide({ ...base, settings: pinned, signed: signed(manifest({ version: '1.1.7' })), state: state() }).status, 'available');
    fs.writeFileSync(file, JSON.stringify({ updatesDisabled: true }));
    const off = effectiveSettings({ ...DEFAULT_UPDATE_CONFIG, feedUrl: 'https://user.example/' }, readPolicy(file));
    assert.equal(off.disabled, true);
    assert.throws(() => decide({ ...base, settings: off, signed: signed(manifest()), state: state() }), refusedWith('policy'));
    // A broken policy file fails closed: updates off, with the reason.
    fs.writeFileSync(file, '{"updatesDisabled": fals');
    const broken = effectiveSettings({ ...DEFAULT_UPDATE_CONFIG, feedUrl: 'https://user.example/' }, readPolicy(file));
    assert.equal(broken.disabled, true);
    assert.match(broken.disabledBy ?? '', /not valid JSON/);
  });

  it('refuses before downloading when the disk cannot hold the package and its tree', () => {
    assert.throws(() => assertDiskSpace(dir, 100 * 1048576, 300 * 1048576, () => 200 * 1048576), refusedWith('disk-space'));
    assertDiskSpace(dir, 1048576, 4 * 1048576, () => 1024 * 1048576);
  });
});

describe('update state and settings', () => {
  it('keeps the highest version installed, bad versions and a stable staging id across reads', () => {
    const dir = tmpDir();
    const s = readState(dir);
    noteInstalled(s, '1.2.0');
    noteInstalled(s, '1.1.0');
    markBad(s, '1.3.0', 'crash loop', new Date());
    writeState(dir, s);
    const back = readState(dir);
    assert.equal(back.highestInstalled, '1.2.0');
    assert.deepEqual(back.bad.map((b) => b.version), ['1.3.0']);
    assert.equal(back.stagingId, s.stagingId);
  });

  it('is part of the one config schema, with defaults and clear errors', () => {
    const c = ConfigSchema.parse({});
    assert.equal(c.updates.checkHours, 6);
    assert.equal(c.updates.healthGate.readySeconds, 30);
    assert.equal(c.updates.healthGate.stableSeconds, 300);
    assert.equal(ConfigSchema.safeParse({ updates: { feedUrl: 'ftp://x' } }).success, false);
    const d = nextCheckDelayMs(6, () => 0)!;
    assert.equal(d, 6 * 3_600_000 * 0.75);
    assert.equal(nextCheckDelayMs(0), null);
  });
});
