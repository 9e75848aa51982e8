import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ENV_ALLOW_LIST, SERVICE_MALLOC_TUNABLES, forkLauncher, scrubEnv, serviceEnv } from '../../../src/indexer/host/launcher.js';
import { isAlive, waitFor } from './helpers.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/fake-service.mjs', import.meta.url));

describe('scrubEnv', () => {
  test('keeps only allow-listed variables (POSIX: exact names and LC_*/XDG_* prefixes)', () => {
    const env = {
      PATH: '/usr/bin',
      HOME: '/home/u',
      USER: 'u',
      LANG: 'en_US.UTF-8',
      LC_ALL: 'C',
      TMPDIR: '/tmp',
      XDG_DATA_HOME: '/home/u/.data',
      OWLET_DATA_DIR: '/data',
      OWLET_ALLOW_ROOT: '1',
      NODE_OPTIONS: '--require /tmp/evil.js',
      SECRET_X: '1',
      AWS_SECRET_ACCESS_KEY: 'k',
      OWLET_DEBUG: '1',
      PATHX: 'no',
      LD_PRELOAD: '/tmp/evil.so',
      path: 'lowercase is another variable on POSIX',
      UNDEF: undefined,
    };
    assert.deepEqual(Object.keys(scrubEnv(env, 'linux')).sort(), [
      'HOME', 'LANG', 'LC_ALL', 'OWLET_ALLOW_ROOT', 'OWLET_DATA_DIR', 'PATH', 'TMPDIR', 'USER', 'XDG_DATA_HOME',
    ]);
    assert.ok(!ENV_ALLOW_LIST.includes('NODE_OPTIONS'));
  });

  test('on Windows names match case-insensitively and the system variables Node needs survive', () => {
    const env = { Path: 'C:\\Windows', SystemRoot: 'C:\\Windows', LOCALAPPDATA: 'C:\\x', TEMP: 'C:\\t', node_options: '--inspect', Secret_X: '1' };
    assert.deepEqual(Object.keys(scrubEnv(env, 'win32')).sort(), ['LOCALAPPDATA', 'Path', 'SystemRoot', 'TEMP']);
  });
});

describe('serviceEnv', () => {
  test('adds the service malloc settings to a scrubbed environment without modifying it', () => {
    const scrubbed = { PATH: '/bin', HOME: '/home/u' };
    assert.deepEqual(serviceEnv(scrubbed), { PATH: '/bin', HOME: '/home/u', GLIBC_TUNABLES: SERVICE_MALLOC_TUNABLES });
    assert.deepEqual(scrubbed, { PATH: '/bin', HOME: '/home/u' }, 'the environment handed in is not modified');
    assert.match(SERVICE_MALLOC_TUNABLES, /^glibc\.malloc\.arena_max=\d+/);
  });
});

describe('forkLauncher', () => {
  test('the child gets a scrubbed environment and no inherited Node flags', async () => {
    const launch = forkLauncher({
      modulePath: FIXTURE,
      args: ['--mode=report-env'],
      env: { ...process.env, SECRET_X: '1', NODE_OPTIONS: '--max-old-space-size=64', OWLET_DATA_DIR: '/tmp/owlet-test', GLIBC_TUNABLES: 'glibc.malloc.check=3' },
    });
    const child = launch();
    const pid = child.pid;
    assert.ok(pid);
    let report: { env: Record<string, string>; execArgv: string[] } | undefined;
    let exit: { code: number | null; signal: string | null } | undefined;
    child.onMessage((m) => {
      if (typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'test-env') report = m as typeof report;
    });
    child.onExit((code, signal) => void (exit = { code, signal }));
    try {
      await waitFor(() => report !== undefined, 10_000, 'env report');
      const env = report!.env;
      assert.equal(env.SECRET_X, undefined);
      assert.equal(env.NODE_OPTIONS, undefined);
      assert.equal(env.OWLET_DATA_DIR, '/tmp/owlet-test');
      assert.equal(env.PATH, process.env.PATH);
      // The parent's malloc settings are dropped like any variable; the service's own are set.
      assert.equal(env.GLIBC_TUNABLES, SERVICE_MALLOC_TUNABLES);
      const allowed = (k: string) =>
        ENV_ALLOW_LIST.some((a) => (a.endsWith('*') ? k.startsWith(a.slice(0, -1)) : k === a)) || k.startsWith('NODE_CHANNEL_') || k === 'GLIBC_TUNABLES';
      assert.deepEqual(Object.keys(env).filter((k) => !allowed(k)), []);
      // The test process runs with `--import tsx`; the child must not inherit it.
      assert.deepEqual(report!.execArgv, []);
    } finally {
      child.send({ type: 'shutdown', reason: 'test' });
      await waitFor(() => exit !== undefined, 10_000, 'exit');
    }
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.equal(isAlive(pid), false);

    // After the exit: late listeners still hear it; send/kill are harmless no-ops.
    let late: number | null | undefined;
    child.onExit((code) => void (late = code));
    child.send({ type: 'ping', seq: 1 });
    child.kill('SIGKILL');
    await waitFor(() => late !== undefined, 1_000, 'late onExit');
    assert.equal(late, 0);
  });

  test('SIGKILL through the handle is reported as the exit signal', async () => {
    const child = forkLauncher({ modulePath: FIXTURE, args: ['--mode=ignore-shutdown'] })();
    let exit: { code: number | null; signal: string | null } | undefined;
    child.onExit((code, signal) => void (exit = { code, signal }));
    child.kill('SIGKILL');
    await waitFor(() => exit !== undefined, 10_000, 'exit');
    assert.deepEqual(exit, { code: null, signal: 'SIGKILL' });
    assert.equal(isAlive(child.pid!), false);
  });
});
