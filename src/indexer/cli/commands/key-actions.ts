import fs from 'node:fs';
import path from 'node:path';
import { owletError } from '../../../shared/errors.js';
import { loadConfig } from '../../config/load.js';
import { resolveDataDir } from '../../config/paths.js';
import { openAuditLog } from '../../audit/log.js';
import { INDEX_FILE } from '../../service/context.js';
import { readServiceInfo } from '../../service/service-file.js';
import { withDataLock } from '../../service/data-lock.js';
import { fileHeaderIsPlain } from '../../security/cipher.js';
import { METRICS_FILE } from '../../store/metrics-db.js';
import { rotateDataKey } from '../../store/rekey.js';
import { describeSecretStore, openSecretStore } from '../../security/secrets.js';
import { rotateApiToken } from '../../security/token.js';
import type { CommandIo as KeyIo } from '../io.js';

function existingDataDir(flag: string | undefined): string {
  const dataDir = resolveDataDir(flag);
  if (!fs.existsSync(dataDir)) throw owletError('OWL_ERR_DATADIR_UNUSABLE', { dir: dataDir, reason: 'it does not exist' });
  return dataDir;
}

/** `owlet key status`: where the keys are kept and whether the index is encrypted. */
export function keyStatus(o: { dataDir?: string; json?: boolean }, io: KeyIo): void {
  const dataDir = existingDataDir(o.dataDir);
  const store = describeSecretStore(dataDir);
  const plain = fileHeaderIsPlain(path.join(dataDir, INDEX_FILE));
  const encrypted = plain === null ? null : !plain;
  if (o.json) return io.out(JSON.stringify({ ...store, indexEncrypted: encrypted }));
  io.out(`keys:  ${store.kind} (${store.where})`);
  io.out(`index: ${encrypted === null ? 'none yet' : encrypted ? 'encrypted' : 'NOT encrypted (it is encrypted the next time the service or "owlet index" opens it)'}`);
  if (store.weakness) io.out(`note:  ${store.weakness}`);
}

/** `owlet key rotate`: re-encrypts the index (and metrics.db) under a new key. */
export async function rotateKey(o: { dataDir?: string; json?: boolean }, io: KeyIo): Promise<void> {
  const dataDir = existingDataDir(o.dataDir);
  // The data folder's lock, not service.json, says whether a service has the index open.
  await withDataLock(dataDir, 'key rotate', () => rotate(dataDir, o, io));
}

function rotate(dataDir: string, o: { json?: boolean }, io: KeyIo): void {
  const config = loadConfig(dataDir);
  const file = path.join(dataDir, INDEX_FILE);
  if (!fs.existsSync(file)) throw owletError('OWL_ERR_DB_MISSING', { file });
  const store = openSecretStore(dataDir, config.security.secretStore);
  const audit = openAuditLog(dataDir, store, { maxFileBytes: config.security.audit.maxFileKb * 1024, keepFiles: config.security.audit.keepFiles });
  // metrics.db shares the index's key: re-keyed in the same procedure (its history survives).
  const r = rotateDataKey(file, store, undefined, [path.join(dataDir, METRICS_FILE)]);
  audit.appendOrThrow('key.rotated', { documents: r.documents, store: store.kind });
  if (o.json) return io.out(JSON.stringify({ rotated: true, documents: r.documents, bytes: r.bytes, ms: Math.round(r.ms) }));
  io.out(`Re-encrypted the index (${r.documents} documents, ${(r.bytes / 1048576).toFixed(1)} MB) under a new key in ${(r.ms / 1000).toFixed(1)} s.`);
  io.out('Backups made before now still open with the earlier key, which Owlet keeps.');
}

/** `owlet key rotate-token`: a new API token, audited. */
export function rotateToken(o: { dataDir?: string }, io: KeyIo): void {
  const dataDir = existingDataDir(o.dataDir);
  rotateApiToken(dataDir);
  const config = loadConfig(dataDir);
  const store = openSecretStore(dataDir, config.security.secretStore);
  openAuditLog(dataDir, store, { maxFileBytes: config.security.audit.maxFileKb * 1024 }).appendOrThrow('auth.token-rotated', {
    serviceRunning: readServiceInfo(dataDir) !== null,
  });
  io.out(`New API token written to ${path.join(dataDir, 'api-token')}; a running service uses it from its next request.`);
}
