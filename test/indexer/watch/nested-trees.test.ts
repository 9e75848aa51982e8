import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { OwletService } from '../../../src/indexer/service/service.js';
import { createLogger, nullLogger } from '../../../src/indexer/log/logger.js';
import { tmpDir, waitFor } from '../../helpers/tmp.js';
import { openIndexDb } from '../../helpers/keys.js';

/**
 * The index must equal the disk while folders are created and filled under a running service
 * (real @parcel/watcher). inotify only watches a new folder once it has seen it, so files copied
 * into `a/b/c` right after `mkdir -p a/b/c` raise no event at all: the walk after the folder
 * settles is what finds them.
 */

function filesOnDisk(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesOnDisk(p));
    else out.push(p);
  }
  return out.sort();
}

function indexedPaths(dataDir: string): string[] {
  const db = openIndexDb(dataDir);
  try {
    return (db.prepare("SELECT path FROM documents WHERE status = 'indexed' ORDER BY path").all() as { path: string }[]).map((r) => r.path);
  } finally {
    db.close();
  }
}

test('nested folders created while files stream into them: every file ends up in the index (no rescan, no manual step)', async () => {
  const root = tmpDir('owlet-nested-');
  const data = tmpDir('owlet-data-');
  const source = tmpDir('owlet-src-');
  for (let i = 0; i < 64; i++) fs.writeFileSync(path.join(source, `note-${i}.md`), `# Note ${i}\n\nstreamed words number${i}\n`);
  // The hourly rescan is off: only the watcher can find the files.
  fs.writeFileSync(path.join(data, 'config.json'), JSON.stringify({ roots: [root], indexing: { rescanMinutes: 0, watchDebounceMs: 50 } }), { mode: 0o600 });
  const log = process.env.OWLET_TEST_LOG ? createLogger({ write: (l: string) => process.stderr.write(l + '\n') }, { level: 'debug' }) : nullLogger;
  const svc = new OwletService({ dataDir: data, log, watch: true });
  try {
    await svc.start();
    await waitFor(() => svc.status().watcher.mode === 'events' && svc.status().progress.phase === 'idle', 20_000, 'the service watching');
    // As a user would: a shell that makes the folders and copies file after file into the deepest.
    const script = [
      'set -e',
      'for r in 0 1 2 3; do',
      '  mkdir -p "$ROOT/ff$r/a/b/c"',
      '  for f in "$SRC"/*; do cp "$f" "$ROOT/ff$r/a/b/c/"; done',
      '  mkdir -p "$ROOT/ff$r/a/b/c/d/e"',
      '  cp "$SRC/note-0.md" "$ROOT/ff$r/a/b/c/d/e/late.md"',
      'done',
    ].join('\n');
    const child = spawn('sh', ['-c', script], { env: { ...process.env, ROOT: root, SRC: source }, stdio: 'inherit' });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0);
    const onDisk = filesOnDisk(root);
    assert.equal(onDisk.length, 4 * 65);
    let last: string[] = [];
    try {
      await waitFor(() => {
        last = indexedPaths(data);
        return last.length === onDisk.length;
      }, 120_000, 'the index to equal the disk');
    } catch (e) {
      assert.fail(`${(e as Error).message}: ${last.length} of ${onDisk.length} files indexed`);
    }
    assert.deepEqual(last, onDisk);
  } finally {
    await svc.stop();
  }
});
