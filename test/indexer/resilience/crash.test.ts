import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { openIndexDb } from '../../helpers/keys.js';
import { runOwlet, startOwlet, waitExit } from '../../helpers/cli.js';
import { tmpDir, waitFor } from '../../helpers/tmp.js';
import { saveConfig } from '../../../src/indexer/config/load.js';
import { defaultConfig } from '../../../src/indexer/config/schema.js';
import type { ServiceInfo, StatusReport } from '../../../src/shared/api.js';

/** Crash safety with real processes killed by SIGKILL. */

function makeCorpus(root: string, n: number): string[] {
  const files: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = path.join(root, `d${i % 20}`, `file-${i}.txt`);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, `document number ${i} token${i} ` + 'lorem ipsum dolor sit amet '.repeat(40));
    files.push(p);
  }
  return files.sort();
}

function indexedCount(data: string): number {
  try {
    const db = openIndexDb(data);
    try {
      return (db.prepare("SELECT count(*) AS n FROM documents WHERE status = 'indexed'").get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
}

/** The index holds exactly the files on disk: no lost, no phantom documents, and a sound file. */
function assertMatchesDisk(data: string, files: string[]): void {
  const db = openIndexDb(data);
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    const rows = db.prepare("SELECT path FROM documents WHERE status = 'indexed' ORDER BY path").all() as { path: string }[];
    assert.deepEqual(rows.map((r) => r.path), files);
    const fts = db.prepare('SELECT count(*) AS n FROM docs_fts').get() as { n: number };
    assert.equal(fts.n, files.length, 'one FTS entry per document');
    const orphans = db.prepare('SELECT count(*) AS n FROM doc_text WHERE (id >> 20) NOT IN (SELECT id FROM documents)').get() as { n: number };
    assert.equal(orphans.n, 0, 'no orphaned text');
  } finally {
    db.close();
  }
}

test('owlet index killed mid-run: the database stays consistent and the next run resumes', async () => {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  const files = makeCorpus(root, 2500);
  saveConfig(data, { ...defaultConfig(), roots: [root], indexing: { ...defaultConfig().indexing, batchSize: 25 } });
  const child = startOwlet(['index', '--data-dir', data]);
  await waitFor(() => indexedCount(data) >= 100, 60_000, 'some committed batches');
  child.kill('SIGKILL');
  await waitExit(child, 10_000);
  const before = indexedCount(data);
  assert.ok(before < files.length, `killed before the end (${before} of ${files.length})`);

  const again = await runOwlet(['index', '--data-dir', data, '--json'], { timeoutMs: 120_000 });
  assert.equal(again.code, 0, again.stderr);
  const summary = JSON.parse(again.stdout) as { indexed: number; unchanged: number };
  assert.ok(summary.unchanged >= before, `resumed: ${summary.unchanged} files were kept, not re-extracted`);
  assert.equal(summary.indexed + summary.unchanged, files.length);
  assertMatchesDisk(data, files);
});

test('owlet run: SIGKILL of the service child during heavy indexing, repeatedly — service comes back, index matches the disk', async () => {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  const files = makeCorpus(root, 3000);
  saveConfig(data, { ...defaultConfig(), roots: [root], indexing: { ...defaultConfig().indexing, batchSize: 25 } });
  const sup = startOwlet(['run', '--data-dir', data]);
  const info = () => JSON.parse(fs.readFileSync(path.join(data, 'service.json'), 'utf8')) as ServiceInfo;
  try {
    const recoveries: number[] = [];
    let lastCount = 0;
    for (let round = 0; round < 3; round++) {
      const current = await waitFor(() => {
        const i = info();
        return i.supervisorPid === sup.pid && i.pid !== sup.pid ? i : null;
      }, 30_000, 'service.json from a live child');
      await waitFor(() => indexedCount(data) > lastCount + 50 || indexedCount(data) === files.length, 60_000, 'indexing progress');
      lastCount = indexedCount(data);
      const t0 = Date.now();
      process.kill(current.pid, 'SIGKILL');
      await waitFor(async () => {
        const i = info();
        if (i.pid === current.pid) return false;
        const r = await fetch(`${i.url}/health/ready`, { signal: AbortSignal.timeout(2000) });
        return r.status === 200;
      }, 60_000, 'a new child serving');
      recoveries.push(Date.now() - t0);
    }
    console.log(`SIGKILL → API answering again (ms): ${recoveries.join(', ')}`);
    assert.equal(info().supervisorPid, sup.pid);
    // Let the last child finish, then stop everything cleanly.
    const i = info();
    await waitFor(async () => {
      const r = await fetch(`${i.url}/api/v1/status`, { signal: AbortSignal.timeout(2000), headers: authHeaders(data) });
      if (r.status !== 200) return false;
      const s = (await r.json()) as StatusReport;
      return s.progress.phase === 'idle' && s.counts.indexed === files.length;
    }, 120_000, 'indexing to finish');
  } finally {
    sup.kill('SIGTERM');
    const exit = await waitExit(sup, 20_000);
    assert.equal(exit.killed, false, 'supervisor stopped its child and exited by itself');
  }
  assertMatchesDisk(data, files);
  assert.ok(!fs.existsSync(path.join(data, 'service.json')), 'clean exit removes service.json');
});

/** Reads the API token when the service has one (security hardening), else no header. */
function authHeaders(data: string): Record<string, string> {
  const f = path.join(data, 'api-token');
  return fs.existsSync(f) ? { authorization: `Bearer ${fs.readFileSync(f, 'utf8').trim()}` } : {};
}
