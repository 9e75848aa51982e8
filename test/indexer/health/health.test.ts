import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { OwletService } from '../../../src/indexer/service/service.js';
import { saveConfig } from '../../../src/indexer/config/load.js';
import { defaultConfig } from '../../../src/indexer/config/schema.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';
import { handleFromChild } from '../../../src/indexer/extract/launcher.js';
import type { WorkerLauncher } from '../../../src/indexer/extract/pool.js';
import { buildServer } from '../../../src/indexer/http/server.js';
import { instrument } from '../../../src/indexer/http/instrument.js';
import { Monitoring } from '../../../src/indexer/metrics/monitoring.js';
import { allChecks, checkBackup, checkBreakers, checkDisk, checkIntegrity, checkPool, checkRestarts, checkWatcher, type HealthInputs } from '../../../src/indexer/health/checks.js';
import { healthReport } from '../../../src/indexer/health/report.js';
import { integrityCheckInWorker } from '../../../src/indexer/store/integrity-check.js';
import { rebuildFts } from '../../../src/indexer/store/fts-rebuild.js';
import { HEALTH_COLOURS } from '../../../src/shared/health.js';
import { INDEX_FILE } from '../../../src/indexer/service/context.js';
import { tmpDir, writeTree } from '../../helpers/tmp.js';
import { IntegritySchedule } from '../../../src/indexer/recovery/integrity-schedule.js';
import { ServiceHost } from '../../../src/indexer/service/host.js';

const WORKER = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../fixtures/scripted-worker.mjs');
const scripted: WorkerLauncher = () => handleFromChild(fork(WORKER, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced', execArgv: [] }), { forwardStderr: false });
const GiB = 1024 ** 3;
const NOW = Date.UTC(2026, 5, 1, 12);

function inputs(over: Partial<HealthInputs> = {}): HealthInputs {
  return {
    now: NOW,
    ready: true,
    database: { open: true, schemaVersion: 3, expectedSchemaVersion: 3, bytes: 5e6, walBytes: 1e5 },
    search: { ok: true },
    integrity: { at: NOW - 3_600_000, ok: true, message: 'ok', durationMs: 40, by: 'service' },
    integrityCheckHours: 24,
    space: { free: 50 * GiB, total: 100 * GiB },
    diskFullMessage: null,
    watcher: { mode: 'events', message: null },
    pool: { workers: 2, busy: 0, queued: 0, recentFailures: 0 },
    roots: [{ path: '/home/me/Documents', state: 'online', lastScanAt: NOW - 60_000 }],
    breakers: [{ name: 'pdf', state: 'closed', notClosedSince: null }],
    pausedBecause: [],
    backup: undefined,
    uncleanRestarts1h: 0,
    ...over,
  };
}

test('each check: ok, degraded and failed, each with a message and a remedy when not ok', () => {
  const healthy = healthReport(inputs());
  assert.equal(healthy.status, 'ok');
  assert.equal(healthy.colour, HEALTH_COLOURS.ok);
  assert.ok(healthy.checks.every((c) => c.status === 'ok' && c.message.length > 0));

  const cases: [Partial<HealthInputs>, string, 'degraded' | 'failed', RegExp][] = [
    [{ database: { open: false, schemaVersion: null, expectedSchemaVersion: 3, bytes: 0, walBytes: 0 } }, 'database', 'failed', /not open/],
    [{ database: { open: true, schemaVersion: 4, expectedSchemaVersion: 3, bytes: 0, walBytes: 0 } }, 'database', 'failed', /version 4/],
    [{ search: { ok: false, message: 'fts5: corruption' } }, 'database', 'failed', /searching the index fails/],
    [{ integrity: { at: NOW - 1000, ok: false, message: 'row 5 missing', durationMs: 1, by: 'doctor' } }, 'integrity', 'failed', /found damage: row 5/],
    [{ integrity: { at: NOW - 5 * 86_400_000, ok: true, message: 'ok', durationMs: 1, by: 'service' } }, 'integrity', 'degraded', /not running/],
    [{ space: { free: 0.5 * GiB, total: 100 * GiB } }, 'disk', 'degraded', /running low/],
    [{ space: { free: 50 * 1024 * 1024, total: 100 * GiB } }, 'disk', 'failed', /where indexing pauses/],
    // #11.15: failed exactly where the disk-space guard pauses indexing, not at 47 MB free of 80 MB.
    [{ space: { free: 3 * 1024 * 1024, total: 80 * 1024 * 1024 } }, 'disk', 'failed', /below 4\.0 MB, where indexing pauses/],
    [{ space: { free: 10 * 1024 * 1024, total: 80 * 1024 * 1024 } }, 'disk', 'degraded', /running low/],
    [{ diskFullMessage: 'the disk is full; indexing is paused' }, 'disk', 'failed', /full/],
    [{ watcher: { mode: 'polling', message: 'inotify limit reached' } }, 'watcher', 'degraded', /inotify/],
    [{ pool: { workers: 2, busy: 2, queued: 9, recentFailures: 7 } }, 'extractors', 'degraded', /7 workers were killed/],
    [{ pool: { workers: 0, busy: 0, queued: 9, recentFailures: 0, startFailures: 3 } }, 'extractors', 'failed', /fail to start/],
    [{ roots: [{ path: '/media/usb', state: 'offline', lastScanAt: NOW - 1 }] }, 'root:/media/usb', 'degraded', /offline/],
    [{ roots: [] }, 'roots', 'degraded', /no folder/],
    [{ breakers: [{ name: 'pdf', state: 'open', notClosedSince: NOW - 20 * 60_000 }] }, 'breaker:pdf', 'degraded', /paused for 20 min/],
    [{ pausedBecause: ['battery'] }, 'indexing', 'degraded', /battery/],
    [{ uncleanRestarts1h: 1 }, 'restarts', 'degraded', /1 crash/],
    [{ uncleanRestarts1h: 4 }, 'restarts', 'failed', /crash loop/],
    [{ backup: { lastVerifiedAt: NOW - 3 * 86_400_000 } }, 'backup', 'degraded', /3 days ago/],
    [{ backup: { lastVerifiedAt: NOW - 10 * 86_400_000 } }, 'backup', 'failed', /10 days ago/],
  ];
  for (const [over, id, status, message] of cases) {
    const r = healthReport(inputs(over));
    const c = r.checks.find((x) => x.id === id);
    assert.ok(c, `check ${id} present for ${JSON.stringify(over)}`);
    assert.equal(c.status, status, `${id}: ${c.message}`);
    assert.match(c.message, message);
    assert.ok(c.remedy && c.remedy.length > 5, `${id} says what to do`);
    assert.equal(r.status, status, 'overall is the worst check');
    assert.equal(r.colour, HEALTH_COLOURS[status]);
  }
  // Things that are fine stay fine.
  assert.equal(checkDisk(inputs({ space: { free: 47 * 1024 * 1024, total: 80 * 1024 * 1024 } })).status, 'ok', '#11.15: 47 MB free of a small volume is not "failed"');
  assert.equal(checkWatcher(inputs({ watcher: null })).status, 'ok');
  assert.equal(checkPool(inputs({ pool: null })).status, 'ok');
  assert.equal(checkRestarts(inputs({ uncleanRestarts1h: null })), null);
  assert.equal(checkIntegrity(inputs({ integrity: null })).status, 'ok');
  assert.equal(checkBackup(inputs({ backup: { lastVerifiedAt: NOW - 3_600_000 } })).status, 'ok');
  assert.equal(checkBackup(inputs()).message, 'no backups yet (this build has no backup feature)');
  assert.deepEqual(checkBackup(inputs({ backup: { lastVerifiedAt: null, destination: '/b' } })), { id: 'backup', name: 'Backups', status: 'ok', message: 'no backups yet (destination /b)' });
  assert.equal(checkDisk(inputs({ space: null })).status, 'degraded');
  assert.equal(checkBreakers(inputs({ breakers: [] })).length, 0);
  assert.equal(allChecks(inputs({ pausedBecause: ['user'] })).find((c) => c.id === 'indexing')?.status, 'ok');
});

test('a running service turns degraded and failed under injected faults, and recovers when they are gone', async () => {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  writeTree(root, { 'a.txt': 'alpha one', 'b.txt': 'alpha two' });
  saveConfig(data, { ...defaultConfig(), roots: [root] });
  const svc = new OwletService({ dataDir: data, log: nullLogger, watch: false, launchWorker: scripted });
  let space = { free: 50 * GiB, total: 100 * GiB };
  let integrityOk = true;
  // The integrity check belongs to recovery; monitoring records what it finds.
  const integrity = new IntegritySchedule({
    dataDir: data,
    hours: 24,
    key: () => svc.key,
    onDamage: () => {},
    log: nullLogger,
    check: async () => ({ ok: integrityOk, message: integrityOk ? 'ok' : 'Tree 7 page 12: btreeInitPage() returns error code 11', durationMs: 3 }),
  });
  const mon = new Monitoring({
    service: ServiceHost.around(svc, nullLogger),
    settings: svc.config.monitoring,
    log: nullLogger,
    space: async () => space,
    integrity,
  });
  mon.start();
  const app = buildServer(instrument(svc, mon), { observability: mon });
  const health = async () => (await app.inject({ url: '/api/v1/health' })).json() as { status: string; colour: string; checks: { id: string; status: string; message: string }[] };
  const check = async (id: string) => (await health()).checks.find((c) => c.id === id);
  const ready = async () => app.inject({ url: '/health/ready' });
  try {
    await svc.indexOnce();
    let h = await health();
    assert.equal(h.status, 'ok', JSON.stringify(h.checks.filter((c) => c.status !== 'ok')));
    assert.equal((await ready()).statusCode, 200);
    assert.equal((await app.inject({ url: '/health/live' })).statusCode, 200);

    // Disk space: low, then nearly gone, then back.
    space = { free: 0.5 * GiB, total: 100 * GiB };
    assert.equal((await check('disk'))?.status, 'degraded');
    space = { free: 0.05 * GiB, total: 100 * GiB };
    h = await health();
    assert.equal(h.status, 'failed');
    assert.equal(h.colour, HEALTH_COLOURS.failed);
    space = { free: 50 * GiB, total: 100 * GiB };
    assert.equal((await health()).status, 'ok');

    // A root that disappears (unplugged drive) and comes back.
    fs.renameSync(root, root + '-away');
    await svc.indexOnce();
    assert.equal((await check(`root:${root}`))?.status, 'degraded');
    assert.equal((await ready()).statusCode, 200, 'an offline root does not make the service unready');
    fs.renameSync(root + '-away', root);
    await svc.indexOnce();
    assert.equal((await check(`root:${root}`))?.status, 'ok');

    // The integrity check finds damage, then passes again.
    integrityOk = false;
    await integrity.runNow();
    assert.equal((await check('integrity'))?.status, 'failed');
    integrityOk = true;
    await integrity.runNow();
    assert.equal((await check('integrity'))?.status, 'ok');

    // Schema not current: not ready (503 with the reason), database failed; fixed: ready again.
    const v = svc.ctx.db.pragma('user_version', { simple: true }) as number;
    svc.ctx.db.pragma(`user_version = ${v + 1}`);
    let r = await ready();
    assert.equal(r.statusCode, 503);
    assert.match(r.json().reasons.join(' '), /schema/);
    assert.equal((await check('database'))?.status, 'failed');
    svc.ctx.db.pragma(`user_version = ${v}`);
    assert.equal((await ready()).statusCode, 200);

    // A damaged full-text index: searches fail, so the service is not ready; a rebuild recovers it.
    svc.ctx.db.unsafeMode(true);
    svc.ctx.db.prepare('UPDATE docs_fts_data SET block = randomblob(length(block)) WHERE id > 10').run();
    svc.ctx.db.unsafeMode(false);
    r = await ready();
    assert.equal(r.statusCode, 503);
    assert.match(r.json().reasons.join(' '), /search fails/);
    assert.equal((await health()).status, 'failed');
    rebuildFts(svc.ctx.db);
    assert.equal((await ready()).statusCode, 200);
    assert.equal((await health()).status, 'ok');
  } finally {
    await app.close();
    await mon.stop();
    await svc.stop();
  }
  // Stopped: the database is closed, readiness says so.
  const after = buildServer(svc, { observability: mon });
  const r = await after.inject({ url: '/health/ready' });
  assert.equal(r.statusCode, 503);
  assert.match(r.json().reasons[0], /not open/);
  await after.close();
});

test('the background integrity check runs in a worker thread on the encrypted index and finds real damage', async () => {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  writeTree(root, { 'a.txt': 'alpha one', 'b.txt': 'alpha two' });
  saveConfig(data, { ...defaultConfig(), roots: [root] });
  const svc = new OwletService({ dataDir: data, log: nullLogger, watch: false, launchWorker: scripted });
  try {
    await svc.indexOnce();
    const file = path.join(data, INDEX_FILE);
    const good = await integrityCheckInWorker(file, { key: svc.ctx.key });
    assert.deepEqual({ ok: good.ok, message: good.message, inconclusive: good.inconclusive }, { ok: true, message: 'ok', inconclusive: undefined });
    svc.ctx.db.unsafeMode(true);
    svc.ctx.db.prepare('UPDATE docs_fts_data SET block = randomblob(length(block)) WHERE id > 10').run();
    svc.ctx.db.unsafeMode(false);
    const bad = await integrityCheckInWorker(file, { key: svc.ctx.key });
    assert.equal(bad.ok, false);
    assert.match(bad.message, /fts5|corrupt/i);
    const missing = await integrityCheckInWorker(path.join(data, 'nope.db'), { key: svc.ctx.key });
    assert.equal(missing.inconclusive, true, 'a check that cannot run is no verdict');
  } finally {
    await svc.stop();
  }
});
