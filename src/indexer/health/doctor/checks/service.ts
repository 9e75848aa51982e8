import fs from 'node:fs';
import path from 'node:path';
import type { HealthReport } from '../../../../shared/health.js';
import type { ServiceInfo } from '../../../../shared/api.js';
import { processAlive, readServiceInfo, SERVICE_FILE } from '../../../service/service-file.js';
import { dataFolderLocked, describeHolder } from '../../../service/data-lock.js';
import { readApiToken } from '../../../security/token.js';
import type { DoctorCheck, DoctorFinding } from '../types.js';

/** service.json is trusted only in a private data folder (the data-directory finding says why not). */
export function trustedServiceInfo(dataDir: string): ServiceInfo | null {
  try {
    return readServiceInfo(dataDir);
  } catch {
    return null;
  }
}

async function liveHealth(info: ServiceInfo, dataDir: string, f: typeof fetch): Promise<HealthReport | string> {
  try {
    const res = await f(`${info.url}/api/v1/health`, { headers: { Authorization: `Bearer ${readApiToken(dataDir)}` }, signal: AbortSignal.timeout(5000) });
    if (!res.ok) return `it answered ${res.status}`;
    return (await res.json()) as HealthReport;
  } catch (e) {
    return (e as Error).message;
  }
}

/** The leftover files each stale-service finding of one inspection would remove. */
const leftovers = new WeakMap<DoctorFinding, string[]>();

/** A service runs and answers (its own health report is kept for the live-service check), or a stale service.json is left by a crash. */
export const serviceCheck: DoctorCheck = {
  id: 'service',
  async inspect(ctx) {
    const { dataDir } = ctx;
    const info = trustedServiceInfo(dataDir);
    const running = info !== null && processAlive(info.pid);
    ctx.service = { info, running, live: null };
    if (running) {
      const h = await liveHealth(info, dataDir, ctx.deps.fetch);
      if (typeof h === 'string') return [{ id: 'service', name: 'Service', status: 'degraded', message: `a service runs (pid ${info.pid}) but ${info.url} does not answer: ${h}`, remedy: 'wait a moment, or restart it' }];
      ctx.service.live = h;
      return [{ id: 'service', name: 'Service', status: 'ok', message: `running (pid ${info.pid}, ${info.url})` }];
    }
    const stale = fs.readdirSync(dataDir).filter((f) => f === SERVICE_FILE || (f.startsWith(`${SERVICE_FILE}.`) && f.endsWith('.tmp')));
    if (!stale.length) return [{ id: 'service', name: 'Service', status: 'ok', message: 'not running' }];
    const finding: DoctorFinding = {
      id: 'service',
      name: 'Service',
      status: 'degraded',
      message: info ? `not running; ${SERVICE_FILE} is left over from a service that died (pid ${info.pid})` : `not running; ${stale.join(', ')} left over`,
      remedy: `delete ${stale.join(', ')} in the data directory`,
      fix: `remove the stale ${stale.join(', ')}`,
    };
    leftovers.set(finding, stale);
    return [finding];
  },
  fix: {
    async each(finding, ctx) {
      const { dataDir } = ctx;
      const stale = leftovers.get(finding);
      if (!stale) throw new Error(`no leftover files are known for ${finding.id}`);
      // Re-checked at fix time: never remove the file of a service that started meanwhile.
      const again = trustedServiceInfo(dataDir);
      if (again && processAlive(again.pid)) return `left ${SERVICE_FILE}: a service started meanwhile (pid ${again.pid})`;
      // The data folder's lock is the truth: while anyone holds it the file is not stale.
      if (dataFolderLocked(dataDir)) return `left ${SERVICE_FILE}: ${describeHolder(dataDir)} holds the data folder`;
      for (const f of stale) fs.rmSync(path.join(dataDir, f), { force: true });
      return `removed ${stale.join(', ')}`;
    },
  },
};
