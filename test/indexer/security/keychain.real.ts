/**
 * The keychain adapter against a REAL Secret Service (gnome-keyring). Not a *.test.ts file: it
 * only makes sense inside a private D-Bus session with an unlocked keyring, so keychain.test.ts
 * runs it as `dbus-run-session -- sh scripts/keyring-run.sh node --test <this file>`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runOwlet } from '../../helpers/cli.js';
import { tmpDir, writeTree } from '../../helpers/tmp.js';
import { KeychainSecretStore, napiKeyring } from '../../../src/indexer/security/keychain.js';
import { openSecretStore, readStoreMarker, secretStoreKind } from '../../../src/indexer/security/secrets.js';
import { openIndex } from '../../../src/indexer/service/context.js';

test('real Secret Service: set, get, delete through @napi-rs/keyring (pinned to secret-service)', () => {
  assert.ok(process.env.DBUS_SESSION_BUS_ADDRESS, 'runs inside a D-Bus session');
  const data = tmpDir();
  const s = new KeychainSecretStore(data, napiKeyring());
  assert.equal(s.get('data-key'), null);
  const k = Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37 + 11) % 256));
  s.set('data-key', k);
  assert.ok(s.get('data-key')!.equals(k), 'binary secret round-trips exactly');
  s.delete('data-key');
  assert.equal(s.get('data-key'), null);
});

test('real Secret Service: auto picks the keychain; the index key lives there, not in a file', async () => {
  const data = tmpDir();
  assert.equal(secretStoreKind(data), 'keychain');
  const ctx = openIndex(data, { secrets: openSecretStore(data, 'auto') });
  assert.equal(ctx.secrets?.kind, 'keychain');
  ctx.close();
  assert.equal(readStoreMarker(data), 'keychain');
  assert.ok(!fs.existsSync(path.join(data, 'keys', 'data-key.key')));

  // Other processes of the same session (the CLI) find the key in the keychain.
  const root = tmpDir('owlet-root-');
  writeTree(root, { 'k.txt': 'keychainword' });
  const idx = await runOwlet(['index', '--root', root, '--data-dir', data], { timeoutMs: 60_000 });
  assert.equal(idx.code, 0, idx.stderr);
  const search = await runOwlet(['search', 'keychainword', '--json', '--data-dir', data], { timeoutMs: 30_000 });
  assert.equal(search.code, 0, search.stderr);
  assert.equal(JSON.parse(search.stdout).total, 1);
  const status = await runOwlet(['key', 'status', '--json', '--data-dir', data], { timeoutMs: 30_000 });
  assert.deepEqual(JSON.parse(status.stdout), { kind: 'keychain', where: 'the OS keychain', weakness: null, indexEncrypted: true });
});
