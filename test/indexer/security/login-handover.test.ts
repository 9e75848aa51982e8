import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { openLoginInBrowser, systemBrowserLauncher } from '../../../src/indexer/cli/commands/open-login.js';
import { handoverDir, pruneHandoverPages, writeHandoverPage } from '../../../src/indexer/security/login-handover.js';
import { tmpDir, waitFor } from '../../helpers/tmp.js';

/**
 * Issue #11 point 4: the one-time sign-in code must never be in a process's argv, where any
 * local user reads it from /proc/<pid>/cmdline. The opener gets the path of a private page.
 */

const CODE = 'Zq7_secret-one-time-code-ABCDEFGHIJKLMNOPQRSTU';
const URL_WITH_CODE = `http://127.0.0.1:4321/login?code=${CODE}`;

test('#11.4: a real opener process is spawned with a page path; its argv (/proc/<pid>/cmdline) never holds the code', { skip: process.platform !== 'linux' ? 'reads /proc/<pid>/cmdline (Linux)' : false }, async () => {
  const data = path.join(tmpDir('owlet-ho-'), 'data');
  fs.mkdirSync(data, { mode: 0o700 });
  const bin = tmpDir('owlet-fakebin-');
  const record = path.join(bin, 'record');
  // A stand-in xdg-open: records its own /proc cmdline, as another user's `ps` would see it, then
  // "opens" the page the way a browser would: by reading the file it was given.
  fs.writeFileSync(path.join(bin, 'xdg-open'), `#!/bin/sh\ntr '\\0' ' ' < /proc/$$/cmdline > "${record}.tmp"\necho >> "${record}.tmp"\ncat "$1" >> "${record}.tmp"\nmv "${record}.tmp" "${record}"\n`, { mode: 0o755 });
  const run = ((cmd: string, args: string[], opts: object) => spawn(cmd, args, { ...opts, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } })) as typeof spawn;
  const env = { DISPLAY: ':0', XDG_RUNTIME_DIR: '' };
  const opened = await openLoginInBrowser(data, URL_WITH_CODE, systemBrowserLauncher('linux', env, run), env);
  assert.equal(opened, true);
  const seen = await waitFor(() => (fs.existsSync(record) ? fs.readFileSync(record, 'utf8') : null), 10_000, 'the opener ran');
  const [cmdline, ...page] = seen.split('\n');
  assert.match(cmdline!, /owlet-login-[0-9a-f]{24}\.html/, 'the opener was given the page');
  assert.doesNotMatch(cmdline!, new RegExp(CODE), 'the code is not in argv');
  assert.doesNotMatch(cmdline!, /code=/);
  assert.match(page.join('\n'), new RegExp(`http-equiv="refresh" content="0;url=http://127.0.0.1:4321/login\\?code=${CODE}"`), 'the page forwards the browser to the link');
});

test('#11.4: the page is 0600, in a 0700 folder of ours ($XDG_RUNTIME_DIR/owlet or the data folder\'s tmp), with a random name', () => {
  const data = path.join(tmpDir('owlet-ho-'), 'data');
  fs.mkdirSync(data, { mode: 0o700 });
  const runtime = tmpDir('owlet-rt-');
  fs.chmodSync(runtime, 0o700);
  const a = writeHandoverPage(data, URL_WITH_CODE, { env: { XDG_RUNTIME_DIR: runtime } });
  const b = writeHandoverPage(data, URL_WITH_CODE, { env: { XDG_RUNTIME_DIR: runtime } });
  assert.notEqual(a, b);
  assert.equal(path.dirname(a), path.join(runtime, 'owlet'));
  assert.equal(fs.statSync(a).mode & 0o777, 0o600);
  assert.equal(fs.statSync(path.dirname(a)).mode & 0o777, 0o700);
  // A runtime folder others can enter is not used.
  fs.chmodSync(runtime, 0o755);
  assert.equal(handoverDir(data, { XDG_RUNTIME_DIR: runtime }), path.join(data, 'tmp'));
  assert.equal(handoverDir(data, {}), path.join(data, 'tmp'));
  // Old pages go at the next hand-over; fresh ones stay.
  pruneHandoverPages(path.dirname(a), Date.now() + 10 * 60_000);
  assert.equal(fs.existsSync(a), false);
});

test('#11.4: with no display nothing is written or spawned; a failed opener leaves no page behind', async () => {
  const data = path.join(tmpDir('owlet-ho-'), 'data');
  fs.mkdirSync(data, { mode: 0o700 });
  const calls: string[] = [];
  const none = await openLoginInBrowser(data, URL_WITH_CODE, async (t) => (calls.push(t), true), {});
  assert.equal(none, false);
  assert.equal(calls.length, 0);
  const failed = await openLoginInBrowser(data, URL_WITH_CODE, async (t) => (calls.push(t), false), { DISPLAY: ':0' });
  assert.equal(failed, false);
  assert.equal(calls.length, 1);
  assert.ok(!calls[0]!.includes(CODE));
  assert.equal(fs.existsSync(calls[0]!), false);
});
