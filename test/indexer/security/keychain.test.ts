import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../helpers/cli.js';

/**
 * Runs keychain.real.ts inside a private D-Bus session with an unlocked gnome-keyring
 * (scripts/keyring-run.sh, part of the repository so CI has it), so the keychain adapter is tested against the real thing.
 * `.ci/run` installs gnome-keyring and dbus; elsewhere the test says why it is skipped.
 */
const script = path.resolve(repoRoot, 'scripts', 'keyring-run.sh');
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const missing = [
  !has('gnome-keyring-daemon') && 'gnome-keyring-daemon (apt-get install gnome-keyring)',
  !has('dbus-run-session') && 'dbus-run-session (apt-get install dbus)',
  !fs.existsSync(script) && script,
].filter(Boolean);

test('the keychain adapter against a real Secret Service (gnome-keyring in a private D-Bus session)', { skip: missing.length ? `not available here: ${missing.join(', ')}` : false }, async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, OWLET_ALLOW_ROOT: '1' };
  // The child is its own test run, not a subtest of this one.
  delete env.NODE_TEST_CONTEXT;
  delete env.DBUS_SESSION_BUS_ADDRESS;
  const child = spawn('dbus-run-session', ['--', 'sh', script, process.execPath, '--import', 'tsx', '--test', '--test-reporter=spec', 'test/indexer/security/keychain.real.ts'], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  console.log(out.trim().split('\n').filter((l) => /✔|✖|pass|fail|skipped/.test(l)).join('\n'));
  assert.equal(code, 0, out);
  assert.match(out, /pass 2/);
  assert.match(out, /fail 0/);
});
