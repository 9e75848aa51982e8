import { createHash } from 'node:crypto';

/**
 * Where Owlet keeps its keys: one interface, three adapters. The OS keychain for the headless
 * service where one exists (keychain.ts, @napi-rs/keyring), Electron's safeStorage inside the app
 * (src/main, which hands the keys to the indexer process over its private channel: host.ts), and a
 * last-resort key file readable only by the user (key-file.ts), which `owlet doctor` reports as
 * weaker. The library behind the keychain adapter can be swapped without touching callers.
 */
export type SecretStoreKind = 'keychain' | 'key-file' | 'electron-safe-storage';

/**
 * `data-key`: the database key. `data-key-pending`: a new key written before a rotation swaps
 * the file, so an interruption leaves one of the two able to open it. `data-key-retired`: earlier
 * keys (JSON list), for restoring backups made before a rotation. `audit-key`: the audit log's
 * HMAC key. `audit-anchor`: the audit log's last sequence number and MAC (MAC-ed), kept outside
 * the audit folder so deleting the whole folder is detected.
 */
export type SecretName = 'data-key' | 'data-key-pending' | 'data-key-retired' | 'audit-key' | 'audit-anchor';

export interface SecretStore {
  readonly kind: SecretStoreKind;
  /** A human-readable location for messages ("OS keychain (Secret Service)", a file path). */
  readonly where: string;
  get(name: SecretName): Buffer | null;
  /** Durable when it returns. */
  set(name: SecretName, value: Buffer): void;
  delete(name: SecretName): void;
}

/** Several data directories may share one keychain: entries are named per directory. */
export function accountFor(name: SecretName, dataDir: string): string {
  return `${name}@${createHash('sha256').update(dataDir).digest('hex').slice(0, 16)}`;
}

/** Keys held in memory, e.g. handed over by the Electron host; writes stay in this process. */
export class MemorySecretStore implements SecretStore {
  private readonly values = new Map<SecretName, Buffer>();
  constructor(
    readonly kind: SecretStoreKind,
    readonly where: string,
    initial: Partial<Record<SecretName, Buffer>> = {},
  ) {
    for (const [k, v] of Object.entries(initial)) if (v) this.values.set(k as SecretName, Buffer.from(v));
  }
  get(name: SecretName): Buffer | null {
    const v = this.values.get(name);
    return v ? Buffer.from(v) : null;
  }
  set(name: SecretName, value: Buffer): void {
    this.values.set(name, Buffer.from(value));
  }
  delete(name: SecretName): void {
    this.values.delete(name);
  }
}

/** What `owlet doctor` says about each kind: null when it is as strong as the platform allows. */
export function secretStoreWeakness(kind: SecretStoreKind, where = ''): string | null {
  if (kind !== 'key-file') return null;
  return (
    `the encryption key is kept in a file readable only by you${where ? ` (${where})` : ''}, not in an OS keychain: ` +
    'anyone who can read your files (or a copy of the whole data folder) can decrypt the index. ' +
    'Install and unlock a keychain (GNOME Keyring or KWallet on Linux) and set security.secretStore to "keychain" for stronger protection.'
  );
}
