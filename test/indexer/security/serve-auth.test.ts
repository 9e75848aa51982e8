import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runOwlet, startOwlet, waitExit } from '../../helpers/cli.js';
import { authHeaders, fetchAuthed } from '../../helpers/auth.js';
import { tmpDir, waitFor, writeTree } from '../../helpers/tmp.js';
import type { ServiceInfo } from '../../../src/shared/api.js';

/** The sign-in contract end to end, against a real `owlet serve` and the real CLI. */
test('serve creates a 0600 api-token; CLI clients use it; owlet open signs a browser in', async () => {
  const root = tmpDir('owlet-root-');
  const data = path.join(tmpDir('owlet-data-parent-'), 'data');
  writeTree(root, { 'a.txt': 'alpha document' });
  const child = startOwlet(['serve', '--root', root, '--data-dir', data, '--port', '0']);
  try {
    const info = await waitFor(() => JSON.parse(fs.readFileSync(path.join(data, 'service.json'), 'utf8')) as ServiceInfo, 20_000, 'service.json');
    const tokenFile = path.join(data, 'api-token');
    assert.equal(fs.statSync(tokenFile).mode & 0o777, 0o600);
    assert.match(fs.readFileSync(tokenFile, 'utf8').trim(), /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
    assert.equal(fs.statSync(data).mode & 0o777, 0o700);
    // Every file the service created is owner-only (including SQLite's WAL and SHM), every folder 0700.
    await waitFor(() => fs.existsSync(path.join(data, 'index.db-wal')), 10_000, 'WAL');
    const walk = (d: string): { f: string; dir: boolean }[] =>
      fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => {
        const p = path.join(d, e.name);
        return e.isDirectory() ? [{ f: p, dir: true }, ...walk(p)] : [{ f: p, dir: false }];
      });
    // A file the running service renames away between the listing and the stat (an atomic write's
    // temp file) is no longer there to check; every file that is there is checked.
    const modeOf = (f: string): number | null => {
      try {
        return fs.statSync(f).mode & 0o777;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw e;
      }
    };
    const loose = walk(data)
      .map(({ f, dir }) => ({ f: path.relative(data, f), dir, mode: modeOf(f) }))
      .filter(({ dir, mode }) => mode !== null && mode !== (dir ? 0o700 : 0o600));
    assert.deepEqual(loose, []);

    assert.equal((await fetch(`${info.url}/health/live`)).status, 200);
    const anon = await fetch(`${info.url}/api/v1/status`);
    assert.equal(anon.status, 401);
    assert.equal(((await anon.json()) as { error: { code: string } }).error.code, 'OWL_ERR_AUTH_REQUIRED');
    assert.equal((await fetchAuthed(data, `${info.url}/api/v1/status`)).status, 200);

    // owlet status talks to the running service with the token.
    const st = await runOwlet(['status', '--json', '--data-dir', data], { timeoutMs: 20_000 });
    assert.equal(st.code, 0, st.stderr);
    assert.equal(JSON.parse(st.stdout).service.pid, child.pid);

    // owlet open: a one-time link (no display here, so it is only printed, and never fails).
    const open = await runOwlet(['open', '--json', '--data-dir', data], { timeoutMs: 20_000, env: { DISPLAY: '', WAYLAND_DISPLAY: '' } });
    assert.equal(open.code, 0, open.stderr);
    const { url, opened } = JSON.parse(open.stdout) as { url: string; opened: boolean };
    assert.equal(opened, false);
    assert.match(url, new RegExp(`^${info.url}/login\\?code=[A-Za-z0-9_-]{43}$`));
    const login = await fetch(url, { redirect: 'manual' });
    assert.equal(login.status, 303);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    assert.equal((await fetch(`${info.url}/api/v1/status`, { headers: { cookie } })).status, 200);
    assert.equal((await fetch(url, { redirect: 'manual' })).status, 401, 'the link works once');
    const text = await runOwlet(['open', '--no-browser', '--data-dir', data], { timeoutMs: 20_000 });
    assert.equal(text.code, 0);
    assert.match(text.stdout, /\/login\?code=/);

    // A rotated token is picked up by the running service without a restart.
    const oldToken = authHeaders(data);
    const rotate = await runOwlet(['key', 'rotate-token', '--data-dir', data], { timeoutMs: 20_000 });
    assert.equal(rotate.code, 0, rotate.stderr);
    assert.notDeepEqual(authHeaders(data), oldToken);
    assert.equal(fs.statSync(tokenFile).mode & 0o777, 0o600);
    assert.equal((await fetch(`${info.url}/api/v1/status`, { headers: oldToken })).status, 401, 'the old token stops working');
    assert.equal((await fetch(`${info.url}/api/v1/status`, { headers: authHeaders(data) })).status, 200, 'the new one works, read from the file');
    assert.equal((await fetch(`${info.url}/api/v1/status`, { headers: { cookie } })).status, 401, '#11.9: a new token ends dashboard sessions');

    child.kill('SIGTERM');
    assert.equal((await waitExit(child, 10_000)).code, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  // Without a running service, owlet open says so clearly.
  const none = await runOwlet(['open', '--data-dir', data], { timeoutMs: 20_000 });
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no Owlet service is running/);
});
