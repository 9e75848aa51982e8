import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startOwlet, waitExit } from '../../helpers/cli.js';
import { fetchAuthed } from '../../helpers/auth.js';
import { tmpDir, waitFor, writeTree } from '../../helpers/tmp.js';
import type { ServiceInfo, StatusReport } from '../../../src/shared/api.js';

/** What `owlet serve` writes to its log, and what it leaves behind among its child processes. */

function logLines(data: string): Record<string, unknown>[] {
  const file = path.join(data, 'logs', 'service.log');
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Child processes of `pid` with their state (Linux /proc). */
function children(pid: number): { pid: number; comm: string; state: string }[] {
  const out: { pid: number; comm: string; state: string }[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const m = /^\d+ \((.*)\) (\S) (\d+)/.exec(stat);
      if (m && Number(m[3]) === pid) out.push({ pid: Number(d), comm: m[1]!, state: m[2]! });
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

test('owlet serve logs: a refused request once (with its reason), no refusal for the sign-in page icon, watcher-driven indexing; no zombie child', async (t) => {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  writeTree(root, { 'a.txt': 'first logword' });
  const child = startOwlet(['serve', '--root', root, '--data-dir', data, '--port', '0']);
  try {
    const info = await waitFor(() => JSON.parse(fs.readFileSync(path.join(data, 'service.json'), 'utf8')) as ServiceInfo, 30_000, 'service.json');
    const status = async () => (await (await fetchAuthed(data, `${info.url}/api/v1/status`)).json()) as StatusReport;
    await waitFor(async () => (await status()).counts.indexed === 1 && (await status()).watcher.mode === 'events', 60_000, 'first pass, watching');

    // The sign-in page and the icon a browser fetches with it, without a session.
    const login = await fetch(`${info.url}/login?code=nope`);
    assert.equal(login.status, 401);
    assert.match(await login.text(), /<link rel="icon" href="\/favicon\.svg"/);
    const icon = await fetch(`${info.url}/favicon.ico`);
    assert.equal(icon.status, 200, 'favicon.ico is served without a session');
    assert.match(icon.headers.get('content-type') ?? '', /^image\//);
    assert.equal((await fetch(`${info.url}/favicon.svg`)).status, 200);

    // One refused request.
    assert.equal((await fetch(`${info.url}/api/v1/status`)).status, 401);

    // Watcher-driven indexing.
    fs.writeFileSync(path.join(root, 'b.txt'), 'second logword');
    await waitFor(async () => (await status()).counts.indexed === 2, 60_000, 'the new file indexed by the watcher');

    if (process.platform === 'linux') {
      // Give a leaked child time to appear and die; a zombie stays until its parent reaps it.
      await new Promise((r) => setTimeout(r, 1000));
      const zombies = children(child.pid!).filter((c) => c.state === 'Z');
      assert.deepEqual(zombies, [], 'no zombie child process');
    } else t.diagnostic('zombie check skipped: it reads Linux /proc');

    child.kill('SIGTERM');
    assert.equal((await waitExit(child, 20_000)).code, 0);
    const lines = logLines(data);
    const refused = lines.filter((l) => l.msg === 'request refused');
    const forStatus = refused.filter((l) => l.path === '/api/v1/status');
    assert.equal(forStatus.length, 1, `one line for the refused request: ${JSON.stringify(refused)}`);
    assert.equal(forStatus[0]!.status, 401);
    assert.equal(typeof forStatus[0]!.reason, 'string', 'the line says why');
    assert.deepEqual(refused.filter((l) => String(l.path).startsWith('/favicon')), [], 'the icon is never refused');
    const applied = lines.filter((l) => l.msg === 'changes applied');
    assert.ok(applied.some((l) => l.indexed === 1), `watcher-driven indexing is logged: ${JSON.stringify(applied)}`);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
