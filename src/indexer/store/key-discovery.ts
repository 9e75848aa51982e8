import { loadConfig } from '../config/load.js';
import { candidateKeys } from './data-key.js';
import type { SecretStore } from '../security/secret-store.js';
import { openSecretStore } from '../security/secrets.js';

/**
 * Every key that may open this install's databases and backups: the live key first, then the
 * store's others (pending, retired). The configured store is opened only when something is
 * encrypted (`needed`): opening it may create its marker on a fresh folder. An unreachable
 * keychain leaves only the live key.
 */
export function discoverKeys(o: { dataDir: string; live?: Buffer | null; secrets?: SecretStore | null; needed: () => boolean }): Buffer[] {
  const out: Buffer[] = [];
  const add = (k: Buffer | null | undefined) => {
    if (k && !out.some((x) => x.equals(k))) out.push(k);
  };
  add(o.live);
  let store = o.secrets ?? null;
  if (!store && o.needed()) {
    try {
      store = openSecretStore(o.dataDir, loadConfig(o.dataDir).security.secretStore);
    } catch {
      store = null;
    }
  }
  if (store) {
    try {
      for (const k of candidateKeys(store)) add(k);
    } catch {
      // An unreachable keychain: only the live key is known.
    }
  }
  return out;
}
