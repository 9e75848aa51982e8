import { OwletError, owletError } from '../../shared/errors.js';
import { isHostMessage, type HostMessage } from '../../shared/protocol.js';
import type { HostChannel } from '../service/host-channel.js';
import { MemorySecretStore, type SecretStore } from '../security/secret-store.js';

export const KEY_WAIT_MS = 30_000;

/** The store for keys handed over by the Electron host (held in memory, never written here). */
export function hostSecretStore(m: Extract<HostMessage, { type: 'key' }>): SecretStore {
  const b = (s: string | undefined) => (s === undefined ? undefined : Buffer.from(s, 'base64'));
  return new MemorySecretStore('electron-safe-storage', 'Electron safeStorage (held by the Owlet app)', {
    'data-key': b(m.key),
    'data-key-pending': b(m.pendingKey),
    'audit-key': b(m.auditKey),
  });
}

/**
 * `serve --key-from-host`: waits for the host's `key` message on the private IPC channel before
 * the index is opened. No host, or no key in time, is an error: the service must not start a new
 * key (and so a new, empty index) behind the app's back.
 */
export function keysFromHost(host: HostChannel, timeoutMs = KEY_WAIT_MS): Promise<SecretStore> {
  if (host.kind === 'none') {
    return Promise.reject(owletError('OWL_ERR_SECRET_STORE', { reason: '--key-from-host needs a host process (the Owlet app or a supervisor) on an IPC channel' }));
  }
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      reject(owletError('OWL_ERR_SECRET_STORE', { reason: `the host did not send the encryption key within ${Math.round(timeoutMs / 1000)} s` }));
    }, timeoutMs);
    host.onMessage((m) => {
      if (done || !isHostMessage(m) || m.type !== 'key') return;
      done = true;
      clearTimeout(timer);
      resolve(hostSecretStore(m));
    });
  });
}
