import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import * as tar from 'tar';
import { loadTrustedKeys } from '../../../src/indexer/update/keys.js';
import { parseManifest, serializeManifest } from '../../../src/indexer/update/manifest.js';
import { cutRelease } from '../../../src/indexer/update/release/release.js';
import { signElectronBuilderManifests } from '../../../src/indexer/update/release/sign.js';
import { verifyBytes } from '../../../src/indexer/update/signature.js';
import { tmpDir, writeTree } from '../../helpers/tmp.js';
import { makeKey } from './helpers.js';

/** A checkout in miniature: a launcher, compiled code, one production and one dev dependency, a native leftover. */
function fixtureCheckout(dir: string): void {
  writeTree(dir, {
    'bin/owlet.js': 'console.log("owlet")\n',
    'dist/indexer/cli/main.js': 'export const x = 1;\n',
    'dist/indexer/cli/main.js.map': '{}',
    'package.json': JSON.stringify({ name: 'owlet', version: '0.0.1', type: 'module', scripts: { build: 'tsc' }, devDependencies: { devdep: '1.0.0' } }),
    'package-lock.json': JSON.stringify({
      lockfileVersion: 3,
      packages: {
        '': { name: 'owlet' },
        'node_modules/proddep': { version: '1.0.0' },
        'node_modules/proddep/node_modules/nested': { version: '2.0.0' },
        'node_modules/native': { version: '1.0.0' },
        'node_modules/devdep': { version: '1.0.0', dev: true },
      },
    }),
    'node_modules/proddep/index.js': 'module.exports = 1;\n',
    'node_modules/proddep/node_modules/nested/index.js': 'module.exports = 2;\n',
    'node_modules/native/binding.gyp': '{}',
    'node_modules/native/build/Release/native.node': 'ELF',
    'node_modules/native/build/Release/obj.target/native.o': 'object code',
    'node_modules/devdep/index.js': 'dev only\n',
    'src/secret-source.ts': 'not shipped\n',
  });
}

async function listTar(file: string): Promise<string[]> {
  const names: string[] = [];
  await tar.t({ file, onReadEntry: (e) => void names.push(e.path.replace(/\/$/, '')) });
  return names;
}

describe('npm run release (cutRelease)', () => {
  const root = tmpDir();
  fixtureCheckout(root);
  const k1 = makeKey();
  const k2 = makeKey();

  it('packs a runnable tree with production modules only, the release version and its trusted keys', async () => {
    const feed = path.join(tmpDir(), 'feed');
    const r = await cutRelease({ root, version: '1.4.0', key: k1.privateKey, trust: [k2.publicKey], outDir: feed, platform: 'linux', arch: 'x64' });
    assert.equal(path.basename(r.artifact), 'owlet-1.4.0-linux-x64.tar.gz');
    const names = await listTar(r.artifact);
    for (const want of ['bin/owlet.js', 'dist/indexer/cli/main.js', 'package.json', 'trusted-keys.json', 'node_modules/proddep/index.js', 'node_modules/proddep/node_modules/nested/index.js', 'node_modules/native/build/Release/native.node']) {
      assert.ok(names.includes(want), `${want} is in the package`);
    }
    for (const never of ['node_modules/devdep/index.js', 'dist/indexer/cli/main.js.map', 'src/secret-source.ts', 'node_modules/native/build/Release/obj.target/native.o']) {
      assert.ok(!names.includes(never), `${never} is not in the package`);
    }
    const out = tmpDir();
    await tar.x({ file: r.artifact, cwd: out });
    const pkg = JSON.parse(fs.readFileSync(path.join(out, 'package.json'), 'utf8'));
    assert.equal(pkg.version, '1.4.0');
    assert.equal(pkg.devDependencies, undefined);
    assert.deepEqual(loadTrustedKeys(out).map((k) => k.id).sort(), [k1.id, k2.id].sort());
    // The checkout itself is not pruned.
    assert.ok(fs.existsSync(path.join(root, 'node_modules/devdep/index.js')));
  });

  it('writes a manifest whose sha512 and size match the package, signed by the release key', async () => {
    const feed = path.join(tmpDir(), 'feed');
    const r = await cutRelease({ root, version: '1.4.0', key: k1.privateKey, outDir: feed, platform: 'linux', arch: 'x64', stagingPercentage: 25, now: new Date('2026-12-01T00:00:00Z'), expiresDays: 10 });
    const bytes = fs.readFileSync(r.manifest);
    assert.equal(verifyBytes(bytes, fs.readFileSync(r.signature, 'utf8'), loadTrustedKeysFromDoc(k1)), k1.id);
    const m = parseManifest(bytes);
    assert.equal(m.expires, '2026-12-11T00:00:00.000Z');
    assert.equal(m.stagingPercentage, 25);
    const f = m.files[0]!;
    assert.equal(f.size, fs.statSync(r.artifact).size);
    assert.equal(f.sha512, crypto.createHash('sha512').update(fs.readFileSync(r.artifact)).digest('base64'));
    assert.ok((f.unpackedSize ?? 0) > 0);
  });

  it('adds the headless package to electron-builder’s manifest of the same version and signs the whole', async () => {
    const feed = path.join(tmpDir(), 'feed');
    fs.mkdirSync(feed);
    const appSha = crypto.createHash('sha512').update('app').digest('base64');
    fs.writeFileSync(
      path.join(feed, 'latest-linux.yml'),
      `version: 1.4.0\nfiles:\n  - url: Owlet-1.4.0.AppImage\n    sha512: ${appSha}\n    size: 99\npath: Owlet-1.4.0.AppImage\nsha512: ${appSha}\nreleaseDate: '2026-12-01T00:00:00.000Z'\nexpires: '2027-12-01T00:00:00.000Z'\n`,
    );
    await cutRelease({ root, version: '1.4.0', key: k1.privateKey, outDir: feed, platform: 'linux', arch: 'x64' });
    const r = await cutRelease({ root, version: '1.4.0', key: k1.privateKey, outDir: feed, platform: 'linux', arch: 'arm64' });
    const m = parseManifest(fs.readFileSync(r.manifest));
    assert.deepEqual(m.files.map((f) => f.url), ['Owlet-1.4.0.AppImage', 'owlet-1.4.0-linux-x64.tar.gz', 'owlet-1.4.0-linux-arm64.tar.gz']);
    assert.equal(m.path, 'Owlet-1.4.0.AppImage');
  });

  it('signs the latest*.yml electron-builder wrote (afterAllArtifactBuild), adding expires', () => {
    const out = tmpDir();
    const sha = crypto.createHash('sha512').update('x').digest('base64');
    fs.writeFileSync(path.join(out, 'latest-mac.yml'), `version: 2.0.0\nfiles:\n  - url: Owlet-2.0.0-mac.zip\n    sha512: ${sha}\n    size: 5\npath: Owlet-2.0.0-mac.zip\nsha512: ${sha}\nreleaseDate: '2026-12-01T00:00:00.000Z'\n`);
    fs.writeFileSync(path.join(out, 'builder-debug.yml'), 'x: 1\n');
    const sigs = signElectronBuilderManifests(out, k1.privateKey, { now: new Date('2026-12-01T00:00:00Z'), expiresDays: 7 });
    assert.deepEqual(sigs.map((s) => path.basename(s)), ['latest-mac.yml.sig']);
    const bytes = fs.readFileSync(path.join(out, 'latest-mac.yml'));
    verifyBytes(bytes, fs.readFileSync(sigs[0]!, 'utf8'), loadTrustedKeysFromDoc(k1));
    assert.equal(parseManifest(bytes).expires, '2026-12-08T00:00:00.000Z');
    assert.equal(parseManifest(bytes).path, 'Owlet-2.0.0-mac.zip');
    assert.equal(serializeManifest(parseManifest(bytes)), bytes.toString());
  });
});

function loadTrustedKeysFromDoc(k: ReturnType<typeof makeKey>) {
  return [{ id: k.id, key: k.publicKey }];
}
