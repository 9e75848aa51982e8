// Packaging (#13): electron-builder.yml is checked with electron-builder's own schema validator
// (packaging itself needs the Electron binary, which this machine cannot download), builds the
// targets the issue names, publishes to the update feed named by the build environment, and
// `npm run dist` refuses to build an app that could not update.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import yaml from 'js-yaml';
import { checkFeedUrl, DistConfigError, prepareAppPackage } from '../../scripts/dist-prepare.js';
import { parseTrustedKeys, keyId } from '../../src/indexer/update/keys.js';
import { TRAY_ICONS } from '../../src/main/tray-state.js';
import { tmpDir } from '../helpers/tmp.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const require = createRequire(import.meta.url);
const configText = fs.readFileSync(path.join(root, 'electron-builder.yml'), 'utf8');
type Cfg = Record<string, any>;
const load = (): Cfg => yaml.load(configText) as Cfg;

test('electron-builder accepts the configuration, and rejects a misspelt option (the check can fail)', async () => {
  const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as { validateConfiguration(c: unknown, l: unknown): Promise<void> };
  const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
  await validateConfiguration(load(), new DebugLogger(false));
  const bad = load();
  bad.nsis.perUser = true;
  await assert.rejects(validateConfiguration(bad, new DebugLogger(false)), /configuration\.nsis/);
});

test('it builds NSIS per-user, AppImage and deb, dmg and zip, rebuilding native modules for Electron', () => {
  const c = load();
  assert.deepEqual(c.win.target, ['nsis']);
  assert.equal(c.nsis.perMachine, false);
  assert.equal(c.nsis.allowElevation, false, 'never asks for administrator rights');
  assert.deepEqual(c.linux.target, ['AppImage', 'deb']);
  assert.deepEqual(c.mac.target, ['dmg', 'zip'], 'zip is what electron-updater installs on macOS');
  assert.equal(c.npmRebuild, true);
  assert.equal(c.buildDependenciesFromSource, false);
  for (const native of ['better-sqlite3-multiple-ciphers', '@parcel/watcher', '@napi-rs/keyring']) {
    assert.ok((c.asarUnpack as string[]).some((g) => g.includes(native)), `${native} is unpacked from the asar`);
  }
  assert.ok((c.files as string[]).includes('dist/**/*'));
  assert.ok((c.files as string[]).includes('trusted-keys.json'), 'the keys the updater trusts ship with the app');
  assert.ok((c.files as string[]).includes('build/tray-*.png'));
  for (const f of Object.values(TRAY_ICONS)) assert.ok(fs.existsSync(path.join(root, 'build', f)), f);
  assert.equal(c.afterAllArtifactBuild, 'build/sign-feed-hook.mjs');
});

test('it publishes to the generic feed named by OWLET_UPDATE_FEED, with no placeholder host', () => {
  const c = load();
  assert.deepEqual(c.publish, { provider: 'generic', url: '${env.OWLET_UPDATE_FEED}', channel: 'latest' });
  assert.doesNotMatch(configText, /\.invalid|example\.(com|org)|localhost/);
  const { expandMacro } = require('app-builder-lib/out/util/macroExpander.js') as { expandMacro(p: string, arch: string | null, appInfo: unknown): string };
  const before = process.env.OWLET_UPDATE_FEED;
  try {
    process.env.OWLET_UPDATE_FEED = 'https://updates.owlet.org/feed/';
    assert.equal(expandMacro(c.publish.url, null, {}), 'https://updates.owlet.org/feed/');
    delete process.env.OWLET_UPDATE_FEED;
    assert.throws(() => expandMacro(c.publish.url, null, {}), /OWLET_UPDATE_FEED is not defined/);
  } finally {
    if (before === undefined) delete process.env.OWLET_UPDATE_FEED;
    else process.env.OWLET_UPDATE_FEED = before;
  }
});

test('npm run dist checks the feed and writes the trusted keys before packaging; dev:app and dist are scripts', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.match(pkg.scripts.dist!, /^node --import tsx scripts\/dist-prepare\.ts && npm run build && electron-builder /);
  assert.match(pkg.scripts['dev:app']!, /electron-builder install-app-deps && electron \./);

  for (const [feed, re] of [
    [undefined, /OWLET_UPDATE_FEED is not set/],
    ['not a url', /not a URL/],
    ['ftp://updates.owlet.org/', /http/],
    ['https://updates.owlet.invalid/', /placeholder/],
    ['https://example.com/feed', /placeholder/],
  ] as const) {
    assert.throws(() => checkFeedUrl(feed), (e: unknown) => e instanceof DistConfigError && re.test(e.message), String(feed));
  }
  assert.equal(checkFeedUrl('https://updates.owlet.org/feed'), 'https://updates.owlet.org/feed/');

  const dir = tmpDir('owlet-dist-');
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  const keyFile = path.join(dir, 'release.pem');
  fs.writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const next = crypto.generateKeyPairSync('ed25519').publicKey;
  const nextFile = path.join(dir, 'next.pub');
  fs.writeFileSync(nextFile, next.export({ type: 'spki', format: 'pem' }));
  assert.throws(() => prepareAppPackage({ OWLET_UPDATE_FEED: 'https://updates.owlet.org/' }, dir), /OWLET_RELEASE_KEY is not set/);
  assert.throws(() => prepareAppPackage({ OWLET_UPDATE_FEED: 'https://updates.owlet.org/', OWLET_RELEASE_KEY: nextFile }, dir), /not a usable Ed25519 private key/);
  const r = prepareAppPackage({ OWLET_UPDATE_FEED: 'https://updates.owlet.org/', OWLET_RELEASE_KEY: keyFile, OWLET_TRUST: nextFile }, dir);
  const trusted = parseTrustedKeys(fs.readFileSync(r.trustedKeysFile, 'utf8'), r.trustedKeysFile);
  assert.deepEqual(trusted.map((k) => k.id).sort(), [keyId(publicKey), keyId(next)].sort(), 'the signing key and the rotation key');
});
