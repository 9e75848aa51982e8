import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startOwlet, waitExit } from '../../helpers/cli.js';
import { fetchAuthed } from '../../helpers/auth.js';
import { tmpDir, waitFor, writeTree } from '../../helpers/tmp.js';
import type { SearchResult, ServiceInfo, StatusReport } from '../../../src/shared/api.js';

let dataDirForAuth = '';
async function get<T>(url: string): Promise<T> {
  const r = await fetchAuthed(dataDirForAuth, url);
  return (await r.json()) as T;
}

test('owlet serve: service.json, health, search, live updates, control endpoints, clean stop', async () => {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  writeTree(root, { 'a.txt': 'first document tokenone', 'sub/b.md': '# B\ntokentwo' });
  dataDirForAuth = data;
  const child = startOwlet(['serve', '--root', root, '--data-dir', data, '--port', '0']);
  try {
    const info = await waitFor(() => JSON.parse(fs.readFileSync(path.join(data, 'service.json'), 'utf8')) as ServiceInfo, 20_000, 'service.json');
    assert.equal(info.pid, child.pid);
    assert.match(info.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    // service.json is written as the server starts listening; the line on stdout may come a moment later.
    await waitFor(() => child.output().includes(`serving on ${info.url}`), 5_000, `"serving on ${info.url}" on stdout`);
    assert.equal((await fetch(`${info.url}/health/live`)).status, 200);
    await waitFor(async () => (await fetch(`${info.url}/health/ready`)).status === 200, 20_000, 'ready');
    await waitFor(async () => (await get<StatusReport>(`${info.url}/api/v1/status`)).counts.indexed === 2, 20_000, 'first pass');

    const search = (q: string) => get<SearchResult>(`${info.url}/api/v1/search?q=${encodeURIComponent(q)}`);
    assert.equal((await search('tokenone')).hits[0]?.path, path.join(root, 'a.txt'));

    // Live updates: create, modify, rename, delete — each visible in search while serving.
    const latencies: number[] = [];
    const visible = async (q: string, expect: (r: SearchResult) => boolean, what: string) => {
      const t0 = Date.now();
      await waitFor(async () => expect(await search(q)), 10_000, what);
      latencies.push(Date.now() - t0);
    };
    fs.writeFileSync(path.join(root, 'new.txt'), 'freshly written tokenthree');
    await visible('tokenthree', (r) => r.total === 1, 'created file');
    fs.writeFileSync(path.join(root, 'a.txt'), 'rewritten tokenfour');
    await visible('tokenfour', (r) => r.total === 1, 'modified file');
    assert.equal((await search('tokenone')).total, 0, 'old text is gone');
    fs.renameSync(path.join(root, 'new.txt'), path.join(root, 'sub', 'moved.txt'));
    await visible('tokenthree', (r) => r.hits[0]?.path === path.join(root, 'sub', 'moved.txt'), 'renamed file');
    fs.rmSync(path.join(root, 'sub'), { recursive: true });
    await visible('tokentwo', (r) => r.total === 0, 'deleted folder');
    console.log(`live update latency (ms): ${latencies.join(', ')}`);

    // Control endpoints.
    assert.equal((await (await fetchAuthed(data, `${info.url}/api/v1/index/pause`, { method: 'POST' })).json()).paused, true);
    assert.equal((await get<StatusReport>(`${info.url}/api/v1/status`)).paused, true);
    assert.equal((await (await fetchAuthed(data, `${info.url}/api/v1/index/resume`, { method: 'POST' })).json()).paused, false);
    assert.equal((await fetchAuthed(data, `${info.url}/api/v1/index/rescan`, { method: 'POST' })).status, 202);

    child.kill('SIGTERM');
    const exit = await waitExit(child, 10_000);
    assert.equal(exit.killed, false, 'stopped by itself within the deadline');
    assert.equal(exit.code, 0);
    assert.ok(!fs.existsSync(path.join(data, 'service.json')), 'service.json removed on clean exit');
    const wal = path.join(data, 'index.db-wal');
    assert.ok(!fs.existsSync(wal) || fs.statSync(wal).size === 0, 'WAL checkpointed');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('owlet serve refuses a missing root with a clear error', async () => {
  const data = tmpDir('owlet-data-');
  const child = startOwlet(['serve', '--root', '/nonexistent/root', '--data-dir', data]);
  const exit = await waitExit(child, 20_000);
  assert.equal(exit.code, 2);
  assert.match(child.output(), /root \/nonexistent\/root does not exist/);
});

test('a host\'s shutdown message stops the service and the process exits by itself (no kill needed)', async () => {
  const { fork } = await import('node:child_process');
  const { owletBin } = await import('../../helpers/cli.js');
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  writeTree(root, { 'a.txt': 'x' });
  const child = fork(owletBin, ['serve', '--root', root, '--data-dir', data, '--port', '0'], {
    env: { ...process.env, OWLET_ALLOW_ROOT: '1' },
    execArgv: [],
    serialization: 'advanced',
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no ready message within 20 s')), 20_000);
      child.on('message', (m: { type?: string }) => {
        if (m?.type === 'ready') {
          clearTimeout(t);
          resolve();
        }
      });
    });
    child.send({ type: 'shutdown', reason: 'test' });
    const exit = await waitExit(child, 10_000);
    assert.equal(exit.killed, false, 'exited on its own after the shutdown message');
    assert.equal(exit.code, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
