import { createRequire } from 'node:module';
import { OwletError, owletError } from '../../shared/errors.js';
import { accountFor, type SecretName, type SecretStore } from './secret-store.js';

export const KEYCHAIN_SERVICE = 'owlet';

/** The slice of @napi-rs/keyring's Entry we use; tests and other libraries plug in here. */
export interface KeyringEntry {
  getSecret(): number[] | null;
  setSecret(secret: Uint8Array): void;
  deleteCredential(): boolean;
}
export type EntryFactory = (service: string, account: string) => KeyringEntry;

/**
 * @napi-rs/keyring, loaded lazily so a machine where its binary is missing still runs (on the key
 * file). On Linux the entry is pinned to the Secret Service: the library's automatic fallback is
 * the kernel keyring, which is lost at reboot, and losing the key means losing the index.
 */
export function napiKeyring(): EntryFactory {
  const require = createRequire(import.meta.url);
  const { Entry } = require('@napi-rs/keyring') as typeof import('@napi-rs/keyring');
  return (service, account) => new Entry(service, account, { linux: { store: 'secret-service' } });
}

function failure(what: string, e: unknown): OwletError {
  const msg = e instanceof Error ? e.message : String(e);
  return owletError('OWL_ERR_SECRET_STORE', { reason: `the OS keychain could not ${what}: ${msg}. Unlock the keychain (or start its service) and try again` }, { cause: e });
}

export class KeychainSecretStore implements SecretStore {
  readonly kind = 'keychain' as const;
  readonly where = 'the OS keychain';
  constructor(
    private readonly dataDir: string,
    private readonly entry: EntryFactory = napiKeyring(),
  ) {}

  private open(name: SecretName): KeyringEntry {
    try {
      return this.entry(KEYCHAIN_SERVICE, accountFor(name, this.dataDir));
    } catch (e) {
      throw failure('be opened', e);
    }
  }

  get(name: SecretName): Buffer | null {
    let v: number[] | null;
    try {
      // getSecret throws when the store is locked or unreachable (getPassword may not): a locked
      // keychain must never look like "no key yet".
      v = this.open(name).getSecret();
    } catch (e) {
      throw e instanceof OwletError ? e : failure(`read ${name}`, e);
    }
    return v ? Buffer.from(v) : null;
  }

  set(name: SecretName, value: Buffer): void {
    try {
      this.open(name).setSecret(new Uint8Array(value));
    } catch (e) {
      throw e instanceof OwletError ? e : failure(`store ${name}`, e);
    }
  }

  delete(name: SecretName): void {
    try {
      this.open(name).deleteCredential();
    } catch (e) {
      throw e instanceof OwletError ? e : failure(`delete ${name}`, e);
    }
  }

  /** True when the keychain answers at all (a read of an absent entry succeeds with null). */
  static available(dataDir: string, entry?: EntryFactory): boolean {
    try {
      new KeychainSecretStore(dataDir, entry ?? napiKeyring()).get('data-key');
      return true;
    } catch {
      return false;
    }
  }
}
