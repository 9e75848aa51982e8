// The Electron main process's indexer host (createAppIndexerHost: createIndexerHost with
// utilityProcess and safeStorage plugged in), driven through small fakes of both: the Electron
// binary is not available here. The supervisor's timers run on a fake clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createAppIndexerHost } from '../../src/main/app-host.js';
import { appUserDataDir, configureAppPaths } from '../../src/main/app-paths.js';
import type { UtilityProcessApi } from '../../src/main/utility-launcher.js';
import type { SafeStorageLike } from '../../src/main/secret-store-electron.js';
import { writeStoreMarker } from '../../src/indexer/security/secrets.js';
import { createLogger } from '../../src/indexer/log/logger.js';
import { PROTOCOL_VERSION } from '../../src/shared/protocol.js';
import { tmpDir } from '../helpers/tmp.js';
import { FakeClock, waitFor } from '../indexer/host/helpers.js';
import { SERVICE_MALLOC_TUNABLES } from '../../src/indexer/host/launcher.js';

/** A utility process that behaves like the service: waits for its key, then reports ready. */
class FakeChild extends EventEmitter {
  static nextPid = 5000;
  readonly pid = FakeChild.nextPid++;
  readonly received: unknown[] = [];
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  killed = false;
  constructor(readonly args: string[]) {
    super();
  }
  postMessage(m: unknown) {
    this.received.push(m);
    const msg = m as { type: string; reason?: string };
    if (msg.type === 'key') setImmediate(() => this.ready());
    if (msg.type === 'shutdown') {
      setImmediate(() => {
        this.emit('message', { type: 'stopping', reason: msg.reason });
        this.emit('exit', 0);
      });
    }
  }
  kill() {
    this.killed = true;
    setImmediate(() => this.emit('exit', 9));
    return true;
  }
  /** The port it was told to use, else one "the OS chose". */
  get port(): number {
    const i = this.args.indexOf('--port');
    return i >= 0 ? Number(this.args[i + 1]) : 40_000 + (this.pid % 1000);
  }
  ready() {
    this.emit('message', { type: 'ready', protocol: PROTOCOL_VERSION, url: `http://127.0.0.1:${this.port}`, port: this.port, pid: this.pid });
  }
}

function fakeUtility() {
  const children: FakeChild[] = [];
  const forks: { modulePath: string; args: string[]; options: Record<string, unknown> }[] = [];
  const api = {
    fork(modulePath: string, args: string[] = [], options: Record<string, unknown> = {}) {
      forks.push({ modulePath, args, options });
      const c = new FakeChild(args);
      children.push(c);
      return c;
    },
  } as unknown as UtilityProcessApi;
  return { api, children, forks };
}

/** safeStorage with reversible "encryption"; `available` false models a locked or missing keychain. */
function fakeSafeStorage(available = true): SafeStorageLike {
  return {
    isEncryptionAvailable: () => available,
    encryptString: (s: string) => Buffer.from(`enc:${s}`),
    decryptString: (b: Buffer) => b.toString().replace(/^enc:/, ''),
    getSelectedStorageBackend: () => 'gnome_libsecret',
  } as SafeStorageLike;
}

function setup(o: { dataDir?: string; safe?: SafeStorageLike } = {}) {
  const dataDir = o.dataDir ?? tmpDir('owlet-app-');
  const util = fakeUtility();
  const clock = new FakeClock();
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ write: (l) => void lines.push(JSON.parse(l) as Record<string, unknown>) }, { component: 'main' });
  const host = createAppIndexerHost({
    dataDir,
    entry: { modulePath: '/app/dist/indexer/cli/entry.js', execArgv: ['--max-semi-space-size=2'], version: '1.2.3' },
    utilityProcess: util.api,
    safeStorage: o.safe ?? fakeSafeStorage(),
    log,
    env: { PATH: '/bin', SECRET_TOKEN: 'x' },
    supervisor: { clock },
  });
  return { dataDir, host, clock, lines, ...util };
}

test('a key handover that fails forks nothing: the host fails with the keychain\'s message, no orphan, no retry loop', () => {
  const s = setup({ safe: fakeSafeStorage(false) });
  s.host.start();
  assert.equal(s.forks.length, 0, 'no utility process was started');
  assert.equal(s.host.state, 'failed');
  assert.equal(s.host.failure?.reason, 'refused');
  assert.match(s.host.failure!.message, /keychain is not available.*unlock it/);
  s.clock.advance(60 * 60_000);
  assert.equal(s.forks.length, 0, 'nothing is retried behind the user\'s back');
  assert.equal(s.clock.pending, 0);
  assert.ok(s.lines.some((l) => l.msg === 'supervisor launch-refused' && l.level === 'warn'), 'the refusal is logged');
});

test('keys that belong to the headless service: refused before any fork, with what to do', () => {
  const dataDir = tmpDir('owlet-app-');
  writeStoreMarker(dataDir, 'keychain');
  const s = setup({ dataDir });
  s.host.start();
  assert.equal(s.forks.length, 0);
  assert.equal(s.host.failure?.error?.code, 'OWL_ERR_SECRET_STORE');
  assert.match(s.host.failure!.message, /owlet run/);
});

test('the key reaches the child first, over its private channel; the port stays the same after a crash and after restart()', async () => {
  const s = setup();
  s.host.start();
  assert.equal(s.forks.length, 1);
  const first = s.forks[0]!;
  assert.equal(first.modulePath, '/app/dist/indexer/cli/entry.js');
  assert.deepEqual(first.options.execArgv, ['--max-semi-space-size=2']);
  assert.deepEqual(first.options.env, { PATH: '/bin', GLIBC_TUNABLES: SERVICE_MALLOC_TUNABLES }, 'the environment is scrubbed; the service malloc settings are added');
  assert.equal(first.options.stdio, 'pipe', 'output is captured, not ignored');
  assert.ok(first.args.includes('--key-from-host'));
  assert.equal(first.args.includes('--port'), false);
  assert.equal(first.args.join(' ').includes((s.children[0]!.received[0] as { key: string }).key), false, 'the key is never on the command line');
  assert.equal((s.children[0]!.received[0] as { type: string }).type, 'key', 'the key is the first message');

  const r1 = await s.host.whenReady(5_000);
  assert.equal(s.host.state, 'running');

  s.children[0]!.emit('exit', 1); // the utility process died
  assert.equal(s.host.state, 'backoff');
  s.clock.advance(10_000);
  assert.equal(s.forks.length, 2);
  assert.deepEqual(s.forks[1]!.args.slice(s.forks[1]!.args.indexOf('--port')), ['--port', String(r1.port), '--key-from-host', '--forward-logs', 'info']);
  assert.equal((s.children[1]!.received[0] as { type: string }).type, 'key', 'every child gets its key first');
  const r2 = await s.host.whenReady(5_000);
  assert.equal(r2.url, r1.url, 'the dashboard window locked to the old origin keeps working');

  const r3 = await s.host.restart('test');
  assert.equal(r3.port, r1.port);
  assert.deepEqual(s.children[1]!.received.at(-1), { type: 'shutdown', reason: 'test' }, 'restart drains the old child first');
  assert.equal(s.children[1]!.killed, false);
});

test('the entry is switchable for the update engine: the next start runs the other version, on the same port', async () => {
  const s = setup();
  s.host.start();
  const r1 = await s.host.whenReady(5_000);
  s.host.setEntry({ modulePath: '/prefix/versions/1.3.0/dist/indexer/cli/entry.js', version: '1.3.0' });
  const r2 = await s.host.restart('update to 1.3.0');
  assert.equal(s.forks.at(-1)!.modulePath, '/prefix/versions/1.3.0/dist/indexer/cli/entry.js');
  assert.equal(r2.port, r1.port);
  assert.equal(s.host.snapshot().entry.version, '1.3.0');
});

test('forwarded service records and the child\'s raw output reach the main log', async () => {
  const s = setup();
  s.host.start();
  await s.host.whenReady(5_000);
  const child = s.children[0]!;
  child.emit('message', { type: 'log', record: { time: '2026-12-02T00:00:00.000Z', level: 'warn', component: 'watch', msg: 'watcher fell back to polling', fields: { root: '/r' } } });
  child.emit('message', { type: 'log', record: { level: 'shout', msg: 1 } }); // malformed: ignored
  child.stderr.write('Error: native module failed to load\n  at x');
  child.stderr.end();
  await waitFor(() => s.lines.some((l) => l.component === 'service' && l.msg === '  at x'), 2_000, 'the last partial line');
  const service = s.lines.filter((l) => l.component === 'service');
  assert.deepEqual(
    service.map((l) => [l.level, l.childComponent, l.msg]),
    [
      ['warn', 'watch', 'watcher fell back to polling'],
      ['warn', 'service-stderr', 'Error: native module failed to load'],
      ['warn', 'service-stderr', '  at x'],
    ],
  );
  assert.equal(service[0]!.root, '/r');
  assert.equal(service[0]!.childPid, child.pid);
  assert.ok(s.lines.some((l) => l.msg === 'supervisor message-ignored'));
});

test('Electron\'s userData gets its own folder, never the data folder (on macOS they would coincide)', () => {
  const appData = '/Users/ann/Library/Application Support';
  const dataDir = '/Users/ann/Library/Application Support/Owlet';
  const dir = appUserDataDir(appData, dataDir);
  assert.equal(dir, '/Users/ann/Library/Application Support/Owlet App');
  assert.notEqual(dir, dataDir);
  assert.throws(() => appUserDataDir(appData, '/Users/ann/Library/Application Support/Owlet App/index'), /overlaps the app's own profile/);
  assert.throws(() => appUserDataDir(appData, appData), /overlaps/);

  const set: [string, string][] = [];
  const app = { getPath: (n: string) => (n === 'appData' ? appData : `${appData}/Owlet`), setPath: (n: 'userData', v: string) => void set.push([n, v]) };
  configureAppPaths(app, dataDir);
  assert.deepEqual(set, [['userData', '/Users/ann/Library/Application Support/Owlet App']]);
});

test('main.ts moves userData before the single-instance lock and before ready, and hosts the indexer through createAppIndexerHost', () => {
  // The Electron entry cannot run here; its order of calls is checked in its source.
  const src = fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '../../src/main/main.ts'), 'utf8');
  const paths = src.indexOf('configureAppPaths(app, dataDir)');
  // claimSingleInstance (single-instance.ts) is what calls app.requestSingleInstanceLock().
  const lock = src.indexOf('claimSingleInstance(app');
  const ready = src.indexOf('app.whenReady()');
  assert.ok(paths > 0 && paths < lock && lock < ready, 'configureAppPaths → claimSingleInstance → whenReady');
  assert.ok(src.includes('createAppIndexerHost('));
  assert.ok(!/createSupervisor|utilityProcess\.fork|hostKeyMessage/.test(src), 'no second wiring of the service in main.ts');
  // The tested parts are what main.ts wires (each is tested on its own in test/main).
  for (const part of ['trayAlerts: true', 'registerBridge(', 'installQuitDrain(', 'new TrayController(', 'new AlertNotifier(', 'host.onDidAlert(', 'createMainLogger(electronLog', 'new LoginItem(', 'createDashboardWindow(BrowserWindow, url, PRELOAD)']) {
    assert.ok(src.includes(part), `main.ts wires ${part}`);
  }
  assert.ok(!/fetch\(/.test(src), 'every call to the service goes through the service client, not ad-hoc fetches');
});
