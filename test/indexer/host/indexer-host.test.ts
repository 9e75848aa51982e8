// createIndexerHost() against the REAL service (bin/owlet.js serve, built dist/) in real child
// processes: fatal start-up reports, forwarded log records, key handover before the fork, and the
// port kept across a SIGKILL and a restart. Every wait is bounded; every child is checked gone.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createIndexerHost, type IndexerHost, type IndexerHostOptions } from '../../../src/indexer/host/indexer-host.js';
import { forkServiceLauncher, type ServiceLauncher, type LaunchSpec } from '../../../src/indexer/host/launcher.js';
import { HEADLESS_ENTRY } from '../../../src/indexer/host/run.js';
import type { ChildLog, CrashInfo, SupervisorEvent } from '../../../src/indexer/host/supervisor.js';
import { createLogger } from '../../../src/indexer/log/logger.js';
import { ErrorCodes, OwletError } from '../../../src/shared/errors.js';
import { tmpDir, waitFor } from '../../helpers/tmp.js';
import { startOwlet, waitExit } from '../../helpers/cli.js';
import { isAlive, within } from './helpers.js';

interface Harness {
  host: IndexerHost;
  specs: LaunchSpec[];
  pids: number[];
  events: Record<string, unknown>[];
  logs: ChildLog[];
  crashes: CrashInfo[];
}

const harnesses: Harness[] = [];

function harness(dataDir: string, opts: Partial<IndexerHostOptions> = {}): Harness {
  const specs: LaunchSpec[] = [];
  const pids: number[] = [];
  const events: Record<string, unknown>[] = [];
  const real = forkServiceLauncher();
  const launcher: ServiceLauncher = (spec) => {
    specs.push(spec);
    const child = real(spec);
    if (child.pid !== undefined) pids.push(child.pid);
    return child;
  };
  const log = createLogger({ write: (line) => void events.push(JSON.parse(line) as Record<string, unknown>) }, { level: 'debug' });
  const host = createIndexerHost({
    dataDir,
    entry: HEADLESS_ENTRY,
    launcher,
    log,
    forwardLogs: 'info',
    ...opts,
    supervisor: { backoff: { initialMs: 200, maxMs: 1_000 }, readyTimeoutMs: 60_000, ...opts.supervisor },
  });
  const h: Harness = { host, specs, pids, events, logs: [], crashes: [] };
  host.onDidLog((l) => h.logs.push(l));
  host.onDidCrash((c) => h.crashes.push(c));
  harnesses.push(h);
  return h;
}

function supervisorEvents(h: Harness, type: SupervisorEvent['type']): Record<string, unknown>[] {
  return h.events.filter((e) => e.msg === `supervisor ${type}`);
}

afterEach(async () => {
  const leaked: number[] = [];
  for (const h of harnesses.splice(0)) {
    await within(h.host.stop('test cleanup'), 20_000, 'stop() in cleanup');
    for (const pid of h.pids) {
      if (isAlive(pid)) {
        leaked.push(pid);
        process.kill(pid, 'SIGKILL');
      }
    }
  }
  assert.deepEqual(leaked, [], 'child processes left alive');
});

async function ready(url: string): Promise<number> {
  const r = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(5_000) });
  return r.status;
}

/** A port held by another program for the duration of `fn`. */
async function blockPort(): Promise<{ port: number; release: () => Promise<void> }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  // A failed assertion before release() must not keep the test file alive until its timeout.
  server.unref();
  return { port, release: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('createIndexerHost with the real service', () => {
  test('a SIGKILLed service child comes back on the same port; restart() and stop() keep it and drain', async () => {
    const data = tmpDir('owlet-host-');
    const h = harness(data);
    h.host.start();
    const first = await h.host.whenReady(60_000);
    assert.ok(first.port > 0);
    assert.equal(h.specs[0]!.args.includes('--port'), false, 'the first child uses the configured port (0: any free one)');
    assert.equal(await ready(first.url), 200);
    const listening = h.logs.find((l) => l.record.msg === 'listening');
    assert.ok(listening, 'the child forwarded its info records');
    assert.equal(listening.record.fields?.url, first.url);
    assert.equal(listening.pid, first.pid);

    process.kill(first.pid, 'SIGKILL');
    await waitFor(() => h.host.state === 'backoff' || (h.host.state === 'running' && h.host.pid !== first.pid), 10_000, 'the crash to be seen');
    const second = await h.host.whenReady(60_000);
    assert.notEqual(second.pid, first.pid);
    assert.equal(second.port, first.port, 'the port is pinned across restarts');
    assert.equal(second.url, first.url, 'a window locked to the old origin keeps working');
    assert.deepEqual(h.specs[1]!.args.slice(h.specs[1]!.args.indexOf('--port'), h.specs[1]!.args.indexOf('--port') + 2), ['--port', String(first.port)]);
    assert.equal(await ready(second.url), 200);
    assert.equal(h.crashes[0]?.reason, 'signal');
    assert.ok(supervisorEvents(h, 'crash').length === 1 && supervisorEvents(h, 'crash')[0]!.level === 'warn', 'supervisor events reach the host log');

    const third = await h.host.restart('test restart', 60_000);
    assert.equal(third.port, first.port);
    assert.equal(await ready(third.url), 200);

    await h.host.stop('test stop');
    assert.equal(h.host.state, 'stopped');
    assert.deepEqual(h.host.snapshot().stats.lastExit, { code: 0, signal: null, reason: 'stop' }, 'a drained stop exits 0, no kill');
    assert.equal(fs.existsSync(path.join(data, 'service.json')), false);
  });

  test('a configuration error: the real service reports fatal (kind config, start-up) and the host fails without restarting', async () => {
    const data = tmpDir('owlet-host-');
    fs.writeFileSync(path.join(data, 'config.json'), JSON.stringify({ version: 1, roots: 'not a list' }));
    const h = harness(data);
    h.host.start();
    await waitFor(() => h.host.state === 'failed', 60_000, 'failed');
    assert.equal(h.host.failure?.reason, 'config');
    assert.equal(h.host.failure?.error?.code, 'OWL_ERR_CONFIG_INVALID');
    assert.match(h.host.failure!.message, /roots/);
    const fatal = supervisorEvents(h, 'fatal');
    assert.equal(fatal.length, 1, 'the fatal message arrived over the channel');
    assert.equal(fatal[0]!.kind, 'config');
    assert.equal(fatal[0]!.phase, 'startup');
    assert.deepEqual(h.crashes.map((c) => [c.reason, c.code]), [['fatal', 78]]);
    assert.equal(h.host.snapshot().stats.starts, 1, 'no restart loop');
    // Waiting callers hear why, under the catalog's code for a start that failed.
    await assert.rejects(h.host.whenReady(1_000), (e: { code?: string; message?: string }) => e.code === 'OWL_ERR_SERVICE_START_FAILED' && /^the indexer did not start: .*roots/.test(e.message ?? ''));
  });

  test('a taken port: the start-up error and the log records leading to it arrive as typed messages; the service binds it once free', async () => {
    const data = tmpDir('owlet-host-');
    const blocker = await blockPort();
    const h = harness(data, { port: blocker.port });
    h.host.start();
    await waitFor(() => h.crashes.length >= 1, 60_000, 'the first crash');
    const crash = h.crashes[0]!;
    assert.equal(crash.reason, 'fatal');
    assert.equal(crash.error?.code, 'OWL_ERR_PORT_IN_USE');
    assert.match(crash.error!.message, new RegExp(`port ${blocker.port} .*in use`));
    assert.ok(h.logs.length > 0, 'the child forwarded log records');
    for (const l of h.logs) {
      assert.ok(['debug', 'info', 'warn', 'error'].includes(l.record.level));
      assert.equal(typeof l.record.component, 'string');
      assert.equal(typeof l.record.msg, 'string');
      assert.ok(h.pids.includes(l.pid!), 'each record names the child it came from');
    }
    const failed = h.logs.find((l) => l.record.msg === 'start-up failed');
    assert.ok(failed, `a forwarded error record; got: ${h.logs.map((l) => l.record.msg).join(', ')}`);
    assert.equal(failed.record.level, 'error');
    assert.equal(failed.record.fields?.code, 'OWL_ERR_PORT_IN_USE');

    await blocker.release();
    const r = await h.host.whenReady(60_000);
    assert.equal(r.port, blocker.port, 'the configured port is kept, not traded for a random one');
  });

  test('key handover: a key that cannot be read forks nothing; a good key reaches the service before it opens the index', async () => {
    const data = tmpDir('owlet-host-');
    let calls = 0;
    const failing = harness(data, {
      keys: () => {
        calls++;
        throw new OwletError('OWL_ERR_SECRET_STORE', 'the system keychain is not available to Owlet; unlock it and restart Owlet');
      },
    });
    failing.host.start();
    assert.equal(failing.host.state, 'failed');
    assert.equal(failing.specs.length, 0, 'nothing was forked');
    assert.deepEqual(failing.host.failure, {
      reason: 'refused',
      message: 'the system keychain is not available to Owlet; unlock it and restart Owlet',
      error: { code: 'OWL_ERR_SECRET_STORE', message: 'the system keychain is not available to Owlet; unlock it and restart Owlet', remedy: ErrorCodes.OWL_ERR_SECRET_STORE.remedy },
    });
    failing.host.start(); // a retry (the tray's "try again") asks again, still forks nothing
    assert.equal(calls, 2);
    assert.equal(failing.specs.length, 0);
    assert.equal(supervisorEvents(failing, 'spawn').length, 0);

    const key = { type: 'key' as const, key: randomBytes(32).toString('base64'), auditKey: randomBytes(32).toString('base64') };
    const good = harness(tmpDir('owlet-host-'), { keys: () => key });
    good.host.start();
    const r = await good.host.whenReady(60_000);
    assert.ok(good.specs[0]!.args.includes('--key-from-host'));
    assert.equal(await ready(r.url), 200);
  });
});

describe('owlet run (a real supervisor process)', () => {
  test('its service child killed with SIGKILL comes back on the same port', async () => {
    const data = tmpDir('owlet-run-');
    const sup = startOwlet(['run', '--data-dir', data]);
    const info = () => JSON.parse(fs.readFileSync(path.join(data, 'service.json'), 'utf8')) as { pid: number; port: number; url: string; supervisorPid?: number };
    try {
      // The port is pinned once the supervisor has seen the child ready (and announced it).
      await waitFor(() => /Owlet supervisor \d+ serving on /.test(sup.output()), 60_000, 'the supervisor to announce the service');
      const first = info();
      assert.equal(first.supervisorPid, sup.pid);
      assert.equal(await ready(first.url), 200);
      process.kill(first.pid, 'SIGKILL');
      const second = await waitFor(async () => {
        const i = info();
        return i.pid !== first.pid && (await ready(i.url)) === 200 ? i : null;
      }, 60_000, 'a new child serving');
      assert.equal(second.port, first.port);
      assert.equal(second.url, first.url);
      assert.match(sup.output(), /service child stopped unexpectedly \(signal, SIGKILL\); restarting/);
    } finally {
      sup.kill('SIGTERM');
      const exit = await waitExit(sup, 30_000);
      assert.equal(exit.killed, false, 'the supervisor stopped its child and exited by itself');
    }
  });

  test('a start-up error of its child is printed by the supervisor, not lost', async () => {
    const data = tmpDir('owlet-run-');
    const blocker = await blockPort();
    const sup = startOwlet(['run', '--data-dir', data, '--port', String(blocker.port)]);
    try {
      await waitFor(() => /service child stopped unexpectedly \(port \d+ on 127\.0\.0\.1 is already in use/.test(sup.output()), 60_000, `the fatal in the supervisor's output: ${sup.output()}`);
    } finally {
      await blocker.release();
      sup.kill('SIGTERM');
      await waitExit(sup, 30_000);
    }
  });
});
