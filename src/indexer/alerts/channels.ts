import os from 'node:os';
import type { Logger } from '../log/logger.js';
import { VERSION } from '../version.js';
import type { Alert, AlertEvent, NotificationChannel } from './types.js';

/**
 * The dashboard banner: the firing, unacknowledged alerts routed to it. The page polls
 * `GET /api/v1/alerts` and shows `banner`; acknowledging or resolving takes an alert off.
 */
export class BannerChannel implements NotificationChannel {
  readonly name = 'banner';
  private readonly shown = new Map<string, Alert>();

  notify(e: AlertEvent): void {
    if (e.type === 'firing' || e.type === 'escalated') this.shown.set(e.alert.id, e.alert);
    else this.shown.delete(e.alert.id);
  }

  /** Most severe first. */
  entries(): Alert[] {
    const rank = { critical: 0, warning: 1, info: 2 } as const;
    return [...this.shown.values()].sort((a, b) => rank[a.severity] - rank[b.severity] || (b.firedAt ?? 0) - (a.firedAt ?? 0));
  }
}

/** Alerts in the service log: error for critical, warn for warning, info otherwise and for resolutions. */
export class LogChannel implements NotificationChannel {
  readonly name = 'log';
  constructor(private readonly log: Logger) {}

  notify(e: AlertEvent): void {
    const a = e.alert;
    const fields = { alert: a.id, rule: a.rule, severity: a.severity, metric: a.metric, value: a.value, threshold: a.threshold, escalations: a.escalations };
    const msg = `alert ${e.type}: ${a.summary}`;
    if (e.type === 'resolved' || e.type === 'acknowledged' || a.severity === 'info') this.log.info(msg, fields);
    else if (a.severity === 'warning') this.log.warn(msg, fields);
    else this.log.error(msg, fields);
  }
}

export interface WebhookOptions {
  url: string;
  timeoutMs: number;
  log: Logger;
  fetch?: typeof fetch;
  /** Attempts per event (network errors and 5xx are retried once after a short pause). */
  attempts?: number;
  retryDelayMs?: number;
}

/** The JSON body an admin's receiver gets: stable, versioned, no document contents. */
export interface WebhookPayload {
  version: 1;
  source: 'owlet';
  event: AlertEvent['type'];
  at: string;
  host: string;
  owletVersion: string;
  alert: Alert;
}

/** POSTs each notification as JSON to an admin-configured URL. Off by default (no URL). */
export class WebhookChannel implements NotificationChannel {
  readonly name = 'webhook';
  private readonly fetch: typeof fetch;
  constructor(private readonly opts: WebhookOptions) {
    this.fetch = opts.fetch ?? globalThis.fetch;
  }

  async notify(e: AlertEvent): Promise<void> {
    if (e.type === 'acknowledged') return;
    const payload: WebhookPayload = { version: 1, source: 'owlet', event: e.type, at: new Date(e.at).toISOString(), host: os.hostname(), owletVersion: VERSION, alert: e.alert };
    const attempts = this.opts.attempts ?? 2;
    let last = '';
    for (let i = 1; i <= attempts; i++) {
      try {
        const res = await this.fetch(this.opts.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': `owlet/${VERSION}` },
          body: JSON.stringify(payload),
          signal: AbortSignal.timeout(this.opts.timeoutMs),
          redirect: 'error',
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return;
        last = `HTTP ${res.status}`;
        if (res.status < 500) break;
      } catch (err) {
        last = (err as Error).message;
      }
      if (i < attempts) await new Promise((r) => setTimeout(r, this.opts.retryDelayMs ?? 1000));
    }
    // Never log the URL itself: it often carries a secret token.
    this.opts.log.warn('alert webhook delivery failed', { alert: e.alert.id, event: e.type, reason: last });
  }
}
