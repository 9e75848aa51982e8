import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runOwlet } from '../../helpers/cli.js';
import { tmpDir } from '../../helpers/tmp.js';
import { parseConfig } from '../../../src/indexer/config/load.js';
import { defaultConfig } from '../../../src/indexer/config/schema.js';
import { httpLimitsFrom } from '../../../src/indexer/config/security-settings.js';
import { DEFAULT_LIMITS } from '../../../src/indexer/security/limits.js';
import { isOwletError } from '../../../src/shared/errors.js';

const invalid = (re: RegExp) => (e: unknown) => isOwletError(e) && e.code === 'OWL_ERR_CONFIG_INVALID' && re.test(e.message);

test('only loopback addresses can be configured for the API', () => {
  for (const host of ['0.0.0.0', '::', '192.168.1.2', 'example.com', '127.0.0.2']) {
    assert.throws(() => parseConfig({ server: { host } }, 'test'), invalid(/server\.host: .*loopback/), host);
  }
  for (const host of ['127.0.0.1', '::1', 'localhost']) assert.equal(parseConfig({ server: { host } }, 'test').server.host, host);
});

test('the security section: defaults, strict keys, limits derived from it', () => {
  const d = defaultConfig().security;
  assert.equal(d.secretStore, 'auto');
  assert.deepEqual(httpLimitsFrom(d.http), DEFAULT_LIMITS);
  assert.throws(() => parseConfig({ security: { secretStor: 'auto' } }, 'test'), invalid(/security/));
  assert.throws(() => parseConfig({ security: { secretStore: 'plaintext' } }, 'test'), invalid(/security\.secretStore/));
  assert.throws(() => parseConfig({ security: { http: { bodyLimitKb: 0 } } }, 'test'), invalid(/security\.http\.bodyLimitKb/));
  const c = parseConfig({ security: { http: { rateLimitPerMinute: 5, headersTimeoutMs: 2000 } } }, 'test');
  assert.equal(httpLimitsFrom(c.security.http).rateLimitMax, 5);
  assert.equal(httpLimitsFrom(c.security.http).headersTimeoutMs, 2000);
});

test('owlet serve with a non-loopback host in config.json refuses to start (exit 78)', async () => {
  const data = tmpDir('owlet-data-');
  fs.writeFileSync(path.join(data, 'config.json'), JSON.stringify({ server: { host: '0.0.0.0' } }));
  const r = await runOwlet(['serve', '--data-dir', data, '--port', '0'], { timeoutMs: 20_000 });
  assert.equal(r.code, 78);
  assert.match(r.stderr, /server\.host: .*loopback/);
  assert.ok(!fs.existsSync(path.join(data, 'service.json')));
});
