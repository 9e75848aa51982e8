import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runOwlet, startOwlet, waitExit } from '../../helpers/cli.js';
import { fetchAuthed } from '../../helpers/auth.js';
import { tmpDir, waitFor, writeTree } from '../../helpers/tmp.js';
import type { SearchResult, ServiceInfo } from '../../../src/shared/api.js';

type DoctorJson = { checks: { id: string; status: string; message: string }[] };

test('index.db-wal deleted under a running owlet serve: it keeps serving, other processes work again, and no commit is lost even after a SIGKILL', async () => {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  writeTree(root, { 'a.txt': 'first document tokenone' });
  const child = startOwlet(['serve', '--root', root, '--data-dir', data, '--port', '0']);
  try {
    const info = await waitFor(() => JSON.parse(fs.readFileSync(path.join(data, 'service.json'), 'utf8')) as ServiceInfo, 30_000, 'service.json');
    const search = async (q: string) => (await (await fetchAuthed(data, `${info.url}/api/v1/search?q=${q}`)).json()) as SearchResult;
    await waitFor(async () => (await search('tokenone')).total === 1, 30_000, 'first pass indexed');

    // The commits so far live in the WAL (index.db is still nearly empty); a cleanup tool removes it.
    fs.rmSync(path.join(data, 'index.db-wal'));
    fs.writeFileSync(path.join(root, 'b.txt'), 'written after the WAL went tokenwal');
    await waitFor(async () => (await search('tokenwal')).total === 1, 30_000, 'the service keeps indexing and answering');

    // Another process (doctor opens index.db itself) reads the index again within seconds.
    const doctor = await waitFor(
      async () => {
        const r = await runOwlet(['doctor', '--json', '--data-dir', data], { timeoutMs: 60_000 });
        const checks = (JSON.parse(r.stdout) as DoctorJson).checks;
        const db = checks.filter((c) => c.id === 'database' || c.id === 'integrity' || c.id === 'fts');
        return db.length === 3 && db.every((c) => c.status === 'ok') ? db : null;
      },
      45_000,
      'doctor reads the index again',
    );
    assert.equal(doctor.length, 3);
    const logs = fs.readdirSync(path.join(data, 'logs')).map((f) => fs.readFileSync(path.join(data, 'logs', f), 'utf8')).join('');
    assert.match(logs, /index WAL was deleted under the running service; its commits were saved into index\.db/);

    // No orderly shutdown (no final checkpoint): every commit must already be in the files on disk.
    child.kill('SIGKILL');
    await waitExit(child, 10_000);
    for (const token of ['tokenone', 'tokenwal']) {
      const r = await runOwlet(['search', token, '--json', '--data-dir', data], { timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as SearchResult).total, 1, `${token} survives the deleted WAL and the kill`);
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});
