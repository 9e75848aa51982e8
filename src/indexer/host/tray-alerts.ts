import type { NotificationChannel, AlertEvent } from '../alerts/types.js';
import type { HostChannel } from '../service/host-channel.js';
import type { AlertNotice } from '../../shared/protocol.js';

/** The engine's event as it crosses to the host: what a notification shows, no metric internals. */
export function alertNotice(e: AlertEvent): AlertNotice {
  const a = e.alert;
  return { event: e.type, at: e.at, id: a.id, rule: a.rule, severity: a.severity, summary: a.summary, remedy: a.remedy };
}

/**
 * The `tray` notification channel of a hosted service: each event the engine routes to `tray` goes
 * to the host (the Electron app) as a typed `alert` message. Registered only when the host asked
 * (`serve --tray-alerts`); otherwise the engine logs once that `tray` has no channel.
 */
export function trayAlertChannel(host: HostChannel): NotificationChannel {
  return {
    name: 'tray',
    notify(e) {
      // A closed channel (the app is quitting) is not a delivery problem worth an exception.
      try {
        host.send({ type: 'alert', notice: alertNotice(e) });
      } catch {
        /* the host is gone; nobody is left to notify */
      }
    },
  };
}
