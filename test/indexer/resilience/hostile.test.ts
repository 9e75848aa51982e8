import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { openIndexDb } from '../../helpers/keys.js';
import { runOwlet, startOwlet, waitExit } from '../../helpers/cli.js';
import { tmpDir, waitFor } from '../../helpers/tmp.js';
import { fetchAuthed } from '../../helpers/auth.js';
import { writeHostileCorpus } from '../../fixtures/hostile/corpus.js';
import type { ProblemFile, SearchResult, ServiceInfo, StatusReport } from '../../../src/shared/api.js';

/**
 * The hostile corpus against a real `owlet serve` process: bad files are refused with a recorded
 * reason, good files beside them are indexed and found, the service stays up, and the memory of
 * its whole process tree (service + extraction workers) stays bounded.
 */

const MiB = 1024 * 1024;
/**
 * Regression guard, not a benchmark: the service plus its two extraction workers must stay under
 * 1 GiB resident while chewing through this corpus (a 2 GiB zip bomb, a 30 MB line, 60 MB files).
 */
const PEAK_RSS_BOUND = 1024 * MiB;

/** Sums VmRSS over a process and all its descendants, from /proc. */
function treeRss(rootPid: number): { bytes: number; pids: number } {
  const children = new Map<number, number[]>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(name));
    children.set(ppid, list);
  }
  let bytes = 0;
  let pids = 0;
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop()!;
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) bytes += Number(m[1]) * 1024;
      pids++;
    } catch {
      continue;
    }
    stack.push(...(children.get(pid) ?? []));
  }
  return { bytes, pids };
}

/** Samples the tree every ~100 ms until stopped; returns the peak. */
function memorySampler(pid: number) {
  let peak = 0;
  let peakPids = 0;
  let samples = 0;
  const take = () => {
    const s = treeRss(pid);
    samples++;
    if (s.bytes > peak) {
      peak = s.bytes;
      peakPids = s.pids;
    }
  };
  take();
  const timer = setInterval(take, 100);
  return {
    stop: () => {
      clearInterval(timer);
      return { peak, peakPids, samples };
    },
  };
}

test('hostile corpus under owlet serve: every bad file has a recorded reason, good files are found, the service stays up, memory stays bounded', { skip: process.platform !== 'linux' ? 'samples memory from /proc and makes FIFOs: Linux only' : false }, async () => {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  // Defaults everywhere (64 MB file limit, 32 MB text, 256 MB unzip budget, 2 workers, 30 s timeout).
  fs.writeFileSync(path.join(data, 'config.json'), JSON.stringify({ roots: [root] }), { mode: 0o600 });
  const corpus = writeHostileCorpus(root, 64 * MiB);

  const svc = startOwlet(['serve', '--data-dir', data]);
  const mem = memorySampler(svc.pid!);
  let peak: ReturnType<ReturnType<typeof memorySampler>['stop']> | null = null;
  try {
    const info = await waitFor(() => {
      try {
        return JSON.parse(fs.readFileSync(path.join(data, 'service.json'), 'utf8')) as ServiceInfo;
      } catch {
        return null;
      }
    }, 30_000, 'service.json').catch((e: Error) => {
      throw new Error(`${e.message}\n${svc.output()}`);
    });
    const get = async <T>(url: string): Promise<T> => {
      const r = await fetchAuthed(data, `${info.url}${url}`);
      assert.equal(r.status, 200, `${url} answered ${r.status}`);
      return (await r.json()) as T;
    };
    const status = () => get<StatusReport>('/api/v1/status');
    const search = (q: string) => get<SearchResult>(`/api/v1/search?q=${encodeURIComponent(q)}&limit=50`);
    const t0 = Date.now();
    await waitFor(async () => {
      const s = await status();
      return s.progress.phase === 'idle' && s.progress.finishedAt !== null;
    }, 120_000, 'the first pass over the hostile corpus');
    const firstPass = Date.now() - t0;

    // Good files, in the same folders as the bad ones, are indexed and found.
    for (const g of [...corpus.good, ...corpus.tolerated]) {
      const r = await search(g.token);
      assert.deepEqual(r.hits.map((h) => h.path), [g.path], `search ${g.token}`);
    }
    assert.equal((await search('longlineendtoken')).total, 1, 'the 30 MB line is indexed to its end (under maxTextMb)');
    // Empty documents are not failures: indexed with no text, findable by name.
    const empties = await search('empty');
    assert.deepEqual(empties.hits.map((h) => h.path).sort(), [...corpus.empty].sort());

    // Every bad file has its reason recorded, and nothing else is listed as a problem.
    const errors = await runOwlet(['errors', '--json', '--data-dir', data], { timeoutMs: 30_000 });
    assert.equal(errors.code, 0, errors.stderr);
    const problems = (JSON.parse(errors.stdout) as { files: ProblemFile[] }).files;
    const byPath = new Map(problems.map((p) => [p.path, p]));
    for (const b of corpus.bad) {
      const p = byPath.get(b.path);
      assert.ok(p, `${b.what} (${b.path}) has no recorded reason; recorded: ${JSON.stringify(problems.map((x) => [x.path, x.reason]))}`);
      assert.equal(`${p.status} ${p.reason}`, `${b.status} ${b.reason}`, `${b.what}: ${p.message}`);
      assert.match(p.message, b.message, `${b.what}: message`);
    }
    assert.deepEqual(problems.map((p) => p.path).filter((p) => !corpus.bad.some((b) => b.path === p)), [], 'no good file listed as a problem');
    for (const p of problems) assert.ok(!['crash', 'timeout', 'memory'].includes(p.reason), `${p.path}: ${p.reason} (a limit should have stopped it first)`);

    // Files rewritten and deleted while a worker is extracting them (60 MB each, so extraction
    // lasts long enough to be seen busy): the index must end with what is on disk.
    const big = (token: string) => Buffer.alloc(60 * MiB, `${token} filler words `);
    const rewritten = path.join(root, 'hostile', 'zz-rewritten.txt');
    const deleted = path.join(root, 'hostile', 'zz-deleted.txt');
    const caughtBusy: boolean[] = [];
    const whileExtracting = async (file: string, content: Buffer, then: () => void) => {
      fs.writeFileSync(file, content);
      const busy = await waitFor(async () => (await status()).resilience.pool.busy > 0, 20_000, `a worker busy with ${path.basename(file)}`).catch(() => false);
      then();
      caughtBusy.push(busy);
    };
    await whileExtracting(rewritten, big('oldversiontoken'), () => fs.writeFileSync(rewritten, 'the new version newversiontoken\n'));
    await whileExtracting(deleted, big('deletedfiletoken'), () => fs.rmSync(deleted));
    // Caught up: no extraction running or queued, and the rows say what the disk says (the
    // watcher's updates do not show in progress.phase, which only follows full passes).
    const rowOf = (p: string) => {
      const db = openIndexDb(data);
      try {
        return db.prepare('SELECT status, size FROM documents WHERE path = ?').get(p) as { status: string; size: number } | undefined;
      } finally {
        db.close();
      }
    };
    await waitFor(async () => {
      const s = await status();
      if (s.progress.phase !== 'idle' || s.resilience.pool.busy > 0 || s.resilience.pool.queued > 0) return false;
      const r = rowOf(rewritten);
      return r?.status === 'indexed' && r.size === fs.statSync(rewritten).size && rowOf(deleted) === undefined;
    }, 60_000, 'the index to catch up with the rewritten and deleted files');
    assert.equal((await search('oldversiontoken')).total, 0, 'the old version is gone');
    assert.equal((await search('deletedfiletoken')).total, 0, 'the deleted file is gone');
    assert.deepEqual((await search('newversiontoken')).hits.map((h) => h.path), [rewritten]);
    assert.deepEqual(caughtBusy, [true, true], 'both changes happened while a worker was extracting');

    // The service stayed up through all of it.
    assert.ok(svc.exitCode === null && svc.signalCode === null, 'service still running');
    assert.equal((await fetchAuthed(data, `${info.url}/health/live`)).status, 200);
    const final = await status();
    assert.equal(final.resilience.pool.crashes, 0, 'no worker crashed');
    assert.equal(final.resilience.pool.memoryKills, 0, 'no worker hit the memory cap');
    assert.equal(final.resilience.pool.timeouts, 0, 'no worker timed out');
    peak = mem.stop();
    console.log(
      `hostile corpus: ${corpus.good.length} good, ${corpus.tolerated.length} pathological-but-valid, ${corpus.empty.length} empty, ` +
        `${corpus.bad.length} bad files; first pass ${firstPass} ms; peak RSS of the service tree ${(peak.peak / MiB).toFixed(0)} MiB ` +
        `over ${peak.peakPids} processes (${peak.samples} samples, bound ${PEAK_RSS_BOUND / MiB} MiB)`,
    );
    assert.ok(peak.peak < PEAK_RSS_BOUND, `peak RSS ${(peak.peak / MiB).toFixed(0)} MiB is over the ${PEAK_RSS_BOUND / MiB} MiB bound`);
  } finally {
    if (!peak) mem.stop();
    svc.kill('SIGTERM');
    const exit = await waitExit(svc, 20_000);
    assert.equal(exit.killed, false, `clean shutdown\n${svc.output()}`);
  }
  const db = openIndexDb(data);
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    const phantom = db.prepare('SELECT status, reason, message, size, text_bytes AS textBytes FROM documents WHERE path = ?').get(deletedPath(root));
    assert.equal(phantom, undefined, 'no phantom row for the deleted file');
  } finally {
    db.close();
  }
});

function deletedPath(root: string): string {
  return path.join(root, 'hostile', 'zz-deleted.txt');
}
