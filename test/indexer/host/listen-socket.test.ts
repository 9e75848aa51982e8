// The listening socket the headless supervisor keeps across restarts (host/listen-socket.ts): the
// pieces with real sockets and fake channels, then the REAL service (built dist/) under
// createIndexerHost: while a SIGKILLed child restarts, connections wait instead of being refused.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { EventEmitter } from 'node:events';
import { bindListenSocket, canShareHost, checkListenSocket, receiveListenSocket, type SharedListenSocket } from '../../../src/indexer/host/listen-socket.js';
import { createIndexerHost, serveArgs, type IndexerHost } from '../../../src/indexer/host/indexer-host.js';
import { forkServiceLauncher, type LaunchSpec, type ServiceLauncher } from '../../../src/indexer/host/launcher.js';
import { HEADLESS_ENTRY } from '../../../src/indexer/host/run.js';
import { createLogger } from '../../../src/indexer/log/logger.js';
import { OwletError } from '../../../src/shared/errors.js';
import { isHostMessage } from '../../../src/shared/protocol.js';
import { tmpDir, waitFor } from '../../helpers/tmp.js';
import { isAlive, sleep, within } from './helpers.js';

/** Connects and reports how: 'connected' (the kernel accepted it into a listening socket) or the error code. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
}

describe('the shared listening socket, piece by piece', () => {
  test('the supervisor binds a loopback port without listening: nothing is accepted until a child listens', async () => {
    const s = bindListenSocket('127.0.0.1', 0);
    try {
      assert.ok(s.port > 0);
      assert.equal(await tryConnect(s.port), 'ECONNREFUSED', 'bound, not listening: the supervisor never accepts');
    } finally {
      s.close();
    }
    assert.equal(s.closed, true);
    s.close(); // twice is harmless
  });

  test('only loopback IP literals are shared; a port bind refuses is the service\'s own port error', () => {
    if (process.getuid?.() !== 0) {
      assert.throws(() => bindListenSocket('127.0.0.1', 80), (e: unknown) => e instanceof OwletError && e.code === 'OWL_ERR_PORT_IN_USE' && /below 1024/.test(e.message));
    } else console.log('# as root, port 80 can be bound: the EACCES case is not checked here');
    assert.deepEqual(['127.0.0.1', '::1', 'localhost', '0.0.0.0', '192.168.1.2'].map(canShareHost), [true, true, false, false, false]);
    assert.throws(() => bindListenSocket('0.0.0.0', 0), RangeError);
  });

  test('a child takes only a socket bound to its configured loopback host and port', () => {
    assert.equal(checkListenSocket({ handle: {}, host: '127.0.0.1', port: 4000 }, '127.0.0.1', 4000), null);
    assert.equal(checkListenSocket({ handle: {}, host: '127.0.0.1', port: 4000 }, '127.0.0.1', 0), null, 'port 0: any port the host chose');
    assert.match(checkListenSocket({ handle: {}, host: '0.0.0.0', port: 4000 }, '127.0.0.1', 4000) ?? '', /not a loopback address/);
    assert.match(checkListenSocket({ handle: {}, host: '::1', port: 4000 }, '127.0.0.1', 4000) ?? '', /server\.host is 127\.0\.0\.1/);
    assert.match(checkListenSocket({ handle: {}, host: '127.0.0.1', port: 4001 }, '127.0.0.1', 4000) ?? '', /port 4001/);
  });

  test('receiving: other messages are skipped, a message without a socket or none in time is an error value', async () => {
    const fakeHandle = { getsockname: (o: Record<string, unknown>) => Object.assign(o, { address: '127.0.0.1', port: 4321 }), close: () => undefined };
    const ch = new EventEmitter();
    const got = receiveListenSocket(ch as never, 5_000);
    ch.emit('message', { type: 'ping', seq: 1 }, undefined);
    ch.emit('message', { type: 'listen-socket', host: '127.0.0.1', port: 4321 }, fakeHandle);
    const r = await got;
    assert.ok(!(r instanceof Error));
    assert.deepEqual([r.host, r.port], ['127.0.0.1', 4321]);
    assert.equal(ch.listenerCount('message'), 0, 'it lets go of the channel');

    const bare = receiveListenSocket(ch as never, 5_000);
    ch.emit('message', { type: 'listen-socket', host: '127.0.0.1', port: 1 });
    assert.match(String(await bare), /carried no socket/);
    assert.match(String(await receiveListenSocket(new EventEmitter() as never, 20)), /did not send the listening socket/);
    assert.equal(isHostMessage({ type: 'listen-socket', host: '127.0.0.1', port: 1 }), true);
    assert.deepEqual(serveArgs({ dataDir: '/d', port: 1, keyFromHost: false, forwardLogs: 'warn', listenHandle: true }).slice(-1), ['--listen-handle']);
  });
});

interface Harness {
  host: IndexerHost;
  socket: SharedListenSocket;
  specs: LaunchSpec[];
  pids: number[];
}
const harnesses: Harness[] = [];

function harness(): Harness {
  const socket = bindListenSocket('127.0.0.1', 0);
  const specs: LaunchSpec[] = [];
  const pids: number[] = [];
  const real = forkServiceLauncher();
  const launcher: ServiceLauncher = Object.assign(
    (spec: LaunchSpec) => {
      specs.push(spec);
      const child = real(spec);
      if (child.pid !== undefined) pids.push(child.pid);
      return child;
    },
    { sharesListenSocket: real.sharesListenSocket },
  );
  const host = createIndexerHost({
    dataDir: tmpDir('owlet-listen-'),
    entry: HEADLESS_ENTRY,
    launcher,
    listenSocket: socket,
    log: createLogger({ write: () => undefined }),
    supervisor: { backoff: { initialMs: 200, maxMs: 1_000 } },
  });
  const h = { host, socket, specs, pids };
  harnesses.push(h);
  return h;
}

afterEach(async () => {
  const leaked: number[] = [];
  for (const h of harnesses.splice(0)) {
    await within(h.host.stop('test cleanup'), 20_000, 'stop() in cleanup');
    h.socket.close();
    for (const pid of h.pids) {
      if (isAlive(pid)) {
        leaked.push(pid);
        process.kill(pid, 'SIGKILL');
      }
    }
  }
  assert.deepEqual(leaked, [], 'child processes left alive');
});

/** GET /health/ready on a new connection of its own (no keep-alive pool that outlives a child). */
function readyStatus(port: number, timeoutMs: number): Promise<number | string> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/health/ready', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

describe('the real service on the supervisor\'s socket', () => {
  test('a SIGKILLed child: requests made while it restarts wait in the backlog and are answered, none refused', async () => {
    const h = harness();
    h.host.start();
    const first = await h.host.whenReady(60_000);
    assert.equal(first.port, h.socket.port, 'the service announces the supervisor\'s port');
    assert.ok(h.specs[0]!.args.includes('--listen-handle'));
    assert.equal(await readyStatus(first.port, 5_000), 200);

    process.kill(first.pid, 'SIGKILL');
    // Connections the dying child had accepted are reset with it; from its death on, none may fail.
    await waitFor(() => !isAlive(first.pid), 10_000, 'the child to be gone');
    // Requests every 50 ms from the kill until a new child answered, each allowed 60 s.
    const answers: Promise<number | string>[] = [];
    const started = Date.now();
    while (h.host.state !== 'running' || h.host.pid === first.pid) {
      answers.push(readyStatus(first.port, 60_000));
      if (Date.now() - started > 60_000) break;
      await sleep(50);
    }
    const results = await Promise.all(answers);
    assert.ok(results.length >= 5, `requests were made during the restart (${results.length})`);
    assert.deepEqual(results.filter((r) => r !== 200), [], 'every request made during the restart was answered 200');
    const second = await h.host.whenReady(1_000);
    assert.notEqual(second.pid, first.pid);
    assert.equal(second.port, first.port);
  });

  test('a child refuses a socket that is not bound to the port it was asked for, and binds its own', async () => {
    const socket = bindListenSocket('127.0.0.1', 0);
    const other = bindListenSocket('127.0.0.1', 0); // a free port to ask for, released before the child binds it
    const wanted = other.port;
    other.close();
    const child = forkServiceLauncher()({
      modulePath: HEADLESS_ENTRY.modulePath,
      execArgv: HEADLESS_ENTRY.execArgv ?? [],
      args: serveArgs({ dataDir: tmpDir('owlet-listen-'), port: wanted, keyFromHost: false, forwardLogs: 'warn', listenHandle: true }),
      listenSocket: socket,
    });
    const messages: { type?: string; port?: number }[] = [];
    child.onMessage((m) => void messages.push(m as { type?: string; port?: number }));
    let exited = false;
    child.onExit(() => void (exited = true));
    try {
      const ready = await waitFor(() => messages.find((m) => m.type === 'ready'), 60_000, 'ready');
      assert.equal(ready.port, wanted, 'it serves on the port it was asked for');
      assert.ok(messages.some((m) => m.type === 'log' && /refused; binding our own/.test(JSON.stringify(m))), 'it says why');
      assert.equal(await readyStatus(wanted, 5_000), 200);
      assert.equal(await tryConnect(socket.port), 'ECONNREFUSED', 'the refused socket was never listened on');
    } finally {
      child.send({ type: 'shutdown', reason: 'test' });
      await waitFor(() => exited, 20_000, 'exit');
      socket.close();
    }
  });

  test('an entry that does not take the socket: the host lets go of it and that child binds the same port itself', async () => {
    const h = harness();
    h.host.start();
    const first = await h.host.whenReady(60_000);
    h.host.setEntry({ ...HEADLESS_ENTRY, acceptsListenSocket: false });
    const second = await h.host.restart('another version', 60_000);
    assert.equal(h.socket.closed, true);
    assert.equal(h.specs[1]!.args.includes('--listen-handle'), false);
    assert.equal(second.port, first.port);
    assert.equal(await readyStatus(second.port, 5_000), 200);
    await waitFor(() => h.host.state === 'running', 1_000, 'running');
  });
});
