import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { readForExtraction } from '../../../src/indexer/extract/read-file.js';
import { tmpDir } from '../../helpers/tmp.js';

/** How a worker reads one file before extracting it: what it accepts, refuses, and reports. */

test('a regular file is read whole, with its size and SHA-256', async () => {
  const dir = tmpDir();
  const body = Buffer.from('héllo wörld\n'.repeat(5000));
  const f = path.join(dir, 'a.txt');
  fs.writeFileSync(f, body);
  const r = await readForExtraction(f, 1024 * 1024);
  assert.ok(r.ok);
  assert.equal(r.size, body.length);
  assert.ok(Buffer.from(r.data).equals(body));
  assert.equal(r.sha256, createHash('sha256').update(body).digest('hex'));
});

test('an empty file reads as zero bytes, not as an error', async () => {
  const f = path.join(tmpDir(), 'empty.txt');
  fs.writeFileSync(f, '');
  const r = await readForExtraction(f, 10);
  assert.ok(r.ok);
  assert.equal(r.size, 0);
  assert.equal(r.sha256, createHash('sha256').update('').digest('hex'));
});

test('a file over the size limit is refused as too large without being read', async () => {
  const f = path.join(tmpDir(), 'big.txt');
  fs.writeFileSync(f, Buffer.alloc(3 * 1024 * 1024, 0x61));
  const r = await readForExtraction(f, 1024 * 1024);
  assert.deepEqual(r, { ok: false, reason: 'too-large', message: 'the file is 3.0 MB, over the 1.0 MB limit; not read' });
});

test('a missing file is an io-error with its errno and a readable message', async () => {
  const r = await readForExtraction(path.join(tmpDir(), 'gone.txt'), 1024);
  assert.deepEqual(r, { ok: false, reason: 'io-error', message: 'the file no longer exists', errno: 'ENOENT' });
});

test('a directory is refused as not a regular file', async () => {
  const dir = tmpDir();
  const r = await readForExtraction(dir, 1024);
  if (process.platform === 'win32') {
    // Windows refuses to open a directory as a file at all.
    assert.ok(!r.ok && r.reason === 'io-error', JSON.stringify(r));
  } else {
    assert.deepEqual(r, { ok: false, reason: 'unsupported', message: 'not a regular file (a directory); skipped' });
  }
});

test('a named pipe is refused at once instead of blocking the worker', { timeout: 10_000 }, async (t) => {
  if (process.platform === 'win32') {
    t.skip('no FIFOs in the Windows file system');
    return;
  }
  const fifo = path.join(tmpDir(), 'pipe.txt');
  execFileSync('mkfifo', [fifo]);
  // No writer ever opens it: a blocking open() or read() would hang this test until its timeout.
  const r = await readForExtraction(fifo, 1024);
  assert.deepEqual(r, { ok: false, reason: 'unsupported', message: 'not a regular file (a named pipe (FIFO)); skipped' });
});
