import fs from 'node:fs';
import path from 'node:path';
import type { ServiceInfo } from '../../shared/api.js';
import { writePrivateFile } from '../security/files.js';
import { assertPrivateFolder, readTrustedFile } from '../security/data-dir-guard.js';

export const SERVICE_FILE = 'service.json';

export function writeServiceInfo(dataDir: string, info: ServiceInfo): void {
  writePrivateFile(path.join(dataDir, SERVICE_FILE), JSON.stringify(info, null, 2) + '\n');
}

/**
 * Removes service.json only if this very service wrote it: same pid and same start time (a newer
 * service, or a reused pid, may own it now).
 */
export function removeServiceInfo(dataDir: string, written: Pick<ServiceInfo, 'pid' | 'startedAt'>): boolean {
  const info = readServiceInfo(dataDir);
  if (!info || info.pid !== written.pid || info.startedAt !== written.startedAt) return false;
  fs.rmSync(path.join(dataDir, SERVICE_FILE), { force: true });
  return true;
}

/**
 * Clients send the API token to the URL in service.json, so it is trusted only when this user
 * wrote it: the data folder private, the file ours, not a symlink, writable by nobody else, and
 * the URL a loopback http address. Anything else throws (OWL_ERR_DATADIR_UNUSABLE) rather than
 * looking like "no service".
 */
export function readServiceInfo(dataDir: string): ServiceInfo | null {
  assertPrivateFolder(dataDir);
  const raw = readTrustedFile(path.join(dataDir, SERVICE_FILE));
  if (raw === null) return null;
  try {
    const v = JSON.parse(raw.toString('utf8')) as ServiceInfo;
    return typeof v.url === 'string' && typeof v.pid === 'number' && isLoopbackUrl(v.url) ? v : null;
  } catch {
    return null;
  }
}

function isLoopbackUrl(u: string): boolean {
  try {
    const url = new URL(u);
    return url.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname) && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running service's info, or null when none runs (a stale file from a crash is ignored). */
export function runningService(dataDir: string): ServiceInfo | null {
  const info = readServiceInfo(dataDir);
  return info && processAlive(info.pid) ? info : null;
}
