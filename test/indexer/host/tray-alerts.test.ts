// Alerts routed to `tray` reach the app (#13): the service's engine sends each event routed to the
// `tray` channel as a typed `alert` message (only when the host asked with --tray-alerts), the
// message contract validates it, and the host re-emits it as onDidAlert.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlertEngine } from '../../../src/indexer/alerts/engine.js';
import { createIndexerHost, serveArgs } from '../../../src/indexer/host/indexer-host.js';
import type { ChildHandle, LaunchSpec } from '../../../src/indexer/host/launcher.js';
import { trayAlertChannel } from '../../../src/indexer/host/tray-alerts.js';
import { createLogger, nullLogger } from '../../../src/indexer/log/logger.js';
import type { AlertRule } from '../../../src/indexer/config/monitoring-settings.js';
import type { HostChannel } from '../../../src/indexer/service/host-channel.js';
import { isServiceMessage, PROTOCOL_VERSION, type AlertNotice, type ServiceMessage } from '../../../src/shared/protocol.js';
import { within } from './helpers.js';

const disk: AlertRule = { id: 'disk-low', metric: 'disk_free_bytes', op: '<', threshold: 100, forSeconds: 0, severity: 'warning', summary: 'the data disk is nearly full', remedy: 'free some space' };

function fakeHostChannel(): HostChannel & { sent: ServiceMessage[] } {
  const sent: ServiceMessage[] = [];
  return { kind: 'node-ipc', sent, send: (m) => void sent.push(m), sendFinal: async (m) => void sent.push(m), onMessage: () => {}, onDisconnect: () => {}, close: () => {} };
}

test('events the engine routes to tray leave the service as valid alert messages; other routes do not', () => {
  const host = fakeHostChannel();
  const now = { t: 1_000_000 };
  const lines: string[] = [];
  const engine = new AlertEngine({
    rules: [disk, { ...disk, id: 'info-only', metric: 'queue_depth', op: '>', threshold: 0, severity: 'info', summary: 'info' }],
    escalateAfterMs: 0,
    routes: { info: ['log'], warning: ['tray'], critical: ['tray'] },
    channels: [trayAlertChannel(host), { name: 'log', notify: () => {} }],
    now: () => now.t,
    log: createLogger({ write: (l) => void lines.push(l) }),
  });
  engine.evaluate({ disk_free_bytes: 50, queue_depth: 1 });
  engine.evaluate({ disk_free_bytes: 40, queue_depth: 1 }); // still firing: deduplicated by the engine
  now.t += 60_000;
  engine.evaluate({ disk_free_bytes: 500, queue_depth: 1 });
  assert.deepEqual(
    host.sent.map((m) => (m.type === 'alert' ? `${m.notice.event}:${m.notice.rule}` : m.type)),
    ['firing:disk-low', 'resolved:disk-low'],
  );
  for (const m of host.sent) assert.ok(isServiceMessage(m), 'the host accepts what the service sends');
  const first = host.sent[0] as Extract<ServiceMessage, { type: 'alert' }>;
  assert.equal(first.notice.summary, 'the data disk is nearly full');
  assert.equal(first.notice.remedy, 'free some space');
  assert.equal(first.notice.severity, 'warning');
  assert.ok(!lines.some((l) => l.includes('not registered')), 'tray is a registered channel here');
});

test('the message contract refuses a malformed alert notice', () => {
  const ok: AlertNotice = { event: 'firing', at: 1, id: 'disk-low-abc-123', rule: 'disk-low', severity: 'critical', summary: 's', remedy: null };
  assert.ok(isServiceMessage({ type: 'alert', notice: ok }));
  for (const bad of [
    { ...ok, event: 'exploded' },
    { ...ok, id: '../../etc' },
    { ...ok, severity: 'fatal' },
    { ...ok, at: Number.NaN },
    { ...ok, summary: 'x'.repeat(1001) },
    { ...ok, remedy: 5 },
    null,
  ]) {
    assert.equal(isServiceMessage({ type: 'alert', notice: bad }), false, JSON.stringify(bad));
  }
});

test('only a host that asks gets --tray-alerts on the serve command line', () => {
  const base = { dataDir: '/d', port: undefined, keyFromHost: false, forwardLogs: 'warn' as const };
  assert.ok(serveArgs({ ...base, trayAlerts: true }).includes('--tray-alerts'));
  assert.ok(!serveArgs(base).includes('--tray-alerts'));
});

test('the indexer host re-emits the child\'s alert messages as onDidAlert, and ignores malformed ones', async () => {
  const specs: LaunchSpec[] = [];
  let msgCb: (m: unknown) => void = () => {};
  let exitCb: (code: number | null, signal: string | null) => void = () => {};
  const child: ChildHandle = {
    pid: 777,
    send: (m) => {
      if (m.type === 'shutdown') setImmediate(() => exitCb(0, null));
    },
    kill: () => setImmediate(() => exitCb(null, 'SIGKILL')),
    onMessage: (cb) => void (msgCb = cb),
    onExit: (cb) => void (exitCb = cb),
  };
  const host = createIndexerHost({ dataDir: '/tmp/unused', entry: { modulePath: '/x.js' }, launcher: (s) => (specs.push(s), child), trayAlerts: true, log: nullLogger });
  const got: AlertNotice[] = [];
  host.onDidAlert((n) => got.push(n));
  host.start();
  assert.ok(specs[0]!.args.includes('--tray-alerts'));
  msgCb({ type: 'ready', protocol: PROTOCOL_VERSION, url: 'http://127.0.0.1:1', port: 1, pid: 777 });
  const notice: AlertNotice = { event: 'firing', at: 5, id: 'disk-low-1-aa', rule: 'disk-low', severity: 'warning', summary: 'low', remedy: null };
  msgCb({ type: 'alert', notice });
  msgCb({ type: 'alert', notice: { ...notice, id: 'NOT VALID' } });
  assert.deepEqual(got, [notice]);
  await within(host.stop('test'), 10_000, 'stop');
});
