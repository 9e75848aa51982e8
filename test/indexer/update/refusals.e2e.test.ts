import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { manifestName, parseManifest, serializeManifest, type Manifest } from '../../../src/indexer/update/manifest.js';
import { cutRelease } from '../../../src/indexer/update/release/release.js';
import { signBytes } from '../../../src/indexer/update/signature.js';
import { readState, updateState } from '../../../src/indexer/update/state.js';
import { tmpDir } from '../../helpers/tmp.js';
import { makeKey, serveFeed, type FeedServer } from './helpers.js';
import { fixtureRoot, installBase, ready, runCli, snapshotInstall, startRun, stopRun, type Install, type Running } from './installed.js';

/**
 * Every refusal of issue #12 through the real path: a real `owlet run` installed under a temp
 * PREFIX (1.0.0), a real feed on 127.0.0.1 offering 1.1.0 in a hostile variant per test, and
 * `owlet update apply`. Each must answer `refused` with its reason, leave `current`, `versions/`
 * and `downloads/` as they were, and cost no downtime: the same service process answers ready at
 * 10 Hz throughout. One installation serves every case.
 */
const key = makeKey();
const stranger = makeKey();
const work = tmpDir();
const feedDir = path.join(work, 'feed');
const goodDir = path.join(work, 'good');
const policyFile = path.join(work, 'policy.json');
const mName = manifestName('latest', process.platform);

fs.mkdirSync(feedDir, { recursive: true });
// At the top level: serveFeed closes the server in an `after` of its caller's scope.
const feed: FeedServer = await serveFeed(feedDir);
let inst: Install;
let run: Running | undefined;
let good: Manifest;
let goodBytes: Buffer;
let artifactName: string;
let probes = { ok: 0, failed: 0 };
let probing = true;
let prober: Promise<void> | undefined;

/** Writes `m` (or raw bytes) as the served manifest, signed by `signer` unless a signature is given. */
function publish(m: Manifest | Buffer, signer = key, sig?: string): void {
  const bytes = Buffer.isBuffer(m) ? m : Buffer.from(serializeManifest(m));
  fs.writeFileSync(path.join(feedDir, mName), bytes);
  fs.writeFileSync(path.join(feedDir, `${mName}.sig`), sig ?? signBytes(bytes, signer.privateKey));
}

async function applyRefused(reason: string): Promise<{ message: string }> {
  const before = snapshotInstall(inst);
  probes = { ok: 0, failed: 0 };
  const r = await runCli([inst.bin, 'update', 'apply', '--json', '--data-dir', inst.dataDir]);
  const out = JSON.parse(r.stdout) as { outcome: string; reason?: string; message?: string; from: string };
  assert.equal(out.outcome, 'refused', r.stdout + r.stderr);
  assert.equal(out.reason, reason, out.message);
  assert.ok(out.message && out.message.length > 20, `a clear reason: ${out.message}`);
  assert.equal(out.from, '1.0.0');
  assert.deepEqual(snapshotInstall(inst), before, 'nothing changed on disk, same service and supervisor');
  assert.ok(!fs.readdirSync(inst.l.versionsDir).some((v) => v.endsWith('.partial')), 'no .partial left');
  assert.equal(readState(inst.prefix).pending, null);
  assert.ok(probes.ok > 0, 'the prober ran');
  assert.equal(probes.failed, 0, 'no downtime: every readiness probe answered');
  return { message: out.message };
}

describe('update refusals end to end (real owlet run, hostile feed)', () => {
  before(async () => {
    inst = await installBase(work, key, { version: '1.0.0', feedUrl: feed.url, updates: { stallSeconds: 2, healthGate: { readySeconds: 60, stableSeconds: 2 } } });
    const rel = await cutRelease({ root: fixtureRoot(work, 'good'), version: '1.1.0', key: key.privateKey, outDir: goodDir, schemaVersion: 0 });
    artifactName = path.basename(rel.artifact);
    goodBytes = fs.readFileSync(rel.manifest);
    good = parseManifest(goodBytes);
    fs.copyFileSync(rel.artifact, path.join(feedDir, artifactName));
    run = await startRun(inst, { OWLET_POLICY_FILE: policyFile });
    prober = (async () => {
      while (probing) {
        if (await ready(run!.url)) probes.ok++;
        else probes.failed++;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
  });
  after(async () => {
    probing = false;
    await prober;
    await stopRun(run);
  });

  it('refuses a manifest whose signature does not verify (altered after signing)', async () => {
    const sig = signBytes(goodBytes, key.privateKey);
    publish(Buffer.from(goodBytes.toString('utf8').replace('1.1.0', '1.1.1')), key, sig);
    await applyRefused('bad-signature');
  });

  it('refuses a manifest signed by a key this installation does not trust', async () => {
    publish(good, stranger);
    await applyRefused('unknown-key');
  });

  it('refuses a package whose sha512 is not the signed one (same size, altered bytes)', async () => {
    publish(good);
    const real = fs.readFileSync(path.join(goodDir, artifactName));
    const altered = Buffer.from(real);
    const mid = altered.length >> 1;
    altered.writeUInt8(altered.readUInt8(mid) ^ 0xff, mid);
    fs.writeFileSync(path.join(feedDir, artifactName), altered);
    try {
      await applyRefused('sha512-mismatch');
    } finally {
      fs.writeFileSync(path.join(feedDir, artifactName), real);
    }
  });

  it('refuses a package whose size is not the signed size', async () => {
    publish({ ...good, files: good.files.map((f) => ({ ...f, size: f.size - 100 })) });
    await applyRefused('size-mismatch');
  });

  it('refuses a truncated download (the connection closes early)', async () => {
    publish(good);
    const real = fs.readFileSync(path.join(goodDir, artifactName));
    feed.setOverride((req, res) => {
      if (!req.url?.endsWith('.tar.gz')) return false;
      res.writeHead(200, { 'content-length': real.length });
      res.write(real.subarray(0, real.length >> 1), () => res.destroy());
      return true;
    });
    try {
      await applyRefused('truncated');
    } finally {
      feed.setOverride(null);
    }
  });

  it('refuses an endless download (more bytes than signed: cut off) and a stalled one', async () => {
    publish(good);
    let sent = 0;
    feed.setOverride((req, res) => {
      if (!req.url?.endsWith('.tar.gz')) return false;
      res.writeHead(200);
      const pump = () => {
        while (sent < 500_000_000 && !res.destroyed && res.write(Buffer.alloc(65536))) sent += 65536;
        if (!res.destroyed && sent < 500_000_000) res.once('drain', pump);
      };
      pump();
      return true;
    });
    try {
      await applyRefused('too-large');
      assert.ok(sent < 500_000_000, 'the supervisor stopped reading long before the server ran out');
      feed.setOverride((req, res) => {
        if (!req.url?.endsWith('.tar.gz')) return false;
        res.writeHead(200);
        res.write(Buffer.alloc(1000)); // then nothing, until the supervisor gives up
        return true;
      });
      await applyRefused('stalled');
    } finally {
      feed.setOverride(null);
    }
  });

  it('refuses an expired manifest (freeze attack)', async () => {
    publish({ ...good, expires: new Date(Date.now() - 60_000).toISOString() });
    await applyRefused('expired');
  });

  it('refuses a version not newer than the highest ever installed (rollback attack)', async () => {
    publish({ ...good, version: '0.9.0' });
    await applyRefused('not-newer');
    // Also below the highest installed, though above the running version.
    updateState(inst.prefix, (s) => void (s.highestInstalled = '1.5.0'));
    try {
      publish(good);
      const { message } = await applyRefused('not-newer');
      assert.match(message, /1\.5\.0/);
    } finally {
      updateState(inst.prefix, (s) => void (s.highestInstalled = null));
    }
  });

  it('refuses a version the machine policy forbids (a pinned version)', async () => {
    publish(good);
    fs.writeFileSync(policyFile, JSON.stringify({ pinnedVersion: '1.0.x' }));
    try {
      const { message } = await applyRefused('policy');
      assert.match(message, /1\.0\.x/);
    } finally {
      fs.rmSync(policyFile);
    }
  });

  it('refuses when the disk has no room for the package and its unpacked tree (a signed 100 TB release)', async () => {
    publish({ ...good, files: good.files.map((f) => ({ ...f, unpackedSize: 10 ** 14 })) });
    await applyRefused('disk-space');
  });
});
