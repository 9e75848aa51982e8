// Alerts routed to `tray` as OS notifications (#13): rate-limited, collapsed when they repeat, a
// click opens the dashboard at that alert, a resolved alert says so once. Electron's Notification
// is a fake; the clock is the test's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlertNotifier, type NotificationLike } from '../../src/main/notifications.js';
import type { AlertNotice } from '../../src/shared/protocol.js';

class FakeNotification implements NotificationLike {
  shown = false;
  private readonly handlers = new Map<string, () => void>();
  constructor(readonly o: { title: string; body: string; urgency?: string }) {}
  show() {
    this.shown = true;
  }
  close() {
    this.handlers.get('close')?.();
  }
  on(event: string, l: () => void) {
    this.handlers.set(event, l);
    return this;
  }
  click() {
    this.handlers.get('click')!();
  }
}

function setup(opts: { maxPerWindow?: number; windowMs?: number; collapseMs?: number } = {}) {
  const made: FakeNotification[] = [];
  const opened: string[] = [];
  const clock = { t: 1_000_000 };
  const n = new AlertNotifier({ create: (o) => (made.push(new FakeNotification(o)), made.at(-1)!), open: (id) => opened.push(id), now: () => clock.t, ...opts });
  return { n, made, opened, clock };
}

let seq = 0;
function notice(rule: string, event: AlertNotice['event'] = 'firing', over: Partial<AlertNotice> = {}): AlertNotice {
  return { event, at: 0, id: `${rule}-${(seq++).toString(36)}`, rule, severity: 'warning', summary: `${rule} happened`, remedy: `fix ${rule}`, ...over };
}

test('a firing alert becomes one notification with the remedy; a click opens the dashboard at that alert', () => {
  const { n, made, opened } = setup();
  const a = notice('disk-low', 'firing', { severity: 'critical' });
  assert.equal(n.handle(a), 'shown');
  assert.equal(made.length, 1);
  assert.ok(made[0]!.shown);
  assert.equal(made[0]!.o.title, 'Owlet needs attention: disk-low happened');
  assert.equal(made[0]!.o.body, 'fix disk-low');
  assert.equal(made[0]!.o.urgency, 'critical');
  made[0]!.click();
  assert.deepEqual(opened, [a.id]);
  assert.equal(n.handle({ ...a, event: 'acknowledged' }), 'ignored', 'acknowledging is the user\'s own act: no notification');
});

test('notifications are rate-limited, and the next one shown says how many were held back', () => {
  const { n, made, clock } = setup({ maxPerWindow: 3, windowMs: 60_000 });
  const outcomes = ['a', 'b', 'c', 'd', 'e'].map((r) => n.handle(notice(r)));
  assert.deepEqual(outcomes, ['shown', 'shown', 'shown', 'rate-limited', 'rate-limited']);
  assert.equal(made.length, 3);
  clock.t += 60_001;
  assert.equal(n.handle(notice('f')), 'shown');
  assert.match(made.at(-1)!.o.body, /2 more notifications were held back/);
  assert.equal(n.handle(notice('g')), 'shown');
  assert.doesNotMatch(made.at(-1)!.o.body, /held back/, 'the count is said once');
});

test('the same rule firing again soon is collapsed, and its next notification says how often it repeated', () => {
  const { n, made, clock } = setup({ collapseMs: 10 * 60_000, maxPerWindow: 100 });
  assert.equal(n.handle(notice('slow')), 'shown');
  clock.t += 60_000;
  assert.equal(n.handle(notice('slow')), 'collapsed');
  clock.t += 60_000;
  assert.equal(n.handle(notice('slow')), 'collapsed');
  assert.equal(n.handle(notice('other')), 'shown', 'another rule is not collapsed');
  assert.equal(made.length, 2);
  clock.t += 10 * 60_000;
  assert.equal(n.handle(notice('slow')), 'shown');
  assert.match(made.at(-1)!.o.body, /happened 2 more times before/);
  // An escalation of a still-firing alert is news, even inside the collapse window.
  clock.t += 1000;
  assert.equal(n.handle(notice('slow', 'escalated')), 'shown');
  assert.match(made.at(-1)!.o.body, /^Still unresolved\./);
});

test('a resolved alert says so once, and only when the user was told it fired', () => {
  const { n, made, opened } = setup({ maxPerWindow: 100 });
  const a = notice('disk-low');
  n.handle(a);
  assert.equal(n.handle({ ...a, event: 'resolved' }), 'shown');
  assert.equal(made.at(-1)!.o.title, 'Resolved: disk-low happened');
  made.at(-1)!.click();
  assert.deepEqual(opened, [a.id]);
  assert.equal(n.handle({ ...a, event: 'resolved' }), 'ignored', 'said once');
  assert.equal(n.handle(notice('never-told', 'resolved')), 'ignored', 'news only for an alert the user saw');
  assert.equal(made.length, 2);
});
