import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { SafeStorage } from 'electron';
import { OwletError, owletError } from '../shared/errors.js';
import type { HostMessage } from '../shared/protocol.js';
import { ensurePrivateDir, readIfExists, writePrivateFile } from '../indexer/security/files.js';
import { KEYS_DIR } from '../indexer/security/key-file.js';
import type { SecretName, SecretStore } from '../indexer/security/secret-store.js';
import { readStoreMarker, writeStoreMarker } from '../indexer/security/secrets.js';
import { fileHeaderIsPlain } from '../indexer/security/cipher.js';

/**
 * The app's secret store: Electron's safeStorage (Keychain on macOS, DPAPI on Windows, libsecret
 * or KWallet on Linux) encrypts each secret; the ciphertexts sit in `<dataDir>/keys/safe-storage.json`
 * (0600). The main process reads the keys and hands them to the indexer process over its private
 * channel (`serve --key-from-host`, then a `key` message), never on the command line or in the
 * environment. Takes the safeStorage object as an argument, so tests pass a small fake.
 */
export type SafeStorageLike = Pick<SafeStorage, 'isEncryptionAvailable' | 'encryptString' | 'decryptString' | 'getSelectedStorageBackend'>;

export const SAFE_STORAGE_FILE = 'safe-storage.json';

export class SafeStorageSecretStore implements SecretStore {
  readonly kind = 'electron-safe-storage' as const;
  readonly where: string;
  private readonly file: string;

  constructor(
    private readonly dataDir: string,
    private readonly safe: SafeStorageLike,
    private readonly platform: NodeJS.Platform = process.platform,
  ) {
    this.file = path.join(dataDir, KEYS_DIR, SAFE_STORAGE_FILE);
    this.where = `Electron safeStorage (${this.file})`;
  }

  private read(): Record<string, string> {
    const raw = readIfExists(this.file);
    if (!raw) return {};
    try {
      const v = JSON.parse(raw.toString('utf8')) as unknown;
      if (typeof v !== 'object' || v === null) throw new Error('not an object');
      return v as Record<string, string>;
    } catch {
      throw owletError('OWL_ERR_SECRET_STORE', { reason: `${this.file} is damaged` });
    }
  }

  private requireAvailable(): void {
    if (!this.safe.isEncryptionAvailable()) {
      throw owletError('OWL_ERR_SECRET_STORE', { reason: 'the system keychain is not available to Owlet (Electron safeStorage reports no encryption); unlock it and restart Owlet' });
    }
  }

  get(name: SecretName): Buffer | null {
    const enc = this.read()[name];
    if (enc === undefined) return null;
    this.requireAvailable();
    let plain: string;
    try {
      plain = this.safe.decryptString(Buffer.from(enc, 'base64'));
    } catch (e) {
      throw owletError('OWL_ERR_SECRET_STORE', { reason: `the keychain could not decrypt ${name}: ${(e as Error).message}` }, { cause: e });
    }
    return Buffer.from(plain, 'base64');
  }

  set(name: SecretName, value: Buffer): void {
    this.requireAvailable();
    const all = this.read();
    all[name] = this.safe.encryptString(value.toString('base64')).toString('base64');
    ensurePrivateDir(path.dirname(this.file));
    writePrivateFile(this.file, JSON.stringify(all, null, 2) + '\n');
  }

  delete(name: SecretName): void {
    const all = this.read();
    if (!(name in all)) return;
    delete all[name];
    writePrivateFile(this.file, JSON.stringify(all, null, 2) + '\n');
  }

  /**
   * On Linux without a secret service, safeStorage falls back to `basic_text`: a fixed password,
   * effectively unprotected. Reported like the key file (owlet doctor / the app's status).
   */
  weakness(): string | null {
    if (this.platform !== 'linux') return null;
    const backend = this.safe.getSelectedStorageBackend();
    if (backend !== 'basic_text' && backend !== 'unknown') return null;
    return `Electron safeStorage uses the "${backend}" backend here (no GNOME Keyring or KWallet): the encryption key is effectively stored unprotected. Install and unlock a keyring for real protection.`;
  }
}

/**
 * The `key` message for the indexer process. Creates the data and audit keys at first run (and
 * records that this data folder's keys live in safeStorage); refuses to invent a key for an
 * existing encrypted index whose key is elsewhere, which would only lock the user out.
 */
export function hostKeyMessage(dataDir: string, store: SafeStorageSecretStore): Extract<HostMessage, { type: 'key' }> {
  const marker = readStoreMarker(dataDir);
  if (marker && marker !== 'electron-safe-storage') {
    throw owletError('OWL_ERR_SECRET_STORE', { reason: `this data folder's keys are in the ${marker === 'keychain' ? 'OS keychain' : 'key file'} of the headless service; run Owlet headless ("owlet run") for it, or use another data folder for the app` });
  }
  let key = store.get('data-key');
  if (!key) {
    if (fileHeaderIsPlain(path.join(dataDir, 'index.db')) === false) {
      throw owletError('OWL_ERR_DB_KEY', { reason: 'wrong or missing key: the index is encrypted but the app holds no key for it (the file is untouched)' });
    }
    key = randomBytes(32);
    store.set('data-key', key);
  }
  let auditKey = store.get('audit-key');
  if (!auditKey) {
    auditKey = randomBytes(32);
    store.set('audit-key', auditKey);
  }
  if (!marker) writeStoreMarker(dataDir, 'electron-safe-storage');
  const pending = store.get('data-key-pending');
  return {
    type: 'key',
    key: key.toString('base64'),
    auditKey: auditKey.toString('base64'),
    ...(pending ? { pendingKey: pending.toString('base64') } : {}),
  };
}
