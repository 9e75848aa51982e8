import type { Severity } from '../config/monitoring-settings.js';

export type AlertState = 'pending' | 'firing' | 'resolved';

/** One alert: an occurrence of a rule's condition, from first seen to resolved. JSON in the API. */
export interface Alert {
  /** `<rule>-<start time base36>-<random>`: unique per occurrence. */
  id: string;
  rule: string;
  state: AlertState;
  /** Current severity (raised by escalation). */
  severity: Severity;
  /** The rule's severity. */
  ruleSeverity: Severity;
  summary: string;
  remedy: string | null;
  metric: string;
  op: string;
  threshold: number;
  /** Latest value seen while active. */
  value: number | null;
  /** When the condition was first seen (pending since). ms since the epoch. */
  startedAt: number;
  firedAt: number | null;
  resolvedAt: number | null;
  acknowledgedAt: number | null;
  escalations: number;
  lastNotifiedAt: number | null;
  /** Where its runbook is (docs/operations/runbooks/alerts/<rule>.md). */
  runbook: string;
  /** 'rule': raised and resolved by a metric condition; 'event': raised once by something that happened, resolved when acknowledged. */
  source?: 'rule' | 'event';
}

export type AlertEventType = 'firing' | 'escalated' | 'resolved' | 'acknowledged';

export interface AlertEvent {
  type: AlertEventType;
  alert: Alert;
  at: number;
}

/**
 * Where notifications go: the dashboard banner, the log, an outgoing webhook, and later the tray
 * (registered by the Electron shell). A channel must not throw for a delivery problem it can
 * report itself; the engine catches and logs anything that escapes.
 */
export interface NotificationChannel {
  readonly name: string;
  notify(e: AlertEvent): void | Promise<void>;
}
