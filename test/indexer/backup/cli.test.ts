import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { SearchResult, ServiceInfo, StatusReport } from '../../../src/shared/api.js';
import type { BackupListing } from '../../../src/indexer/backup/listing.js';
import { fetchAuthed } from '../../helpers/auth.js';
import { runOwlet, startOwlet, waitExit } from '../../helpers/cli.js';
import { tmpDir, waitFor, writeTree } from '../../helpers/tmp.js';
import { makeCorpus } from './helpers.js';

/**
 * `owlet backup` against a real `owlet serve` (bin/owlet.js → dist; `npm run build` first): with
 * the service running, create and restore go through its API; searches keep answering during a
 * backup and across a restore; without the service they run locally.
 */
test('owlet backup create | list | verify | restore, through a running service and without one', async () => {
  const base = tmpDir('owlet-backup-cli-');
  const root = path.join(base, 'docs');
  const data = path.join(base, 'data');
  makeCorpus(root, 200);
  const indexed = await runOwlet(['index', '--root', root, '--data-dir', data, '--json']);
  assert.equal(indexed.code, 0, indexed.stderr);
  const child = startOwlet(['serve', '--data-dir', data, '--port', '0']);
  try {
    const info = await waitFor(() => JSON.parse(fs.readFileSync(path.join(data, 'service.json'), 'utf8')) as ServiceInfo, 30_000, 'service.json');
    const get = async <T>(p: string): Promise<T> => (await (await fetchAuthed(data, `${info.url}${p}`)).json()) as T;
    await waitFor(async () => (await get<StatusReport>('/api/v1/status')).progress.phase === 'idle', 30_000, 'first reconcile');

    // Searches from this process while the service backs up (its worker thread copies the index).
    let done = false;
    const statuses: number[] = [];
    const latencies: number[] = [];
    const searching = (async () => {
      for (let i = 0; !done; i++) {
        const t0 = performance.now();
        const r = await fetchAuthed(data, `${info.url}/api/v1/search?q=${encodeURIComponent(`heron uniq${i % 200}word`)}`);
        statuses.push(r.status);
        if (r.status === 200) assert.equal(((await r.json()) as SearchResult).total, 1);
        else await r.body?.cancel();
        latencies.push(performance.now() - t0);
        // Paced under the API's rate limit (600 searches a minute per client).
        await new Promise((r) => setTimeout(r, 40));
      }
    })();
    const created = await runOwlet(['backup', 'create', '--data-dir', data, '--json'], { timeoutMs: 120_000 });
    done = true;
    await searching;
    assert.equal(created.code, 0, created.stderr);
    const out = JSON.parse(created.stdout) as { status: string; manifest: { id: string; documentCount: number; verification: { ok: boolean } } };
    assert.equal(out.status, 'created');
    assert.equal(out.manifest.documentCount, 200);
    assert.equal(out.manifest.verification.ok, true);
    assert.ok(statuses.length > 0);
    assert.deepEqual([...new Set(statuses)], [200], 'every search during the backup succeeded');
    const sorted = [...latencies].sort((a, b) => a - b);
    console.log(`# ${statuses.length} HTTP searches during the backup: p50 ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} ms, max ${sorted[sorted.length - 1]!.toFixed(1)} ms`);
    const id = out.manifest.id;

    const listed = await runOwlet(['backup', 'list', '--data-dir', data, '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const l = JSON.parse(listed.stdout) as BackupListing;
    assert.deepEqual(l.backups.map((b) => [b.id, b.verified]), [[id, true]]);
    const human = await runOwlet(['backup', 'list', '--data-dir', data]);
    assert.match(human.stdout, new RegExp(`${id} .* 200 docs .* verified`));
    assert.match(human.stdout, /Storage: \d+\.\d MB used of a \d+\.\d MB budget/, 'used against the budget');
    assert.ok(l.storage.usedBytes > 0 && l.storage.budgetBytes >= l.storage.usedBytes);
    const api = await get<BackupListing>('/api/v1/backups');
    assert.equal(api.storage.usedBytes, l.storage.usedBytes, 'the dashboard reads the same figures');
    assert.ok(api.lastVerifiedAt, 'the dashboard sees the last verified time');
    assert.ok(api.nextScheduledAt, 'and the next scheduled backup');
    assert.equal((await fetch(`${info.url}/api/v1/backups`)).status, 401, 'the backup API needs the token like every /api route');

    const verified = await runOwlet(['backup', 'verify', id, '--data-dir', data]);
    assert.equal(verified.code, 0, verified.stderr);
    assert.match(verified.stdout, new RegExp(`^ok\\s+${id}`, 'm'));

    // A file added after the backup; then restore through the running service.
    writeTree(root, { 'late.txt': 'written after the backup: mangosteenword' });
    await fetchAuthed(data, `${info.url}/api/v1/index/rescan`, { method: 'POST' });
    await waitFor(async () => (await get<SearchResult>('/api/v1/search?q=mangosteenword')).total === 1, 20_000, 'late file indexed');
    const restored = await runOwlet(['backup', 'restore', id, '--data-dir', data], { timeoutMs: 120_000 });
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stdout, new RegExp(`Restored backup ${id} \\(200 documents\\)\\. The previous index is kept at .*recovery/index\\.db\\.\\d{8}T\\d{9}Z\\.pre-restore`));
    // The same service answers from the restored index and indexes the late file again.
    await waitFor(async () => (await get<SearchResult>('/api/v1/search?q=mangosteenword')).total === 1, 30_000, 'reconciled after the restore');
    assert.equal((await get<SearchResult>('/api/v1/search?q=uniq42word')).total, 1);
    const st = await get<StatusReport>('/api/v1/status');
    assert.equal(st.counts.indexed, 201);

    const unknown = await runOwlet(['backup', 'restore', '20200101T000000Z-0000', '--data-dir', data]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no backup "20200101T000000Z-0000"/);
  } finally {
    child.kill('SIGTERM');
    await waitExit(child, 15_000);
  }

  // Without a service: restore runs here, setting the current index aside.
  const local = await runOwlet(['backup', 'restore', JSON.parse((await runOwlet(['backup', 'list', '--data-dir', data, '--json'])).stdout).backups[0].id, '--data-dir', data]);
  assert.equal(local.code, 0, local.stderr);
  assert.match(local.stdout, /The next "owlet serve" or "owlet index" brings it up to date/);
  const aside = fs.readdirSync(path.join(data, 'recovery')).filter((n) => /\.pre-restore$/.test(n));
  assert.equal(aside.length, 2, 'both replaced indexes are kept');

  // A path given as an id (issue 11, point 5) is refused by the CLI before anything is touched.
  const victim = path.join(path.dirname(data), 'victimdir');
  fs.mkdirSync(victim);
  fs.writeFileSync(path.join(victim, 'keep.txt'), 'keep');
  fs.writeFileSync(path.join(path.dirname(data), 'victimdir.json'), '{}');
  const evil = await runOwlet(['backup', 'verify', 'x/../../../victimdir', '--data-dir', data]);
  assert.notEqual(evil.code, 0);
  assert.match(evil.stderr, /is not a backup id/);
  assert.equal(fs.readFileSync(path.join(victim, 'keep.txt'), 'utf8'), 'keep');

  // Doctor without a service reads the backup folder (issue 10): not "this build has no backup feature".
  const doc = await runOwlet(['doctor', '--data-dir', data]);
  assert.doesNotMatch(doc.stdout + doc.stderr, /no backup feature|no backups yet/);
  assert.match(doc.stdout, /last verified backup .* ago/);
});
