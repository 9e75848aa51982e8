import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { OwletService } from '../../../src/indexer/service/service.js';
import { saveConfig } from '../../../src/indexer/config/load.js';
import { defaultConfig } from '../../../src/indexer/config/schema.js';
import { createLogger } from '../../../src/indexer/log/logger.js';
import { handleFromChild } from '../../../src/indexer/extract/launcher.js';
import type { WorkerLauncher } from '../../../src/indexer/extract/pool.js';
import { buildServer } from '../../../src/indexer/http/server.js';
import { instrument } from '../../../src/indexer/http/instrument.js';
import { Monitoring } from '../../../src/indexer/metrics/monitoring.js';
import { WebhookChannel, type WebhookPayload } from '../../../src/indexer/alerts/channels.js';
import type { Alert } from '../../../src/indexer/alerts/types.js';
import { tmpDir, waitFor, writeTree } from '../../helpers/tmp.js';
import { ServiceHost } from '../../../src/indexer/service/host.js';

const WORKER = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../fixtures/scripted-worker.mjs');
const scripted: WorkerLauncher = () => handleFromChild(fork(WORKER, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced', execArgv: [] }), { forwardStderr: false });

/** A webhook receiver on 127.0.0.1 whose answers the test scripts (status codes in order, then 200). */
async function receiver(statuses: number[] = []) {
  const got: { body: WebhookPayload; headers: http.IncomingHttpHeaders; status: number }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const status = statuses.shift() ?? 200;
      got.push({ body: JSON.parse(body) as WebhookPayload, headers: req.headers, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/owlet?token=s3cret`;
  return { url, got, close: () => new Promise<void>((r) => server.close(() => r())) };
}

test('a configured rule fires through the service: banner, log and webhook; acknowledged over HTTP; resolved and notified', async () => {
  const hook = await receiver();
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  writeTree(root, { 'a.txt': 'alpha' });
  const base = defaultConfig();
  saveConfig(data, {
    ...base,
    roots: [root],
    monitoring: {
      ...base.monitoring,
      alerts: {
        ...base.monitoring.alerts,
        rules: [{ id: 'disk-test', metric: 'disk_free_ratio', op: '<', threshold: 0.1, forSeconds: 10, severity: 'critical', summary: 'test disk rule', remedy: 'free space' }],
        webhook: { url: hook.url, timeoutMs: 2000 },
      },
    },
  });
  const lines: string[] = [];
  const log = createLogger({ write: (l) => void lines.push(l) });
  const svc = new OwletService({ dataDir: data, log, watch: false, launchWorker: scripted });
  let now = Date.UTC(2026, 5, 1, 12);
  let free = 5e9;
  const mon = new Monitoring({ service: ServiceHost.around(svc, log), settings: svc.config.monitoring, log: log.child('monitoring'), now: () => now, space: async () => ({ free, total: 100e9 }) });
  const app = buildServer(instrument(svc, mon), { observability: mon });
  try {
    await svc.indexOnce();
    mon.start(); // first sample: 5% free → pending
    await mon.tick();
    let view = (await app.inject({ url: '/api/v1/alerts' })).json() as { active: Alert[]; banner: Alert[]; history: Alert[]; enabled: boolean };
    assert.equal(view.enabled, true);
    assert.deepEqual(view.active.map((a) => [a.rule, a.state]), [['disk-test', 'pending']]);
    assert.equal(view.banner.length, 0);

    now += 11_000;
    await mon.tick();
    view = (await app.inject({ url: '/api/v1/alerts' })).json();
    assert.deepEqual(view.active.map((a) => [a.rule, a.state]), [['disk-test', 'firing']]);
    assert.equal(view.banner.length, 1);
    const id = view.active[0]!.id;
    await waitFor(() => hook.got.length === 1, 5000, 'webhook delivery');
    const first = hook.got[0]!;
    assert.equal(first.body.event, 'firing');
    assert.equal(first.body.source, 'owlet');
    assert.equal(first.body.alert.rule, 'disk-test');
    assert.equal(first.body.alert.value, 0.05);
    assert.equal(first.headers['content-type'], 'application/json');
    assert.ok(lines.some((l) => /"msg":"alert firing: test disk rule"/.test(l) && /"level":"error"/.test(l)), 'critical alert logged as an error');

    // Acknowledge: off the banner, still active.
    const ack = await app.inject({ method: 'POST', url: `/api/v1/alerts/${id}/ack` });
    assert.equal(ack.statusCode, 200);
    assert.notEqual(ack.json().alert.acknowledgedAt, null);
    view = (await app.inject({ url: '/api/v1/alerts' })).json();
    assert.equal(view.banner.length, 0);
    assert.equal(view.active[0]?.state, 'firing');
    assert.equal((await app.inject({ method: 'POST', url: '/api/v1/alerts/not-an-alert-1/ack' })).statusCode, 404);
    assert.equal((await app.inject({ method: 'POST', url: '/api/v1/alerts/..%2Fetc/ack' })).statusCode, 400);

    // The same condition on later samples: no new alert, no new notification.
    for (let i = 0; i < 3; i++) {
      now += 5_000;
      await mon.tick();
    }
    assert.equal(hook.got.length, 1);

    // Space comes back: resolved, notified, in the history.
    free = 50e9;
    now += 5_000;
    await mon.tick();
    await waitFor(() => hook.got.length === 2, 5000, 'resolved webhook');
    assert.equal(hook.got[1]!.body.event, 'resolved');
    view = (await app.inject({ url: '/api/v1/alerts' })).json();
    assert.equal(view.active.length, 0);
    assert.equal(view.history[0]?.id, id);
    assert.ok(!lines.some((l) => l.includes('s3cret')), 'the webhook URL (and its token) is never logged');

    // The metrics expose alert state too.
    const m = await app.inject({ url: '/metrics' });
    assert.match(m.body, /owlet_health_status 0/);
  } finally {
    await app.close();
    await mon.stop();
    await svc.stop();
    await hook.close();
  }
});

test('the webhook retries once after a server error and gives up quietly after that, logging why', async () => {
  const hook = await receiver([503, 200, 500, 500]);
  const lines: string[] = [];
  const ch = new WebhookChannel({ url: hook.url, timeoutMs: 2000, retryDelayMs: 20, log: createLogger({ write: (l) => void lines.push(l) }) });
  const alert = { id: 'x-1', rule: 'x', state: 'firing', severity: 'critical', ruleSeverity: 'critical', summary: 's', remedy: null, metric: 'queue_depth', op: '>', threshold: 1, value: 2, startedAt: 0, firedAt: 0, resolvedAt: null, acknowledgedAt: null, escalations: 0, lastNotifiedAt: 0, runbook: 'docs/operations/runbooks/alerts/x.md' } satisfies Alert;
  try {
    await ch.notify({ type: 'firing', alert, at: 0 });
    assert.deepEqual(hook.got.map((g) => g.status), [503, 200], 'retried after the 503');
    await ch.notify({ type: 'escalated', alert, at: 1 });
    assert.deepEqual(hook.got.map((g) => g.status), [503, 200, 500, 500]);
    assert.ok(lines.some((l) => /alert webhook delivery failed/.test(l) && /HTTP 500/.test(l)));
    await ch.notify({ type: 'acknowledged', alert, at: 2 });
    assert.equal(hook.got.length, 4, 'acknowledgements are not sent');
  } finally {
    await hook.close();
  }
  // Nobody listening: a connection error, logged, never thrown.
  await ch.notify({ type: 'resolved', alert, at: 3 });
  assert.ok(lines.filter((l) => /delivery failed/.test(l)).length >= 2);
});
