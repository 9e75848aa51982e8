import type { SafeStorageLike } from './secret-store-electron.js';
import { SafeStorageSecretStore, hostKeyMessage } from './secret-store-electron.js';
import { utilityServiceLauncher, type UtilityProcessApi } from './utility-launcher.js';
import { createIndexerHost, type IndexerHost, type ServiceEntry } from '../indexer/host/indexer-host.js';
import type { SupervisorOptions } from '../indexer/host/supervisor.js';
import type { Logger } from '../indexer/log/logger.js';

export interface AppHostOptions {
  dataDir: string;
  /** The service module the utility process runs (the app's `dist/indexer/cli/entry.js`). */
  entry: ServiceEntry;
  utilityProcess: UtilityProcessApi;
  safeStorage: SafeStorageLike;
  log: Logger;
  env?: NodeJS.ProcessEnv;
  /** Ask the service for the alerts routed to the tray (the app shows them as notifications). */
  trayAlerts?: boolean;
  supervisor?: Partial<Omit<SupervisorOptions, 'launch' | 'log'>>;
}

/**
 * The Electron main process's indexer host: `createIndexerHost()` — the one composition `owlet run`
 * uses too — with Electron's two pieces plugged in: `utilityProcess.fork` as the launcher, and the
 * keys from safeStorage as the key handover. The keys are read before every fork; when that fails
 * (no keychain, keys of another store, an encrypted index with no key) nothing is forked and the
 * host fails with a message the tray can show. Forwarded service records (info and above) and the
 * child's piped output go to the main log.
 */
export function createAppIndexerHost(o: AppHostOptions): IndexerHost {
  const keys = new SafeStorageSecretStore(o.dataDir, o.safeStorage);
  const host = createIndexerHost({
    dataDir: o.dataDir,
    entry: o.entry,
    launcher: utilityServiceLauncher(o.utilityProcess, o.env ? { env: o.env } : {}),
    keys: () => hostKeyMessage(o.dataDir, keys),
    forwardLogs: 'info',
    ...(o.trayAlerts ? { trayAlerts: true } : {}),
    log: o.log.child('host'),
    ...(o.supervisor ? { supervisor: o.supervisor } : {}),
  });
  const serviceLog = o.log.child('service');
  host.onDidLog(({ pid, record }) => {
    const fields = { ...record.fields, childPid: pid, childComponent: record.component, childTime: record.time };
    serviceLog[record.level](record.msg, fields);
  });
  return host;
}
