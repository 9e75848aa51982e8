import path from 'node:path';
import { OwletError, owletError } from '../../shared/errors.js';
import { ensurePrivateDir, readIfExists, writePrivateFile } from './files.js';
import { KeyFileSecretStore, KEYS_DIR } from './key-file.js';
import { KeychainSecretStore, type EntryFactory } from './keychain.js';
import { secretStoreWeakness, type SecretStore, type SecretStoreKind } from './secret-store.js';

export type SecretStorePreference = 'auto' | 'keychain' | 'key-file';

/** Records which store holds this data directory's keys, so a later run never looks elsewhere. */
export const STORE_MARKER = 'store.json';
const KINDS: readonly SecretStoreKind[] = ['keychain', 'key-file', 'electron-safe-storage'];

/** `{"kind": <one of KINDS>}` and nothing else; checked by hand: the schema library costs more than the whole of `owlet search` should (issue #14). */
function markerKind(v: unknown): SecretStoreKind {
  const kind = v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 ? (v as { kind?: unknown }).kind : undefined;
  if (typeof kind !== 'string' || !(KINDS as readonly string[]).includes(kind)) throw new Error('not a store marker');
  return kind as SecretStoreKind;
}

export function markerPath(dataDir: string): string {
  return path.join(dataDir, KEYS_DIR, STORE_MARKER);
}

export function readStoreMarker(dataDir: string): SecretStoreKind | null {
  const raw = readIfExists(markerPath(dataDir));
  if (!raw) return null;
  try {
    return markerKind(JSON.parse(raw.toString('utf8')));
  } catch {
    throw owletError('OWL_ERR_SECRET_STORE', { reason: `${markerPath(dataDir)} is damaged; it should say which store holds the keys, e.g. {"kind":"keychain"}` });
  }
}

export function writeStoreMarker(dataDir: string, kind: SecretStoreKind): void {
  ensurePrivateDir(path.join(dataDir, KEYS_DIR));
  writePrivateFile(markerPath(dataDir), JSON.stringify({ kind }) + '\n');
}

export interface SecretStoreDeps {
  /** The keychain library; null means "no keychain on this machine" (tests). */
  keychain?: EntryFactory | null;
}

/**
 * Picks the store for a data directory. The first choice is written down (keys/store.json): if
 * the keychain later becomes unreachable, Owlet says so instead of silently starting a key file
 * (which would hold no key, and the index would not open).
 */
export function openSecretStore(dataDir: string, pref: SecretStorePreference = 'auto', deps: SecretStoreDeps = {}): SecretStore {
  const marked = readStoreMarker(dataDir);
  const keychain = () => (deps.keychain === null ? null : deps.keychain ? new KeychainSecretStore(dataDir, deps.keychain) : tryKeychain(dataDir));
  if (marked === 'electron-safe-storage') {
    throw owletError('OWL_ERR_SECRET_STORE', { reason: 'this data folder\'s keys are held by the Owlet app (Electron safeStorage); run this through the app, or start the service from it' });
  }
  if (marked === 'key-file') {
    if (pref === 'keychain') throw owletError('OWL_ERR_SECRET_STORE', { reason: `security.secretStore is "keychain" but this data folder's keys are in ${path.join(dataDir, KEYS_DIR)}; set it back to "auto" or "key-file"` });
    return new KeyFileSecretStore(dataDir);
  }
  if (marked === 'keychain') {
    if (pref === 'key-file') throw owletError('OWL_ERR_SECRET_STORE', { reason: 'security.secretStore is "key-file" but this data folder\'s keys are in the OS keychain; set it back to "auto" or "keychain"' });
    const k = keychain();
    if (!k || !probe(k)) throw owletError('OWL_ERR_SECRET_STORE', { reason: 'this data folder\'s keys are in the OS keychain, which does not answer; unlock it (or start its service) and try again' });
    return k;
  }
  let chosen: SecretStore;
  if (pref === 'key-file') chosen = new KeyFileSecretStore(dataDir);
  else {
    const k = keychain();
    if (k && probe(k)) chosen = k;
    else if (pref === 'keychain') throw owletError('OWL_ERR_SECRET_STORE', { reason: 'security.secretStore is "keychain" but no OS keychain answers on this machine' });
    else chosen = new KeyFileSecretStore(dataDir);
  }
  writeStoreMarker(dataDir, chosen.kind);
  return chosen;
}

function tryKeychain(dataDir: string): KeychainSecretStore | null {
  try {
    return new KeychainSecretStore(dataDir);
  } catch {
    return null; // the native module is missing: no keychain
  }
}

function probe(s: SecretStore): boolean {
  try {
    s.get('data-key');
    return true;
  } catch {
    return false;
  }
}

/**
 * Which store holds (or, on a fresh data folder, would hold) the keys: for `owlet doctor`, which
 * reports `key-file` as weaker (see secretStoreWeakness). The caller names the data folder (it
 * resolved it from --data-dir): security/ stands below config/ and does not look it up itself.
 */
export function secretStoreKind(dataDir: string, deps: SecretStoreDeps = {}): SecretStoreKind {
  const marked = readStoreMarker(dataDir);
  if (marked) return marked;
  if (deps.keychain === null) return 'key-file';
  const k = deps.keychain ? new KeychainSecretStore(dataDir, deps.keychain) : tryKeychain(dataDir);
  return k && probe(k) ? 'keychain' : 'key-file';
}

/** One call for `owlet doctor`: the kind, where the keys are, and why it is weaker (or null). */
export function describeSecretStore(dataDir: string, deps: SecretStoreDeps = {}): { kind: SecretStoreKind; where: string; weakness: string | null } {
  const kind = secretStoreKind(dataDir, deps);
  const where = kind === 'key-file' ? path.join(dataDir, KEYS_DIR) : kind === 'keychain' ? 'the OS keychain' : 'Electron safeStorage';
  return { kind, where, weakness: secretStoreWeakness(kind, where) };
}

export { secretStoreWeakness };
