import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlertEngine } from '../../../src/indexer/alerts/engine.js';
import { BannerChannel } from '../../../src/indexer/alerts/channels.js';
import { SqliteAlertStore } from '../../../src/indexer/alerts/store.js';
import type { AlertEvent, NotificationChannel } from '../../../src/indexer/alerts/types.js';
import { createLogger, nullLogger } from '../../../src/indexer/log/logger.js';
import { openMetricsDb } from '../../../src/indexer/store/metrics-db.js';
import { AlertSettings, DEFAULT_ALERT_RULES, effectiveRules, type AlertRule } from '../../../src/indexer/config/monitoring-settings.js';
import { ConfigSchema } from '../../../src/indexer/config/schema.js';
import { closeDatabase } from '../../../src/indexer/store/db.js';
import { tmpDir } from '../../helpers/tmp.js';

const MIN = 60_000;

function recorder(name: string): NotificationChannel & { events: string[] } {
  const events: string[] = [];
  return { name, events, notify: (e: AlertEvent) => void events.push(`${e.type}:${e.alert.rule}:${e.alert.severity}`) };
}

const slow: AlertRule = { id: 'search-slow', metric: 'search_p95_ms', op: '>', threshold: 1000, forSeconds: 300, severity: 'warning', summary: 'searches are slow' };
const disk: AlertRule = { id: 'disk-critical', metric: 'disk_free_bytes', op: '<', threshold: 100, forSeconds: 0, severity: 'critical', summary: 'disk nearly full' };

function engine(now: { t: number }, opts: { escalateAfterMs?: number; store?: SqliteAlertStore; rules?: AlertRule[] } = {}) {
  const log = recorder('log');
  const hook = recorder('webhook');
  const banner = new BannerChannel();
  const e = new AlertEngine({
    rules: opts.rules ?? [slow, disk],
    escalateAfterMs: opts.escalateAfterMs ?? 30 * MIN,
    routes: { info: ['log'], warning: ['banner', 'log'], critical: ['banner', 'log', 'webhook'] },
    channels: [banner, log, hook],
    ...(opts.store ? { store: opts.store } : {}),
    now: () => now.t,
    log: nullLogger,
  });
  return { e, log, hook, banner };
}

test('pending → firing only after the condition held for its duration; a blip never notifies', () => {
  const now = { t: 0 };
  const { e, log } = engine(now);
  e.evaluate({ search_p95_ms: 1500 });
  assert.equal(e.activeAlerts()[0]?.state, 'pending');
  now.t += 2 * MIN;
  e.evaluate({ search_p95_ms: 200 });
  assert.equal(e.activeAlerts().length, 0, 'dropped: it never fired');
  assert.equal(e.history().length, 0, 'and it is not history either');
  assert.deepEqual(log.events, []);

  e.evaluate({ search_p95_ms: 1500 });
  now.t += 4 * MIN;
  e.evaluate({ search_p95_ms: 1500 });
  assert.equal(e.activeAlerts()[0]?.state, 'pending');
  now.t += 1 * MIN;
  e.evaluate({ search_p95_ms: 1600 });
  const a = e.activeAlerts()[0]!;
  assert.equal(a.state, 'firing');
  assert.equal(a.value, 1600);
  assert.equal(a.firedAt, now.t);
  assert.deepEqual(log.events, ['firing:search-slow:warning']);
});

test('a condition that keeps holding is one alert with one notification (deduplicated); it resolves once', () => {
  const now = { t: 0 };
  const { e, log, hook, banner } = engine(now);
  for (let i = 0; i < 20; i++) {
    e.evaluate({ disk_free_bytes: 10 + i });
    now.t += 5_000;
  }
  assert.equal(e.activeAlerts().length, 1);
  assert.equal(e.activeAlerts()[0]!.value, 29);
  assert.deepEqual(log.events, ['firing:disk-critical:critical']);
  assert.deepEqual(hook.events, ['firing:disk-critical:critical'], 'critical is routed to the webhook');
  assert.equal(banner.entries().length, 1);
  e.evaluate({ disk_free_bytes: 5000 });
  e.evaluate({ disk_free_bytes: 5000 });
  assert.equal(e.activeAlerts().length, 0);
  assert.deepEqual(log.events, ['firing:disk-critical:critical', 'resolved:disk-critical:critical']);
  assert.equal(banner.entries().length, 0);
  const [h] = e.history();
  assert.equal(h?.state, 'resolved');
  assert.equal(h?.resolvedAt, now.t);
  // A new occurrence is a new alert with a new id.
  now.t += MIN;
  e.evaluate({ disk_free_bytes: 1 });
  assert.notEqual(e.activeAlerts()[0]!.id, h!.id);
  // No value is no alert: a missing signal resolves rather than fires.
  e.evaluate({});
  assert.equal(e.activeAlerts().length, 0);
});

test('an unacknowledged firing alert escalates (severity raised, re-notified, new routes); acknowledging stops it and clears the banner', () => {
  const now = { t: 0 };
  const { e, log, hook, banner } = engine(now, { escalateAfterMs: 30 * MIN });
  const hold = (minutes: number) => {
    for (let i = 0; i < minutes; i++) {
      e.evaluate({ search_p95_ms: 2000 });
      now.t += MIN;
    }
  };
  hold(6); // fires after 5 minutes
  assert.deepEqual(log.events, ['firing:search-slow:warning']);
  assert.deepEqual(hook.events, [], 'warnings do not go to the webhook');
  hold(30);
  assert.deepEqual(log.events, ['firing:search-slow:warning', 'escalated:search-slow:critical']);
  assert.deepEqual(hook.events, ['escalated:search-slow:critical'], 'escalated to critical: now routed to the webhook too');
  const a = e.activeAlerts()[0]!;
  assert.equal(a.escalations, 1);
  assert.equal(a.ruleSeverity, 'warning');
  hold(30);
  assert.equal(e.activeAlerts()[0]!.escalations, 2, 're-notified again after another delay');
  assert.equal(banner.entries().length, 1);

  e.acknowledge(a.id);
  assert.equal(banner.entries().length, 0, 'acknowledged: off the banner');
  assert.equal(e.activeAlerts()[0]!.state, 'firing', 'still firing until the condition clears');
  const count = log.events.length;
  hold(120);
  assert.equal(log.events.length, count, 'no escalation after acknowledgement');
  assert.equal(log.events.filter((x) => x.startsWith('escalated')).length, 2);
  assert.throws(() => e.acknowledge('nope-1'), /no active alert/);
  e.acknowledge(a.id); // idempotent
});

test('alerts survive a restart: no second notification for a firing alert, acknowledgement kept, history kept', () => {
  const dir = tmpDir('owlet-alerts-');
  const db = openMetricsDb(dir, null);
  try {
    const now = { t: 1_000_000 };
    const first = engine(now, { store: new SqliteAlertStore(db) });
    first.e.evaluate({ disk_free_bytes: 1 });
    first.e.acknowledge(first.e.activeAlerts()[0]!.id);
    first.e.evaluate({ search_p95_ms: 5000 }); // disk resolves (no value), slow goes pending
    assert.equal(first.e.history().length, 1);
    first.e.evaluate({ search_p95_ms: 5000, disk_free_bytes: 2 });

    now.t += MIN;
    const second = engine(now, { store: new SqliteAlertStore(db) });
    const active = second.e.activeAlerts();
    assert.deepEqual(active.map((a) => [a.rule, a.state]).sort(), [['disk-critical', 'firing'], ['search-slow', 'pending']]);
    second.e.evaluate({ search_p95_ms: 5000, disk_free_bytes: 3 });
    assert.deepEqual(second.log.events, [], 'already-notified alerts are not notified again');
    now.t += 5 * MIN;
    second.e.evaluate({ search_p95_ms: 5000, disk_free_bytes: 3 });
    assert.deepEqual(second.log.events, ['firing:search-slow:warning'], 'the pending one keeps its start time across the restart');
    assert.equal(second.e.history().length, 1);
    // A rule removed from the configuration resolves its alert at start.
    const third = engine(now, { store: new SqliteAlertStore(db), rules: [slow] });
    assert.deepEqual(third.e.activeAlerts().map((a) => a.rule), ['search-slow']);
    assert.deepEqual(third.log.events, ['resolved:disk-critical:critical']);
  } finally {
    closeDatabase(db);
  }
});

test('rules are validated configuration with sensible defaults; admins add, replace and disable rules', () => {
  const defaults = AlertSettings.parse({});
  assert.deepEqual(
    effectiveRules(defaults).map((r) => r.id),
    ['disk-space-low', 'disk-space-critical', 'extraction-failures-high', 'breaker-open-long', 'crash-loop', 'search-slow', 'integrity-failed', 'backup-skipped', 'backup-stale', 'config-restored'],
  );
  assert.equal(DEFAULT_ALERT_RULES.length, 10);
  const custom = AlertSettings.parse({
    rules: [
      { id: 'search-slow', metric: 'search_p95_ms', op: '>', threshold: 250, forSeconds: 60, summary: 'slower than we like' },
      { id: 'queue-long', metric: 'queue_depth', op: '>=', threshold: 10_000, summary: 'big backlog', severity: 'info' },
    ],
    disabledRules: ['backup-stale'],
  });
  const eff = effectiveRules(custom);
  assert.equal(eff.find((r) => r.id === 'search-slow')?.threshold, 250);
  assert.equal(eff.find((r) => r.id === 'search-slow')?.severity, 'warning', 'severity defaults');
  assert.ok(eff.some((r) => r.id === 'queue-long'));
  assert.ok(!eff.some((r) => r.id === 'backup-stale'));
  for (const [bad, where] of [
    [{ rules: [{ id: 'x', metric: 'cpu', op: '>', threshold: 1, summary: 's' }] }, /rules\.0\.metric/],
    [{ rules: [{ id: 'x', metric: 'cpu_ratio', op: '=>', threshold: 1, summary: 's' }] }, /rules\.0\.op/],
    [{ rules: [{ id: 'X Y', metric: 'cpu_ratio', op: '>', threshold: 1, summary: 's' }] }, /rules\.0\.id/],
    [{ rules: [{ id: 'x', metric: 'cpu_ratio', op: '>', threshold: 1, summary: 's', severty: 'info' }] }, /severty/],
    [{ rules: [{ id: 'x', metric: 'cpu_ratio', op: '>', threshold: 1, summary: 's' }, { id: 'x', metric: 'cpu_ratio', op: '<', threshold: 1, summary: 't' }] }, /duplicate rule id/],
    [{ webhook: { url: 'ftp://example.com/hook' } }, /webhook\.url/],
    [{ routes: { critical: ['pager'] } }, /routes\.critical/],
  ] as const) {
    const r = ConfigSchema.safeParse({ monitoring: { alerts: bad } });
    assert.equal(r.success, false, JSON.stringify(bad));
    const text = r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    assert.match(text, where);
  }
  const full = ConfigSchema.parse({});
  assert.equal(full.monitoring.enabled, true);
  assert.equal(full.monitoring.alerts.webhook.url, null, 'the webhook is off by default');
});

test('a backup skipped for lack of space fires the default backup-skipped alert; a later good backup resolves it', () => {
  const now = { t: 0 };
  const { e, banner } = engine(now, { rules: DEFAULT_ALERT_RULES });
  e.evaluate({ backup_skipped: 1 });
  assert.equal(e.activeAlerts().find((a) => a.rule === 'backup-skipped')?.state, 'firing');
  assert.ok(banner.entries().some((a) => a.rule === 'backup-skipped'));
  now.t += MIN;
  e.evaluate({ backup_skipped: 0 });
  assert.ok(!e.activeAlerts().some((a) => a.rule === 'backup-skipped'));
});

test('a route to a channel nobody registered (the tray without the app) is logged once, not dropped silently; registering it later delivers', () => {
  const lines: { msg: string; channel?: unknown }[] = [];
  const log = createLogger({ write: (l: string) => void lines.push(JSON.parse(l)) }, { level: 'debug' });
  const now = { t: 0 };
  const e = new AlertEngine({
    rules: [disk],
    escalateAfterMs: 30 * MIN,
    routes: { info: [], warning: [], critical: ['tray'] },
    channels: [],
    now: () => now.t,
    log,
  });
  e.evaluate({ disk_free_bytes: 1 });
  e.evaluate({ disk_free_bytes: 500 });
  e.evaluate({ disk_free_bytes: 1 });
  const missing = lines.filter((l) => /not registered/.test(l.msg));
  assert.equal(missing.length, 1, 'said once, not per notification');
  assert.equal(missing[0]!.channel, 'tray');
  const tray = recorder('tray');
  e.registerChannel(tray);
  e.evaluate({ disk_free_bytes: 500 });
  assert.deepEqual(tray.events, ['resolved:disk-critical:critical']);
});

test('an event alert fires at once, names its runbook, folds repeats into one alert, and resolves when acknowledged', () => {
  const now = { t: 1_000_000 };
  const { e, log, hook, banner } = engine(now);
  const a = e.report({ id: 'backup-budget', severity: 'warning', message: 'the backups hold only 4 restore points' });
  assert.equal(a.state, 'firing');
  assert.equal(a.source, 'event');
  assert.equal(a.runbook, 'docs/operations/runbooks/alerts/backup-budget.md');
  assert.deepEqual(log.events, ['firing:backup-budget:warning']);
  assert.equal(banner.entries().length, 1);
  // The same event again while it is active: the same alert, counted, severity raised, nobody re-notified.
  now.t += MIN;
  const again = e.report({ id: 'backup-budget', severity: 'critical', message: 'the backups hold only 2 restore points' });
  assert.equal(again.id, a.id);
  assert.equal(again.value, 2);
  assert.equal(again.severity, 'critical');
  assert.equal(again.summary, 'the backups hold only 2 restore points');
  assert.deepEqual(log.events, ['firing:backup-budget:warning']);
  assert.deepEqual(hook.events, []);
  // No metric condition will clear it: rule evaluation leaves it alone…
  e.evaluate({ disk_free_bytes: 1e9 });
  assert.equal(e.activeAlerts().length, 1);
  // …and acknowledging it resolves it.
  e.acknowledge(a.id);
  assert.equal(e.activeAlerts().length, 0);
  assert.equal(e.history(5)[0]!.id, a.id);
  assert.equal(e.history(5)[0]!.state, 'resolved');
  // Rule alerts name their runbook too.
  e.evaluate({ disk_free_bytes: 1 });
  assert.equal(e.activeAlerts()[0]!.runbook, 'docs/operations/runbooks/alerts/disk-critical.md');
});

test('an event alert whose situation is over (resolveEvent) resolves without an acknowledgement, notifies it, and survives as history; rule alerts and absent ones are left alone', () => {
  const db = openMetricsDb(tmpDir('owlet-event-over-'), null);
  try {
    const now = { t: 2_000_000 };
    const store = new SqliteAlertStore(db);
    const { e, log, banner } = engine(now, { store });
    const a = e.report({ id: 'index-corrupt', severity: 'critical', message: 'index damage detected' });
    e.evaluate({ disk_free_bytes: 1 });
    assert.equal(banner.entries().length, 2);
    now.t += 5_000;
    assert.equal(e.resolveEvent('index-corrupt'), true);
    assert.deepEqual(e.activeAlerts().map((x) => x.rule), ['disk-critical']);
    assert.deepEqual(log.events, ['firing:index-corrupt:critical', 'firing:disk-critical:critical', 'resolved:index-corrupt:critical']);
    assert.equal(banner.entries().length, 1, 'off the banner');
    const h = e.history(5)[0]!;
    assert.equal(h.id, a.id);
    assert.equal(h.state, 'resolved');
    assert.equal(h.resolvedAt, now.t);
    assert.equal(h.acknowledgedAt, null, 'resolved, not acknowledged');
    // Only event alerts: a rule alert resolves by its condition alone.
    assert.equal(e.resolveEvent('disk-critical'), false);
    assert.equal(e.activeAlerts().length, 1);
    // Nothing active under that id: nothing happens, nobody is told.
    assert.equal(e.resolveEvent('index-corrupt'), false);
    assert.equal(e.resolveEvent('index-recovered'), false);
    assert.equal(log.events.length, 3);
    // A restarted engine does not bring it back.
    assert.deepEqual(engine(now, { store }).e.activeAlerts().map((x) => x.rule), ['disk-critical']);
  } finally {
    closeDatabase(db);
  }
});

test('an unacknowledged event alert survives a restart; a rule alert of a removed rule does not', () => {
  const db = openMetricsDb(tmpDir('owlet-events-'), null);
  try {
    const now = { t: 5_000_000 };
    const store = new SqliteAlertStore(db);
    const first = engine(now, { store });
    first.e.report({ id: 'update-rolled-back', severity: 'warning', message: '1.3.0 failed its health gate' });
    first.e.evaluate({ disk_free_bytes: 1 });
    const second = engine(now, { store, rules: [slow] });
    assert.deepEqual(second.e.activeAlerts().map((x) => x.rule), ['update-rolled-back']);
  } finally {
    closeDatabase(db);
  }
});

test('a store that cannot write (metrics.db on the full disk) does not stop evaluation: the disk alert still fires, and is saved once writes work again', () => {
  const dir = tmpDir('owlet-alerts-');
  const db = openMetricsDb(dir, null);
  try {
    const real = new SqliteAlertStore(db);
    let full = false;
    const refuse = () => {
      if (full) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    };
    const store = Object.assign(Object.create(real) as SqliteAlertStore, {
      save: (a: Parameters<SqliteAlertStore['save']>[0]) => (refuse(), real.save(a)),
      remove: (id: string) => (refuse(), real.remove(id)),
      prune: (before: number) => (refuse(), real.prune(before)),
    });
    const now = { t: 1_000_000 };
    // The slow-search rule is evaluated first and holds: its save is the one that fails first.
    const { e, hook } = engine(now, { store });
    e.evaluate({ search_p95_ms: 5000 });
    full = true;
    now.t += MIN;
    e.evaluate({ search_p95_ms: 5000, disk_free_bytes: 0 });
    assert.deepEqual(e.activeAlerts().map((a) => [a.rule, a.state]).sort(), [['disk-critical', 'firing'], ['search-slow', 'pending']]);
    assert.deepEqual(hook.events, ['firing:disk-critical:critical'], 'the critical alert reached its channels');
    assert.deepEqual(real.loadActive().map((a) => a.rule), ['search-slow'], 'nothing could be written meanwhile');
    full = false;
    now.t += MIN;
    e.evaluate({ search_p95_ms: 5000, disk_free_bytes: 0 });
    assert.deepEqual(real.loadActive().map((a) => a.rule).sort(), ['disk-critical', 'search-slow'], 'saved at the next evaluation');
  } finally {
    closeDatabase(db);
  }
});
