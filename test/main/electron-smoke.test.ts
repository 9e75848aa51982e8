// The Electron smoke test (#13): starts the REAL app (dist/main/main.js) with `--smoke-test` when an
// Electron binary is present: main must come up, host the indexer in a utility process, see it
// ready, print OWLET_SMOKE_OK and quit with a drained indexer. Without a binary (these test
// machines: the electron package is types only here) it is skipped with the reason printed.
// Release machines: `npx install-electron`, `npm run build`, `npx electron-builder install-app-deps`,
// then run this file (or set OWLET_ELECTRON_BINARY to an Electron executable).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tmpDir } from '../helpers/tmp.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

/** The Electron executable, or why there is none. Never `require('electron')`: that downloads. */
function findElectron(env: NodeJS.ProcessEnv = process.env): { binary: string } | { missing: string } {
  if (env.OWLET_ELECTRON_BINARY) {
    return fs.existsSync(env.OWLET_ELECTRON_BINARY) ? { binary: env.OWLET_ELECTRON_BINARY } : { missing: `OWLET_ELECTRON_BINARY=${env.OWLET_ELECTRON_BINARY} does not exist` };
  }
  const pkg = path.join(root, 'node_modules', 'electron');
  const pathFile = path.join(pkg, 'path.txt');
  if (!fs.existsSync(pathFile)) return { missing: `no Electron binary: ${pathFile} is absent (the electron package was installed without its binary, which cannot be downloaded on this machine); set OWLET_ELECTRON_BINARY or run "npx install-electron" on a machine that can` };
  const binary = path.join(env.ELECTRON_OVERRIDE_DIST_PATH ?? path.join(pkg, 'dist'), fs.readFileSync(pathFile, 'utf8').trim());
  return fs.existsSync(binary) ? { binary } : { missing: `no Electron binary at ${binary}` };
}

function displayWrapper(): { cmd: string[] } | { missing: string } {
  if (process.platform !== 'linux' || process.env.DISPLAY || process.env.WAYLAND_DISPLAY) return { cmd: [] };
  const xvfb = spawnSync('sh', ['-c', 'command -v xvfb-run'], { encoding: 'utf8' });
  return xvfb.status === 0 ? { cmd: [xvfb.stdout.trim(), '-a'] } : { missing: 'no display (DISPLAY unset) and no xvfb-run to provide one' };
}

test('the real Electron app starts, hosts the indexer, and quits drained', { timeout: 180_000 }, async (t) => {
  const found = findElectron();
  if ('missing' in found) {
    const reason = `Electron smoke test skipped: ${found.missing}`;
    console.log(reason);
    t.skip(reason);
    return;
  }
  const display = displayWrapper();
  if ('missing' in display) {
    const reason = `Electron smoke test skipped: ${display.missing}`;
    console.log(reason);
    t.skip(reason);
    return;
  }
  assert.ok(fs.existsSync(path.join(root, 'dist', 'main', 'main.js')), 'run npm run build first');
  assert.ok(fs.existsSync(path.join(root, 'dist', 'main', 'preload.cjs')), 'the preload is built as CommonJS');
  const home = tmpDir('owlet-smoke-home-');
  const data = tmpDir('owlet-smoke-data-');
  // basic password store: a headless machine has no keyring, and safeStorage must be available.
  const appArgs = [root, '--smoke-test', '--password-store=basic', ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])];
  const [cmd, ...cmdArgs] = [...display.cmd, found.binary, ...appArgs] as [string, ...string[]];
  const child = spawn(cmd, cmdArgs, {
    env: { ...process.env, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), OWLET_DATA_DIR: data, ELECTRON_ENABLE_LOGGING: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(null);
    }, 150_000);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  const hint = 'if the indexer failed to load a native module, run "npx electron-builder install-app-deps" (and "npm rebuild" afterwards for the Node tests)';
  assert.match(out, /OWLET_SMOKE_OK http:\/\/127\.0\.0\.1:\d+/, `the app did not report a ready indexer (${hint}); output:\n${out.slice(-4000)}`);
  assert.equal(code, 0, `exit code; output:\n${out.slice(-2000)}`);
  const wal = path.join(data, 'index.db-wal');
  assert.ok(!fs.existsSync(wal) || fs.statSync(wal).size === 0, 'quit drained the indexer');
  assert.ok(fs.existsSync(path.join(home, '.config', 'Owlet App')) || process.platform !== 'linux', 'userData is the app\'s own folder, not the data folder');
});
