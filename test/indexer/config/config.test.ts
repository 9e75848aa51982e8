import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { defaultDataDir, resolveDataDir } from '../../../src/indexer/config/paths.js';
import { loadConfig, parseConfig, saveConfig } from '../../../src/indexer/config/load.js';
import { defaultConfig, DEFAULT_EXCLUDE } from '../../../src/indexer/config/schema.js';
import { OwletError } from '../../../src/shared/errors.js';
import { tmpDir } from '../../helpers/tmp.js';

test('the data directory follows each OS convention', () => {
  assert.equal(defaultDataDir({ platform: 'linux', env: {}, homedir: '/home/u' }), '/home/u/.local/share/owlet');
  assert.equal(defaultDataDir({ platform: 'linux', env: { XDG_DATA_HOME: '/x/data' }, homedir: '/home/u' }), '/x/data/owlet');
  assert.equal(defaultDataDir({ platform: 'linux', env: { XDG_DATA_HOME: 'relative' }, homedir: '/home/u' }), '/home/u/.local/share/owlet', 'a relative XDG path is ignored, as the spec says');
  assert.equal(defaultDataDir({ platform: 'darwin', env: {}, homedir: '/Users/u' }), '/Users/u/Library/Application Support/Owlet');
  assert.equal(defaultDataDir({ platform: 'win32', env: { LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }, homedir: 'C:\\Users\\u' }), path.join('C:\\Users\\u\\AppData\\Local', 'Owlet'));
});

test('--data-dir beats OWLET_DATA_DIR beats the default', () => {
  assert.equal(resolveDataDir('/a', { OWLET_DATA_DIR: '/b' }), '/a');
  assert.equal(resolveDataDir(undefined, { OWLET_DATA_DIR: '/b' }), '/b');
});

test('defaults fill every setting and exclude VCS and dependency folders', () => {
  const c = defaultConfig();
  assert.ok(c.exclude.includes('.git') && c.exclude.includes('node_modules'));
  assert.deepEqual(c.exclude, DEFAULT_EXCLUDE);
  assert.equal(c.server.host, '127.0.0.1');
  assert.equal(c.extractors.timeoutMs, 30_000);
  assert.deepEqual(parseConfig({ extractors: { workers: 3 } }, 'x').extractors.timeoutMs, 30_000, 'partial sections are completed from defaults');
});

test('invalid settings are refused with the key and the reason', () => {
  const bad = (raw: unknown, re: RegExp) =>
    assert.throws(() => parseConfig(raw, 'cfg.json'), (e: unknown) => e instanceof OwletError && e.code === 'OWL_ERR_CONFIG_INVALID' && re.test(e.message));
  bad({ maxFileSizeMb: -1 }, /maxFileSizeMb: .*/);
  bad({ roots: 'not-a-list' }, /roots: /);
  bad({ unknownKey: 1 }, /unrecognized key.*unknownKey|unknownKey/i);
  bad({ extractors: { timeoutMs: 5 } }, /extractors\.timeoutMs/);
  bad({ server: { host: '192.168.1.2' } }, /server\.host: .*loopback/);
  bad({ version: 99 }, /version/);
});

test('missing file means defaults; save is atomic and private', () => {
  const dir = tmpDir();
  assert.deepEqual(loadConfig(dir), defaultConfig());
  saveConfig(dir, { ...defaultConfig(), roots: ['/r'] });
  assert.deepEqual(loadConfig(dir).roots, ['/r']);
  assert.equal(fs.statSync(path.join(dir, 'config.json')).mode & 0o777, 0o600);
  assert.deepEqual(fs.readdirSync(dir), ['config.json'], 'no temp file left behind');
});
