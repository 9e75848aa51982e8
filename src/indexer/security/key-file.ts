import fs from 'node:fs';
import path from 'node:path';
import { OwletError, owletError } from '../../shared/errors.js';
import { ensurePrivateDir, FILE_MODE, readIfExists, tighten, writePrivateFile } from './files.js';
import type { SecretName, SecretStore } from './secret-store.js';

export const KEYS_DIR = 'keys';

/**
 * The last-resort store: one base64 file per secret in `<dataDir>/keys/` (0700, files 0600,
 * written atomically). Weaker than a keychain, and `owlet doctor` says so.
 */
export class KeyFileSecretStore implements SecretStore {
  readonly kind = 'key-file' as const;
  readonly where: string;
  constructor(dataDir: string) {
    this.where = path.join(dataDir, KEYS_DIR);
  }
  private file(name: SecretName): string {
    return path.join(this.where, `${name}.key`);
  }
  get(name: SecretName): Buffer | null {
    const f = this.file(name);
    const raw = readIfExists(f);
    if (raw === null) return null;
    const st = fs.statSync(f);
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
      // Someone loosened the permissions: tighten, and keep going (the key may already be exposed).
      tighten(f, FILE_MODE);
    }
    const text = raw.toString('utf8').trim();
    if (!/^[A-Za-z0-9+/=_-]+$/.test(text)) throw owletError('OWL_ERR_SECRET_STORE', { reason: `key file ${f} is damaged` });
    return Buffer.from(text, 'base64');
  }
  set(name: SecretName, value: Buffer): void {
    ensurePrivateDir(this.where);
    writePrivateFile(this.file(name), value.toString('base64') + '\n');
  }
  delete(name: SecretName): void {
    fs.rmSync(this.file(name), { force: true });
  }
}
