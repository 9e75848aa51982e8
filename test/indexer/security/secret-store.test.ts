import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tmpDir } from '../../helpers/tmp.js';
import { KeyFileSecretStore } from '../../../src/indexer/security/key-file.js';
import { KeychainSecretStore, type EntryFactory, type KeyringEntry } from '../../../src/indexer/security/keychain.js';
import { describeSecretStore, openSecretStore, readStoreMarker, secretStoreKind } from '../../../src/indexer/security/secrets.js';
import { accountFor, secretStoreWeakness } from '../../../src/indexer/security/secret-store.js';
import { openIndex } from '../../../src/indexer/service/context.js';
import { isOwletError } from '../../../src/shared/errors.js';

/** An in-memory keychain with the shape of @napi-rs/keyring's Entry; `locked` makes every call fail. */
function fakeKeychain() {
  const items = new Map<string, number[]>();
  const state = { locked: false, calls: 0 };
  const factory: EntryFactory = (service, account) => {
    const id = `${service}/${account}`;
    const guard = () => {
      state.calls++;
      if (state.locked) throw new Error('Platform failure: the keyring is locked');
    };
    const entry: KeyringEntry = {
      getSecret: () => (guard(), items.get(id) ?? null),
      setSecret: (s) => void (guard(), items.set(id, [...s])),
      deleteCredential: () => (guard(), items.delete(id)),
    };
    return entry;
  };
  return { factory, items, state };
}

const secretErr = (re: RegExp) => (e: unknown) => isOwletError(e) && e.code === 'OWL_ERR_SECRET_STORE' && re.test(e.message);

test('key file store: round trip, 0700/0600, loosened permissions are tightened', () => {
  const data = tmpDir();
  const s = new KeyFileSecretStore(data);
  assert.equal(s.get('data-key'), null);
  const k = Buffer.alloc(32, 5);
  s.set('data-key', k);
  assert.ok(s.get('data-key')!.equals(k));
  const f = path.join(data, 'keys', 'data-key.key');
  assert.equal(fs.statSync(path.join(data, 'keys')).mode & 0o777, 0o700);
  assert.equal(fs.statSync(f).mode & 0o777, 0o600);
  fs.chmodSync(f, 0o644);
  s.get('data-key');
  assert.equal(fs.statSync(f).mode & 0o777, 0o600);
  s.delete('data-key');
  assert.equal(s.get('data-key'), null);
  fs.writeFileSync(f, 'not base64 !!!');
  assert.throws(() => s.get('data-key'), secretErr(/damaged/));
});

test('keychain store: secrets per data folder; a locked keychain is an error, never "no key"', () => {
  const kc = fakeKeychain();
  const a = new KeychainSecretStore('/data/a', kc.factory);
  const b = new KeychainSecretStore('/data/b', kc.factory);
  a.set('data-key', Buffer.alloc(32, 1));
  assert.ok(a.get('data-key')!.equals(Buffer.alloc(32, 1)));
  assert.equal(b.get('data-key'), null, 'another data folder has its own entries');
  assert.ok(kc.items.has(`owlet/${accountFor('data-key', '/data/a')}`));
  kc.state.locked = true;
  assert.throws(() => a.get('data-key'), secretErr(/could not read data-key.*locked/));
  assert.throws(() => a.set('audit-key', Buffer.alloc(32)), secretErr(/could not store/));
  kc.state.locked = false;
  a.delete('data-key');
  assert.equal(a.get('data-key'), null);
});

test('store selection: keychain when it answers, else the key file; the choice is remembered', () => {
  const kc = fakeKeychain();
  const withKc = tmpDir();
  assert.equal(openSecretStore(withKc, 'auto', { keychain: kc.factory }).kind, 'keychain');
  assert.equal(readStoreMarker(withKc), 'keychain');
  assert.equal(secretStoreKind(withKc, { keychain: null }), 'keychain', 'the marker wins over what the machine has now');
  assert.deepEqual(describeSecretStore(withKc, { keychain: kc.factory }), { kind: 'keychain', where: 'the OS keychain', weakness: null });
  // The keychain stops answering: a clear error, not a silent switch to an empty key file.
  kc.state.locked = true;
  assert.throws(() => openSecretStore(withKc, 'auto', { keychain: kc.factory }), secretErr(/keychain, which does not answer/));
  assert.throws(() => openSecretStore(withKc, 'key-file', { keychain: kc.factory }), secretErr(/are in the OS keychain/));

  const noKc = tmpDir();
  assert.equal(secretStoreKind(noKc, { keychain: null }), 'key-file', 'what a fresh folder would use');
  assert.equal(openSecretStore(noKc, 'auto', { keychain: null }).kind, 'key-file');
  assert.equal(readStoreMarker(noKc), 'key-file');
  const d = describeSecretStore(noKc, { keychain: null });
  assert.equal(d.kind, 'key-file');
  assert.match(d.weakness!, /readable only by you.*not in an OS keychain/);
  assert.throws(() => openSecretStore(noKc, 'keychain', { keychain: kc.factory }), secretErr(/keys are in/));

  const wantKc = tmpDir();
  assert.throws(() => openSecretStore(wantKc, 'keychain', { keychain: null }), secretErr(/no OS keychain answers/));
  assert.equal(secretStoreWeakness('electron-safe-storage'), null);
});

test('the index opens with a key kept in the (fake) keychain; no key file is written', () => {
  const kc = fakeKeychain();
  const data = tmpDir();
  const store = openSecretStore(data, 'auto', { keychain: kc.factory });
  const ctx = openIndex(data, { secrets: store });
  assert.equal(ctx.secrets?.kind, 'keychain');
  assert.ok(ctx.key);
  ctx.close();
  assert.ok(!fs.existsSync(path.join(data, 'keys', 'data-key.key')));
  const again = openIndex(data, { secrets: openSecretStore(data, 'auto', { keychain: kc.factory }) });
  assert.ok(again.key!.equals(ctx.key!));
  again.close();
});

test('without any keychain library answering, install and run still work (key file)', () => {
  // This machine's real probe: no D-Bus session in the normal suite, so auto picks the key file
  // (inside keyring-run.sh it picks the keychain: see keychain.test.ts).
  const data = tmpDir();
  const kind = secretStoreKind(data);
  const ctx = openIndex(data);
  assert.equal(ctx.secrets?.kind, kind);
  assert.ok(ctx.key);
  ctx.close();
  console.log(`secret store on this machine: ${kind}`);
});
