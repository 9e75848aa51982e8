import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { formatMemory, pssOf, roleOf, serviceLogFacts, treeCpuS, type MemoryProfile } from '../../bench/memory.js';
import { spawnSync } from 'node:child_process';
import { tmpDir } from '../helpers/tmp.js';

function dataDirWithLog(lines: readonly unknown[]): string {
  const dir = tmpDir('owlet-bench-memory-');
  fs.mkdirSync(path.join(dir, 'logs'));
  fs.writeFileSync(path.join(dir, 'logs', 'service.log'), lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return dir;
}

test('the memory profile reads the idle release and every backup that ran in the window from the service log', () => {
  const dir = dataDirWithLog([
    { level: 'info', component: 'service', msg: 'serving' },
    'not json at all',
    { component: 'service', msg: 'idle: released cached memory', before: { rssMb: 159, heapTotalMb: 63.9, heapUsedMb: 52.6 }, after: { rssMb: 150, heapTotalMb: 24.7, heapUsedMb: 22.3 } },
    { component: 'service', msg: 'idle: released cached memory', before: { heapTotalMb: 30 }, after: { heapTotalMb: 25 } },
    { component: 'backup', msg: 'backup created and verified', reason: 'catch-up' },
    { component: 'backup', msg: 'scheduled backup failed', reason: 'catch-up' },
  ]);
  const facts = serviceLogFacts(dir);
  assert.deepEqual(facts.idleRelease, { before: { rssMb: 159, heapTotalMb: 63.9, heapUsedMb: 52.6 }, after: { rssMb: 150, heapTotalMb: 24.7, heapUsedMb: 22.3 } }, 'the first release is the one after the first pass');
  assert.deepEqual(facts.backups, ['backup created and verified (catch-up)', 'scheduled backup failed (catch-up)']);
  assert.deepEqual(serviceLogFacts(tmpDir('owlet-bench-memory-')), { idleRelease: null, backups: [] }, 'no log: nothing claimed');
});

test('the memory report names a backup that ran inside the window, and the service idle split by kind', () => {
  const m: MemoryProfile = {
    bin: 'bin/owlet.js', execArgv: ['--max-semi-space-size=2'], glibcTunables: 'glibc.malloc.arena_max=2', config: null, ok: true, error: null, indexWallS: 60, indexCpuS: 95.5, peakTreeMb: 290, peakTreePssMb: 201.5,
    indexing: [{ pid: 1, role: 'service', peakMb: 150, lastMb: 140 }], idleAfterS: 60, idleTreeMb: 95, idle: [{ pid: 1, role: 'service', peakMb: 150, lastMb: 95 }], timeline: [],
    idleService: { anonMb: 45.2, fileMb: 49.8 }, idleRelease: { before: { heapTotalMb: 63.9, heapUsedMb: 52.6, rssMb: 159 }, after: { heapTotalMb: 24.7, heapUsedMb: 22.3, rssMb: 150 } },
    backups: ['backup created and verified (catch-up)'],
  };
  const text = formatMemory(m).join('\n');
  assert.match(text, /GLIBC_TUNABLES=glibc\.malloc\.arena_max=2/, 'the malloc settings the service ran with are named');
  assert.match(text, /first pass 60 s, 95\.5 s CPU/);
  assert.match(text, /peak PSS of the tree \(shared pages counted once, sampled each second\): 201\.5 MB/);
  assert.match(text, /45\.2 MB its own \(anonymous\), 49\.8 MB mapped files/);
  assert.match(text, /V8 heap 63\.9 -> 24\.7 MB \(22\.3 MB live\)/);
  assert.match(text, /NOTE: backups ran inside the window and are in these figures: backup created and verified \(catch-up\)/);
  assert.doesNotMatch(formatMemory({ ...m, backups: [] }).join('\n'), /NOTE/);
});

test('a fork of the service not yet replaced by its program is not counted as a process (its pages are the service\'s); others are named', () => {
  const serviceCmd = '/usr/bin/node --max-semi-space-size=2 --expose-gc bin/owlet.js serve --root /c';
  assert.equal(roleOf(100, 100, serviceCmd, serviceCmd), 'service');
  assert.equal(roleOf(101, 100, serviceCmd, serviceCmd), null, 'same command line as the service: forked, not exec\'d');
  assert.equal(roleOf(101, 100, serviceCmd, ''), null, 'no command line yet (mid-exec)');
  assert.equal(roleOf(101, 100, serviceCmd, null), null, 'gone');
  assert.equal(roleOf(101, 100, serviceCmd, '/usr/bin/node --max-semi-space-size=4 --no-liftoff /o/dist/indexer/extract/worker-main.js'), 'extraction worker');
  assert.equal(roleOf(102, 100, serviceCmd, '/usr/bin/nice -n 5 ionice'), '/usr/bin/nice -n');
});

test('a process\'s PSS is read from smaps_rollup: below its RSS (shared pages split), null for a process that is gone', { skip: fs.existsSync('/proc/self/smaps_rollup') ? false : 'no /proc/PID/smaps_rollup on this system' }, () => {
  const pss = pssOf(process.pid);
  assert.ok(pss !== null && pss > 0, `pss ${pss}`);
  assert.ok(pss <= process.memoryUsage.rss(), `pss ${pss} above rss ${process.memoryUsage.rss()}`);
  assert.equal(pssOf(2 ** 22 + 1), null, 'no such pid');
});

test('the tree\'s CPU time counts exited children (reaped) as well as the root\'s own', { skip: fs.existsSync('/proc/self/stat') ? false : 'no /proc on this system' }, () => {
  const before = treeCpuS(process.pid);
  assert.ok(before !== null);
  // A child that burns ~0.5 s of CPU and is reaped: its time lands in this process's cutime.
  spawnSync(process.execPath, ['-e', 'const t = Date.now(); while (Date.now() - t < 500);'], { timeout: 20_000 });
  const after = treeCpuS(process.pid)!;
  assert.ok(after - before >= 0.3, `tree CPU ${before} -> ${after}`);
  assert.equal(treeCpuS(2 ** 22 + 1), null, 'no such pid');
});
