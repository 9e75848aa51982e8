import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { test } from 'node:test';
import { SERVICE_EXEC_ARGV } from '../../../src/indexer/host/run.js';
import { SERVICE_MALLOC_TUNABLES, serviceEnv } from '../../../src/indexer/host/launcher.js';

/** Threads of a fresh `node` with these flags, counted from /proc once it has started (Linux). */
function threadsOf(flags: readonly string[], env: NodeJS.ProcessEnv = process.env): number {
  const r = spawnSync(process.execPath, [...flags, '-e', "setTimeout(() => process.stdout.write(String(require('fs').readdirSync('/proc/self/task').length)), 200)"], { encoding: 'utf8', env, timeout: 20_000 });
  assert.equal(r.status, 0, `node ${flags.join(' ')} failed: ${r.stderr}`);
  return Number(r.stdout);
}

const linux = process.platform === 'linux' && fs.existsSync('/proc/self/task');

/** Issue #14: the service's flags are valid for this Node, and they do what they are there for. */
test('the service runs with two V8 helper threads instead of four, and a GC it can call', { skip: linux ? false : 'thread counts are read from /proc (Linux only)' }, () => {
  const env = { ...process.env, NODE_OPTIONS: '' };
  assert.equal(threadsOf([], env) - threadsOf(SERVICE_EXEC_ARGV, env), 2, 'two fewer threads than a plain node');
  const r = spawnSync(process.execPath, [...SERVICE_EXEC_ARGV, '-e', 'process.stdout.write(typeof gc)'], { encoding: 'utf8', env, timeout: 20_000 });
  assert.equal(r.stdout, 'function');
});

test('a node started with the service environment runs, glibc accepting its malloc settings', () => {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(process.env.GLIBC_TUNABLES ?? "")'], { encoding: 'utf8', env: serviceEnv({ PATH: process.env.PATH }), timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, SERVICE_MALLOC_TUNABLES);
});
