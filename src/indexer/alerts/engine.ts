import { randomBytes } from 'node:crypto';
import { OwletError, owletError } from '../../shared/errors.js';
import type { Logger } from '../log/logger.js';
import type { ChannelName, Severity } from '../config/monitoring-settings.js';
import type { Signals } from '../../shared/signals.js';
import { evaluateRule, raise, type AlertRule } from './rules.js';
import { alertRunbook } from '../../shared/runbooks.js';
import type { Alert, AlertEvent, AlertEventType, NotificationChannel } from './types.js';

/**
 * Alert lifecycle, one active alert per rule (that is the deduplication: a condition that keeps
 * holding updates its alert, it never opens a second one or notifies again):
 *
 *              condition holds                held for forSeconds
 *   (none) ─────────────────────▶ pending ─────────────────────────▶ firing ──┐ unacknowledged for
 *     ▲                             │                                 │  ▲   │ escalateAfter:
 *     │     condition gone          │                  condition gone │  └───┘ severity +1, re-notify
 *     ├─────────────────────────────┘ (dropped, nobody told)          ▼
 *     └──────────────────────────────────────────────────────────── resolved (history, notified)
 *
 * Acknowledging a firing alert stops its escalation and takes it off the banner; it stays firing
 * until the condition clears. Notifications (firing, escalated, resolved, acknowledged) go to the
 * channels routed for the alert's current severity. State survives restarts through the store,
 * so a restarted service neither forgets an acknowledgement nor notifies the same alert twice.
 */

export interface AlertStore {
  save(a: Alert): void;
  loadActive(): Alert[];
  history(limit: number): Alert[];
  /** Forgets an alert (a pending one whose condition cleared before it fired). */
  remove(id: string): void;
  /** Drops resolved alerts older than `before`. */
  prune(before: number): void;
}

export interface AlertEngineOptions {
  rules: readonly AlertRule[];
  /** 0 disables escalation. */
  escalateAfterMs: number;
  routes: Record<Severity, readonly ChannelName[]>;
  channels?: readonly NotificationChannel[];
  store?: AlertStore;
  historyMs?: number;
  now?: () => number;
  log: Logger;
}

const MEMORY_HISTORY = 200;

const raiseRank = (s: Severity): number => ({ info: 0, warning: 1, critical: 2 })[s];

/** A new occurrence of `rule` (`<rule>-<start time base36>-<random>`), not yet notified. */
function newAlert(
  rule: string,
  now: number,
  f: Pick<Alert, 'state' | 'severity' | 'summary' | 'remedy' | 'metric' | 'op' | 'threshold' | 'value' | 'firedAt' | 'source'>,
): Alert {
  return {
    id: `${rule}-${now.toString(36)}-${randomBytes(3).toString('hex')}`,
    rule,
    ruleSeverity: f.severity,
    startedAt: now,
    resolvedAt: null,
    acknowledgedAt: null,
    escalations: 0,
    lastNotifiedAt: null,
    runbook: alertRunbook(rule),
    ...f,
  };
}

export class AlertEngine {
  private readonly active = new Map<string, Alert>();
  private readonly memHistory: Alert[] = [];
  private readonly channels = new Map<string, NotificationChannel>();
  private readonly now: () => number;
  private readonly deliveries = new Set<Promise<void>>();
  private lastPrune = 0;
  private storeFailing = false;
  /** Told after every change of any alert (the metrics gauge, tests). */
  onDidChange: () => void = () => {};

  constructor(private readonly opts: AlertEngineOptions) {
    this.now = opts.now ?? Date.now;
    for (const c of opts.channels ?? []) this.channels.set(c.name, c);
    const rules = new Set(opts.rules.map((r) => r.id));
    for (const a of opts.store?.loadActive() ?? []) {
      // A rule removed from the configuration cannot resolve its alert any more: resolve it now.
      // An event alert waits for its acknowledgement across restarts.
      if (rules.has(a.rule) || a.source === 'event') this.active.set(a.rule, a);
      else this.finish(a, 'resolved');
    }
  }

  /** Adds a channel after start (the Electron tray); replaces one with the same name. */
  registerChannel(c: NotificationChannel): void {
    this.channels.set(c.name, c);
  }

  get rules(): readonly AlertRule[] {
    return this.opts.rules;
  }

  /** Applies one set of signal values to every rule. Call it at each sample. */
  evaluate(signals: Signals): void {
    const now = this.now();
    for (const rule of this.opts.rules) {
      const { value, holds } = evaluateRule(rule, signals);
      let a = this.active.get(rule.id);
      if (holds) {
        if (!a) {
          a = newAlert(rule.id, now, { state: 'pending', severity: rule.severity, summary: rule.summary, remedy: rule.remedy ?? null, metric: rule.metric, op: rule.op, threshold: rule.threshold, value, firedAt: null, source: 'rule' });
          this.active.set(rule.id, a);
        }
        a.value = value;
        if (a.state === 'pending' && now - a.startedAt >= rule.forSeconds * 1000) {
          a.state = 'firing';
          a.firedAt = now;
          this.emit('firing', a, now);
        } else if (a.state === 'firing' && a.acknowledgedAt === null && this.opts.escalateAfterMs > 0 && now - (a.lastNotifiedAt ?? a.firedAt ?? now) >= this.opts.escalateAfterMs) {
          a.severity = raise(a.severity);
          a.escalations++;
          this.emit('escalated', a, now);
        } else this.save(a);
      } else if (a) {
        this.active.delete(rule.id);
        if (a.state === 'pending') {
          // Never fired: nobody was told, nothing to keep.
          const id = a.id;
          this.persist((st) => st.remove(id));
          continue;
        }
        a.value = value;
        this.finish(a, 'resolved');
      }
    }
    if (now - this.lastPrune > 3_600_000) {
      this.lastPrune = now;
      this.persist((st) => st.prune(now - (this.opts.historyMs ?? 90 * 86_400_000)));
    }
    this.onDidChange();
  }

  private finish(a: Alert, _to: 'resolved'): void {
    const now = this.now();
    a.state = 'resolved';
    a.resolvedAt = now;
    this.memHistory.unshift(a);
    if (this.memHistory.length > MEMORY_HISTORY) this.memHistory.length = MEMORY_HISTORY;
    this.emit('resolved', a, now);
  }

  /**
   * An alert raised by something that happened rather than by a metric (a backup over its storage
   * budget, an update rolled back, an index recovered): it fires at once and stays until someone
   * acknowledges it, which resolves it, or until its raiser says the situation is over
   * (resolveEvent). The same event again while it is
   * active updates that alert instead of opening a second one.
   */
  report(event: { id: string; severity: Severity; message: string; remedy?: string }): Alert {
    const now = this.now();
    let a = this.active.get(event.id);
    if (a && a.source === 'event') {
      a.summary = event.message;
      a.value = (a.value ?? 1) + 1;
      if (raiseRank(event.severity) > raiseRank(a.severity)) a.severity = event.severity;
      this.save(a);
      this.onDidChange();
      return { ...a };
    }
    a = newAlert(event.id, now, { state: 'firing', severity: event.severity, summary: event.message, remedy: event.remedy ?? null, metric: 'event', op: '>=', threshold: 1, value: 1, firedAt: now, source: 'event' });
    this.active.set(event.id, a);
    this.emit('firing', a, now);
    this.onDidChange();
    return { ...a };
  }

  /**
   * The situation an event alert reported is over (a damaged index repaired and back in step with
   * the disk): it resolves without waiting for an acknowledgement, as a rule's alert does when its
   * condition clears. Nothing happens when no such event alert is active. Returns whether one was.
   */
  resolveEvent(rule: string): boolean {
    const a = this.active.get(rule);
    if (!a || a.source !== 'event') return false;
    this.active.delete(rule);
    this.finish(a, 'resolved');
    this.onDidChange();
    return true;
  }

  /** Marks an active alert acknowledged: no escalation, off the banner (an event alert resolves). Idempotent. */
  acknowledge(id: string): Alert {
    const a = [...this.active.values()].find((x) => x.id === id);
    if (!a) throw owletError('OWL_ERR_NOT_FOUND', { reason: `no active alert with id "${id}" (it may have resolved already)` });
    if (a.acknowledgedAt === null) {
      a.acknowledgedAt = this.now();
      this.emit('acknowledged', a, a.acknowledgedAt);
      if (a.source === 'event') {
        this.active.delete(a.rule);
        this.finish(a, 'resolved');
      }
      this.onDidChange();
    }
    return a;
  }

  /** Pending and firing alerts, most severe and then newest first. */
  activeAlerts(): Alert[] {
    const rank: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };
    return [...this.active.values()].map((a) => ({ ...a })).sort((x, y) => rank[x.severity] - rank[y.severity] || y.startedAt - x.startedAt);
  }

  /** Resolved alerts, newest first. */
  history(limit = 50): Alert[] {
    return this.opts.store ? this.opts.store.history(limit) : this.memHistory.slice(0, limit).map((a) => ({ ...a }));
  }

  /** Resolves when notifications in flight (webhooks) have been delivered or given up. */
  async settled(): Promise<void> {
    while (this.deliveries.size) await Promise.allSettled([...this.deliveries]);
  }

  private readonly reportedMissing = new Set<string>();

  /**
   * A route names a channel nobody registered (the tray when no app runs, #13): said once per
   * channel in the log, so a notification is never dropped without a trace.
   */
  private unregistered(name: string): void {
    if (this.reportedMissing.has(name)) return;
    this.reportedMissing.add(name);
    this.opts.log.info('alert route names a channel that is not registered; notifications for it are not delivered', { channel: name });
  }

  /**
   * Saves alert state. A store that cannot write (metrics.db on a full disk) must not stop the
   * evaluation: the alert saying the disk is full would never fire (found by the chaos run). The
   * alert lives on in memory; the failure is logged once until a write succeeds again.
   */
  private persist(write: (store: NonNullable<AlertEngineOptions['store']>) => void): void {
    const store = this.opts.store;
    if (!store) return;
    try {
      write(store);
      this.storeFailing = false;
    } catch (e) {
      if (!this.storeFailing) this.opts.log.warn('alert state not saved; kept in memory until the store writes again', { error: e });
      this.storeFailing = true;
    }
  }

  private save(a: Alert): void {
    this.persist((st) => st.save(a));
  }

  private emit(type: AlertEventType, a: Alert, at: number): void {
    if (type !== 'acknowledged' && type !== 'resolved') a.lastNotifiedAt = at;
    this.save(a);
    const event: AlertEvent = { type, alert: { ...a }, at };
    this.opts.log.debug('alert event', { event: type, alert: a.id, rule: a.rule, severity: a.severity });
    for (const name of new Set(this.opts.routes[a.severity])) {
      const ch = this.channels.get(name);
      if (!ch) {
        this.unregistered(name);
        continue;
      }
      try {
        const r = ch.notify(event);
        if (r instanceof Promise) {
          const p = r.catch((e) => this.opts.log.warn('alert notification failed', { channel: name, alert: a.id, error: e }));
          this.deliveries.add(p);
          void p.finally(() => this.deliveries.delete(p));
        }
      } catch (e) {
        this.opts.log.warn('alert notification failed', { channel: name, alert: a.id, error: e });
      }
    }
  }
}
