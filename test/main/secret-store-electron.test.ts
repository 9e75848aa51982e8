import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tmpDir } from '../helpers/tmp.js';
import { SafeStorageSecretStore, hostKeyMessage, type SafeStorageLike } from '../../src/main/secret-store-electron.js';
import { readStoreMarker, writeStoreMarker } from '../../src/indexer/security/secrets.js';
import { isHostMessage } from '../../src/shared/protocol.js';
import { isOwletError } from '../../src/shared/errors.js';

/** A stand-in for Electron's safeStorage: reversible, but visibly not the plaintext. */
function fakeSafeStorage(backend: ReturnType<SafeStorageLike['getSelectedStorageBackend']> = 'gnome_libsecret') {
  const state = { available: true };
  const safe: SafeStorageLike = {
    isEncryptionAvailable: () => state.available,
    encryptString: (s) => Buffer.from('ENC1' + Buffer.from(s).toString('hex').split('').reverse().join('')),
    decryptString: (b) => {
      const t = b.toString();
      if (!t.startsWith('ENC1')) throw new Error('not ours');
      return Buffer.from(t.slice(4).split('').reverse().join(''), 'hex').toString();
    },
    getSelectedStorageBackend: () => backend,
  };
  return { safe, state };
}

test('safeStorage adapter: secrets round-trip, only ciphertext on disk (0600)', () => {
  const data = tmpDir();
  const { safe, state } = fakeSafeStorage();
  const store = new SafeStorageSecretStore(data, safe, 'linux');
  assert.equal(store.kind, 'electron-safe-storage');
  const k = Buffer.alloc(32, 0xab);
  store.set('data-key', k);
  assert.ok(store.get('data-key')!.equals(k));
  const file = path.join(data, 'keys', 'safe-storage.json');
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.ok(!fs.readFileSync(file, 'utf8').includes(k.toString('base64')), 'no plaintext key in the file');
  state.available = false;
  assert.throws(() => store.get('data-key'), (e: unknown) => isOwletError(e) && e.code === 'OWL_ERR_SECRET_STORE');
  state.available = true;
  store.delete('data-key');
  assert.equal(store.get('data-key'), null);
  assert.equal(store.weakness(), null);
  assert.match(new SafeStorageSecretStore(data, fakeSafeStorage('basic_text').safe, 'linux').weakness()!, /basic_text.*unprotected/);
  assert.equal(new SafeStorageSecretStore(data, fakeSafeStorage('basic_text').safe, 'darwin').weakness(), null);
});

test('hostKeyMessage: creates the keys once, returns a valid protocol message, remembers the store', () => {
  const data = tmpDir();
  const { safe } = fakeSafeStorage();
  const store = new SafeStorageSecretStore(data, safe);
  const m1 = hostKeyMessage(data, store);
  assert.ok(isHostMessage(m1));
  assert.equal(Buffer.from(m1.key, 'base64').length, 32);
  assert.equal(Buffer.from(m1.auditKey!, 'base64').length, 32);
  assert.equal(readStoreMarker(data), 'electron-safe-storage');
  const m2 = hostKeyMessage(data, new SafeStorageSecretStore(data, safe));
  assert.deepEqual(m2, m1, 'the same keys on the next start');
  assert.equal(isHostMessage({ ...m1, key: 'short' }), false, 'malformed keys are rejected by the protocol check');

  // A data folder whose keys are in the headless service's store is not taken over.
  const other = tmpDir();
  writeStoreMarker(other, 'keychain');
  assert.throws(() => hostKeyMessage(other, new SafeStorageSecretStore(other, safe)), (e: unknown) => isOwletError(e) && /OS keychain/.test(e.message));
});
