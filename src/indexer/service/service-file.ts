import fs from 'node:fs';
import path from 'node:path';
import type { ServiceInfo } from '../../shared/api.js';

export const SERVICE_FILE = 'service.json';

export function writeServiceInfo(dataDir: string, info: ServiceInfo): void {
  const file = path.join(dataDir, SERVICE_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(info, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(tmp, file);
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

export function readServiceInfo(dataDir: string): ServiceInfo | null {
  try {
    const v = JSON.parse(fs.readFileSync(path.join(dataDir, SERVICE_FILE), 'utf8')) as ServiceInfo;
    return typeof v.url === 'string' && typeof v.pid === 'number' ? v : null;
  } catch {
    return null;
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
