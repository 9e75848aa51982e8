import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { OwletService } from '../../../src/indexer/service/service.js';
import { saveConfig } from '../../../src/indexer/config/load.js';
import { defaultConfig, type Config } from '../../../src/indexer/config/schema.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';
import { handleFromChild } from '../../../src/indexer/extract/launcher.js';
import type { WorkerLauncher } from '../../../src/indexer/extract/pool.js';
import { buildServer } from '../../../src/indexer/http/server.js';
import { instrument } from '../../../src/indexer/http/instrument.js';
import { Monitoring } from '../../../src/indexer/metrics/monitoring.js';
import { METRICS_FILE } from '../../../src/indexer/store/metrics-db.js';
import { tmpDir, writeTree } from '../../helpers/tmp.js';
import { parsePrometheusText, valueOf } from './prom-text.js';
import { ServiceHost } from '../../../src/indexer/service/host.js';
import { INBOX_FILE, postEventAlert } from '../../../src/indexer/alerts/inbox.js';

const WORKER = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../fixtures/scripted-worker.mjs');
const scripted: WorkerLauncher = () => handleFromChild(fork(WORKER, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced', execArgv: [] }), { forwardStderr: false });

function setup(over: (c: Config) => Config = (c) => c) {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  writeTree(root, { 'a.txt': 'alpha document one', 'b.txt': 'alpha beta two', 'c-crash.txt': 'takes the worker down' });
  const base = defaultConfig();
  saveConfig(data, over({ ...base, roots: [root], extractors: { ...base.extractors, workers: 1 }, resilience: { ...base.resilience, quarantineAttempts: 1 } }));
  const svc = new OwletService({ dataDir: data, log: nullLogger, watch: false, launchWorker: scripted });
  return { root, data, svc };
}

test('GET /metrics is valid Prometheus text and its counters move when indexing and searching happen', async () => {
  const { root, data, svc } = setup();
  const mon = new Monitoring({ service: ServiceHost.around(svc, nullLogger), settings: svc.config.monitoring, log: nullLogger, space: async () => ({ free: 50e9, total: 100e9 }) });
  mon.start();
  const app = buildServer(instrument(svc, mon), { observability: mon });
  const scrape = async () => {
    const r = await app.inject({ url: '/metrics' });
    assert.equal(r.statusCode, 200);
    assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    return parsePrometheusText(r.body);
  };
  try {
    const before = await scrape();
    for (const name of ['owlet_search_duration_seconds', 'owlet_searches_total', 'owlet_documents_indexed_total', 'owlet_bytes_indexed_total', 'owlet_extraction_failures_total', 'owlet_queue_depth', 'owlet_breaker_state', 'owlet_retries_total', 'owlet_search_cache_hit_ratio', 'process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_p99_seconds', 'owlet_database_bytes', 'owlet_disk_free_bytes', 'owlet_health_status'])
      assert.ok(before.has(name), `family ${name} is exposed`);
    assert.equal(valueOf(before, 'owlet_documents_indexed_total'), 0);
    assert.equal(before.get('owlet_last_backup_age_seconds')?.samples.length ?? 0, 0, 'no backup figure is invented');

    await svc.indexOnce();
    const s1 = await app.inject({ url: '/api/v1/search?q=alpha' });
    assert.equal(s1.json().total, 2);
    await app.inject({ url: '/api/v1/search?q=alpha' });
    const bad = await app.inject({ url: '/api/v1/search?q=%22unterminated' });
    assert.equal(bad.statusCode, 400);

    const after = await scrape();
    assert.equal(valueOf(after, 'owlet_documents_indexed_total'), 2);
    assert.equal(valueOf(after, 'owlet_bytes_indexed_total'), fs.statSync(path.join(root, 'a.txt')).size + fs.statSync(path.join(root, 'b.txt')).size);
    assert.equal(valueOf(after, 'owlet_extraction_failures_total', { kind: 'text', reason: 'crash' }), 1);
    assert.equal(valueOf(after, 'owlet_searches_total', { outcome: 'ok' }), 2);
    assert.equal(valueOf(after, 'owlet_searches_total', { outcome: 'invalid' }), 1);
    assert.equal(valueOf(after, 'owlet_search_duration_seconds_count'), 3);
    assert.equal(valueOf(after, 'owlet_search_cache_hits_total'), 1, 'the repeated query came from the cache');
    assert.equal(valueOf(after, 'owlet_search_cache_hit_ratio'), 1 / 3, 'one hit in three lookups (the invalid query was a miss)');
    assert.equal(valueOf(after, 'owlet_documents', { status: 'indexed' }), 2);
    assert.equal(valueOf(after, 'owlet_breaker_state', { breaker: 'text' }), 0);
    assert.ok((valueOf(after, 'owlet_extractor_crashes_total') ?? 0) >= 1);
    assert.equal(valueOf(after, 'owlet_disk_free_bytes'), 50e9);
    assert.ok((valueOf(after, 'owlet_database_bytes', { file: 'index' }) ?? 0) > 0);
    assert.ok(fs.existsSync(path.join(data, METRICS_FILE)));

    // The sampler turns the same activity into signals for charts and alerts.
    await mon.tick();
    const ts = await app.inject({ url: '/api/v1/timeseries?series=documents_indexed,disk_free_ratio,queue_depth&range=15m' });
    assert.equal(ts.statusCode, 200);
    const body = ts.json();
    assert.equal(body.tier, 'raw');
    const last = <T>(a: T[]) => a[a.length - 1];
    assert.equal(last(body.series.disk_free_ratio as [number, number][])?.[1], 0.5);
    assert.equal(last(body.series.queue_depth as [number, number][])?.[1], 0);
    assert.ok(Array.isArray(body.series.documents_indexed), 'every asked series is answered');
    assert.equal(body.units.disk_free_ratio, 'ratio');
    const nope = await app.inject({ url: '/api/v1/timeseries?series=nope' });
    assert.equal(nope.statusCode, 400);
    assert.match(nope.json().error.message, /unknown series "nope".*documents_indexed/);
    // Without series, the error lists the valid names (issue #10).
    const none = await app.inject({ url: '/api/v1/timeseries' });
    assert.equal(none.statusCode, 400);
    assert.match(none.json().error.message, /series is required.*documents_indexed.*queue_depth/);
  } finally {
    await app.close();
    await mon.stop();
    await svc.stop();
  }
});

test('the search cache answers repeats and is invalidated by every committed index batch', async () => {
  const { root, svc } = setup();
  try {
    await svc.indexOnce();
    assert.equal(svc.search('alpha', 10, 0).total, 2);
    assert.equal(svc.search('alpha', 10, 0).total, 2);
    assert.equal(svc.searchCache.stats().hits, 1);
    writeTree(root, { 'd.txt': 'alpha again three' });
    await svc.indexOnce();
    assert.equal(svc.search('alpha', 10, 0).total, 3, 'a new document shows up: the cached answer was dropped');
    assert.ok(svc.searchCache.stats().invalidations >= 1);
    // Different pages are different entries.
    assert.equal(svc.search('alpha', 1, 1).hits.length, 1);
    assert.throws(() => svc.search('"open', 10, 0), /quote/);
  } finally {
    await svc.stop();
  }
});

test('with monitoring off nothing is wrapped, sampled or stored, and /metrics says how to turn it on', async () => {
  const { data, svc } = setup((c) => ({ ...c, monitoring: { ...c.monitoring, enabled: false } }));
  const mon = new Monitoring({ service: ServiceHost.around(svc, nullLogger), settings: svc.config.monitoring, log: nullLogger });
  mon.start();
  const api = instrument(svc, mon);
  assert.equal(api, svc, 'the HTTP layer talks to the service directly');
  const app = buildServer(api, { observability: mon });
  try {
    const r = await app.inject({ url: '/metrics' });
    assert.equal(r.statusCode, 404);
    // One catalog entry words both refusals: what is off, and (the remedy) how to turn it on.
    assert.deepEqual(r.json().error, { code: 'OWL_ERR_MONITORING_OFF', message: 'metrics are off', remedy: 'set monitoring.enabled to true in config.json and restart' });
    assert.equal((await app.inject({ url: '/api/v1/alerts' })).json().enabled, false);
    const ack = await app.inject({ method: 'POST', url: '/api/v1/alerts/x-1/ack' });
    assert.equal(ack.statusCode, 404);
    assert.deepEqual(ack.json().error, { code: 'OWL_ERR_MONITORING_OFF', message: 'alerts are off', remedy: 'set monitoring.enabled to true in config.json and restart' });
    // Health and readiness still work.
    assert.equal((await app.inject({ url: '/health/ready' })).statusCode, 200);
    const h = await app.inject({ url: '/api/v1/health' });
    assert.equal(h.statusCode, 200);
    assert.ok(['ok', 'degraded'].includes(h.json().status));
    assert.equal(fs.existsSync(path.join(data, METRICS_FILE)), false);
  } finally {
    await app.close();
    await mon.stop();
    await svc.stop();
  }
});

test('an alert another Owlet process posts to the data folder (the supervisor after a rollback) reaches the alert engine at the next sample', async () => {
  const { data, svc } = setup();
  const mon = new Monitoring({ service: ServiceHost.around(svc, nullLogger), settings: svc.config.monitoring, log: nullLogger, space: async () => ({ free: 50e9, total: 100e9 }) });
  try {
    postEventAlert(data, { id: 'update-rolled-back', severity: 'warning', message: '1.3.0 failed its health gate; 1.2.0 runs again' });
    await mon.tick();
    const active = mon.alertEngine!.activeAlerts();
    assert.deepEqual(active.map((a) => [a.rule, a.state, a.source]), [['update-rolled-back', 'firing', 'event']]);
    assert.equal(active[0]!.runbook, 'docs/operations/runbooks/alerts/update-rolled-back.md');
    assert.equal(fs.existsSync(path.join(data, INBOX_FILE)), false, 'the inbox was drained');
    // An event raised inside the service (a backup over its budget) goes the same way.
    mon.reportEvent({ id: 'backup-budget', severity: 'warning', message: 'only 4 restore points fit' });
    assert.equal(mon.alertEngine!.activeAlerts().length, 2);
    // Its raiser says it is over (a repaired index does the same): resolved, into the history.
    mon.reportEvent({ id: 'backup-budget', severity: 'info', message: 'room again', over: true });
    assert.deepEqual(mon.alertEngine!.activeAlerts().map((a) => a.rule), ['update-rolled-back']);
    assert.equal(mon.alertEngine!.history(1)[0]!.rule, 'backup-budget');
  } finally {
    await mon.stop();
    await svc.stop();
  }
});
