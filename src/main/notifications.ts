import type { AlertNotice } from '../shared/protocol.js';

/**
 * Alerts routed to `tray` as OS notifications. The service's engine already deduplicates (one
 * alert per rule while its condition holds); this is about what a person can stand:
 *
 * - rate-limited: at most `maxPerWindow` notifications per `windowMs`; the rest are counted and
 *   the next one shown says how many more there were;
 * - collapsed: the same rule firing again within `collapseMs` of its last notification shows
 *   nothing new; the next time it is shown it says how often it repeated;
 * - a click opens the dashboard at that alert;
 * - a resolved alert says so once, and only for an alert the user was told about.
 *
 * Electron's Notification is passed in as a factory (tests pass a fake).
 */
export interface NotificationLike {
  show(): void;
  close(): void;
  on(event: 'click', listener: () => void): unknown;
  on(event: 'close', listener: () => void): unknown;
}

export type NotificationFactory = (o: { title: string; body: string; silent?: boolean; urgency?: 'normal' | 'critical' | 'low' }) => NotificationLike;

export interface AlertNotifierOptions {
  create: NotificationFactory;
  /** Opens the dashboard at an alert. */
  open: (alertId: string) => void;
  now?: () => number;
  maxPerWindow?: number;
  windowMs?: number;
  collapseMs?: number;
}

export type NotifyOutcome = 'shown' | 'collapsed' | 'rate-limited' | 'ignored';

/** Bounds on what is remembered (an app that runs for months). */
const MAX_REMEMBERED = 500;
const MAX_LIVE = 20;

export class AlertNotifier {
  private readonly now: () => number;
  private readonly maxPerWindow: number;
  private readonly windowMs: number;
  private readonly collapseMs: number;
  private shownAt: number[] = [];
  private suppressed = 0;
  /** rule → when it was last shown and how often it repeated since. */
  private readonly byRule = new Map<string, { at: number; repeats: number }>();
  /** Alert ids the user was told about (a resolution is only news for those). */
  private readonly told = new Set<string>();
  private readonly resolved = new Set<string>();
  /** Shown notifications are kept referenced: Electron drops click handlers of collected ones. */
  private readonly live = new Set<NotificationLike>();

  constructor(private readonly o: AlertNotifierOptions) {
    this.now = o.now ?? Date.now;
    this.maxPerWindow = o.maxPerWindow ?? 3;
    this.windowMs = o.windowMs ?? 60_000;
    this.collapseMs = o.collapseMs ?? 15 * 60_000;
  }

  handle(n: AlertNotice): NotifyOutcome {
    if (n.event === 'acknowledged') return 'ignored';
    const now = this.now();
    if (n.event === 'resolved') {
      if (!this.told.has(n.id) || this.resolved.has(n.id)) return 'ignored';
      if (!this.allow(now)) return 'rate-limited';
      remember(this.resolved, n.id);
      this.show(n.id, `Resolved: ${n.summary}`, 'Owlet no longer sees this problem.', 'low');
      return 'shown';
    }
    const last = this.byRule.get(n.rule);
    if (last && now - last.at < this.collapseMs && n.event === 'firing') {
      last.repeats++;
      remember(this.told, n.id);
      return 'collapsed';
    }
    if (!this.allow(now)) return 'rate-limited';
    const repeats = last?.repeats ?? 0;
    this.byRule.set(n.rule, { at: now, repeats: 0 });
    if (this.byRule.size > MAX_REMEMBERED) this.byRule.delete(this.byRule.keys().next().value!);
    remember(this.told, n.id);
    const title = `${n.severity === 'critical' ? 'Owlet needs attention' : 'Owlet'}: ${n.summary}`;
    const parts = [n.remedy ?? 'Open Owlet for details.'];
    if (n.event === 'escalated') parts.unshift('Still unresolved.');
    if (repeats > 0) parts.push(`It happened ${repeats} more time${repeats === 1 ? '' : 's'} before.`);
    this.show(n.id, title, parts.join(' '), n.severity === 'critical' ? 'critical' : 'normal');
    return 'shown';
  }

  private allow(now: number): boolean {
    this.shownAt = this.shownAt.filter((t) => now - t < this.windowMs);
    if (this.shownAt.length >= this.maxPerWindow) {
      this.suppressed++;
      return false;
    }
    this.shownAt.push(now);
    return true;
  }

  private show(alertId: string, title: string, body: string, urgency: 'normal' | 'critical' | 'low'): void {
    let text = body;
    if (this.suppressed > 0) {
      text += ` (${this.suppressed} more notification${this.suppressed === 1 ? ' was' : 's were'} held back: see the dashboard.)`;
      this.suppressed = 0;
    }
    const n = this.o.create({ title, body: text, urgency, silent: urgency === 'low' });
    this.live.add(n);
    if (this.live.size > MAX_LIVE) this.live.delete(this.live.values().next().value!);
    n.on('click', () => this.o.open(alertId));
    n.on('close', () => this.live.delete(n));
    n.show();
  }
}

function remember(set: Set<string>, id: string): void {
  set.add(id);
  if (set.size > MAX_REMEMBERED) set.delete(set.values().next().value!);
}
