import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runOwlet } from '../../helpers/cli.js';
import { tmpDir, writeTree } from '../../helpers/tmp.js';

/** The command-line contract other tools rely on: arguments, output shapes, exit codes. */

function corpus(): string {
  const root = tmpDir('owlet-root-');
  writeTree(root, {
    'notes/alpha.txt': 'The quick brown fox jumps over the lazy dog. tokenalpha',
    'notes/beta.md': '# Beta Title\n\nMarkdown with tokenbeta and a café.',
    'web/page.html': '<html><head><title>Gamma Page</title><script>var tokenscript=1</script></head><body><p>tokengamma body</p></body></html>',
    'data/table.csv': 'name,value\ntokendelta,42\n',
    // No extractor for .xyz, and not text either (sniffed): skipped as binary.
    'bin/blob.xyz': new Uint8Array([0x89, 0x01, 0x02, 0x03, 0x00, 0x00, 0x1f, 0x8b, 0x08, 0x00, 0x04, 0x05]),
  });
  return root;
}

test('index prints a summary and exits 0; search --json returns ranked hits with absolute paths', async () => {
  const root = corpus();
  const data = tmpDir('owlet-data-');
  const idx = await runOwlet(['index', '--root', root, '--data-dir', data]);
  assert.equal(idx.code, 0, idx.stderr);
  assert.match(idx.stdout, /Indexed 4 files, skipped 1, failed 0.* in [\d.]+ s \([\d.]+ files\/s\)/);
  // A skipped binary is not a fault: the summary says what it is and does not send the user to "owlet errors".
  assert.match(idx.stdout, /^Not documents Owlet reads \(skipped\): 1 binary\.$/m);
  assert.doesNotMatch(idx.stdout, /owlet errors/);

  const s = await runOwlet(['search', 'tokenbeta', '--json', '--data-dir', data]);
  assert.equal(s.code, 0, s.stderr);
  const out = JSON.parse(s.stdout) as { total: number; hits: Record<string, unknown>[] };
  assert.equal(out.total, 1);
  const hit = out.hits[0]!;
  assert.deepEqual(Object.keys(hit).sort(), ['mtime', 'path', 'score', 'size', 'snippet', 'title']);
  assert.equal(hit.path, path.join(root, 'notes/beta.md'));
  assert.ok(path.isAbsolute(hit.path as string));
  assert.equal(hit.title, 'Beta Title');
  assert.match(hit.snippet as string, /<mark>tokenbeta<\/mark>/);
  assert.equal(typeof hit.score, 'number');
  assert.equal(hit.size, fs.statSync(path.join(root, 'notes/beta.md')).size);
  assert.ok(!Number.isNaN(Date.parse(hit.mtime as string)));

  const cafe = JSON.parse((await runOwlet(['search', 'cafe', '--json', '--data-dir', data])).stdout);
  assert.equal(cafe.total, 1, 'cafe finds café');
  const script = JSON.parse((await runOwlet(['search', 'tokenscript', '--json', '--data-dir', data])).stdout);
  assert.equal(script.total, 0, 'script text is not indexed');
  const title = JSON.parse((await runOwlet(['search', 'gamma', '--json', '--data-dir', data])).stdout);
  assert.equal(title.hits[0].title, 'Gamma Page');

  // A query that starts with "-" is a negation, never an option (issue #10).
  const neg = await runOwlet(['search', '-tokengamma cafe', '--json', '--data-dir', data]);
  assert.equal(neg.code, 0, neg.stderr);
  assert.equal(JSON.parse(neg.stdout).total, 1);
  assert.equal(JSON.parse((await runOwlet(['search', '-tokenbeta cafe', '--json', '--data-dir', data])).stdout).total, 0);
  // A typo: "did you mean" in the JSON and in the readable output (issue #17).
  const typo = await runOwlet(['search', 'tokenbetta', '--data-dir', data]);
  assert.match(typo.stdout, /^0 results\nDid you mean: tokenbeta\n/);
  assert.deepEqual(JSON.parse((await runOwlet(['search', 'tokenbetta', '--json', '--data-dir', data])).stdout).suggestion, { query: 'tokenbeta', words: [{ from: 'tokenbetta', to: 'tokenbeta' }] });
  // The same page bounds as the API.
  assert.equal((await runOwlet(['search', 'cafe', '--limit', '1000', '--offset', '100000', '--data-dir', data])).code, 0);
  assert.equal((await runOwlet(['search', 'cafe', '--offset', '100001', '--data-dir', data])).code, 2);
});

test('search respects --limit, orders best first, and prints a readable list without --json', async () => {
  const root = tmpDir('owlet-root-');
  const files: Record<string, string> = {};
  for (let i = 0; i < 15; i++) files[`f${i}.txt`] = `common word ${'filler '.repeat(i * 20)}`;
  files['best.txt'] = 'common common common';
  writeTree(root, files);
  const data = tmpDir('owlet-data-');
  assert.equal((await runOwlet(['index', '--root', root, '--data-dir', data])).code, 0);
  const j = JSON.parse((await runOwlet(['search', 'common', '--limit', '5', '--json', '--data-dir', data])).stdout);
  assert.equal(j.total, 16);
  assert.equal(j.hits.length, 5);
  assert.equal(path.basename(j.hits[0].path), 'best.txt');
  for (let i = 1; i < j.hits.length; i++) assert.ok(j.hits[i - 1].score >= j.hits[i].score, 'best first');
  const human = await runOwlet(['search', 'common', '--limit', '2', '--data-dir', data]);
  assert.match(human.stdout, /^16 results\n1\. best\.txt\n/);
});

test('errors --json lists skipped and failed files with reasons; status --json reports counts', async () => {
  const root = corpus();
  const data = tmpDir('owlet-data-');
  await runOwlet(['index', '--root', root, '--data-dir', data]);
  const e = await runOwlet(['errors', '--json', '--data-dir', data]);
  assert.equal(e.code, 0, e.stderr);
  const { files, groups } = JSON.parse(e.stdout) as { groups: unknown[]; files: { path: string; status: string; reason: string; message: string }[] };
  assert.deepEqual(groups, [{ status: 'skipped', reason: 'binary', count: 1 }]);
  assert.equal(files.length, 1);
  assert.equal(files[0]!.path, path.join(root, 'bin/blob.xyz'));
  assert.equal(files[0]!.status, 'skipped');
  assert.equal(files[0]!.reason, 'binary');
  assert.match(files[0]!.message, /binary content.*\.xyz file/);
  const st = await runOwlet(['status', '--json', '--data-dir', data]);
  assert.equal(st.code, 0, st.stderr);
  const status = JSON.parse(st.stdout);
  assert.equal(status.counts.indexed, 4);
  assert.equal(status.counts.skipped, 1);
  assert.equal(status.service, null);
  assert.equal(status.roots[0].path, root);
  const human = await runOwlet(['errors', '--data-dir', data]);
  // Counts by reason first, then the files of each group.
  assert.match(human.stdout, /^1 file not indexed:\n +1 +skipped +binary +binary content, not text\n\nskipped binary \(1\):\n +\/.*blob\.xyz\n +binary content/);
});

test('bad arguments, a missing root and a malformed query give one clear line and a non-zero exit', async () => {
  const data = tmpDir('owlet-data-');
  const cases: [string[], RegExp, number][] = [
    [['index', '--root', '/definitely/not/here', '--data-dir', data], /root \/definitely\/not\/here does not exist/, 2],
    [['index', '--data-dir', data], /no root to index/, 2],
    [['search', 'x', '--limit', 'abc', '--data-dir', data], /--limit must be a whole number/, 2],
    [['search', 'x', '--limit', '0', '--data-dir', data], /--limit must be between 1 and 1000/, 2],
    [['search', '"unterminated', '--data-dir', data], /quote/i, 2],
    [['frobnicate'], /unknown command/, 2],
    [['index', '--bogus'], /unknown option/, 2],
  ];
  for (const [args, message, code] of cases) {
    const r = await runOwlet(args);
    assert.equal(r.code, code, `${args.join(' ')} → ${r.code}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.ok(r.stderr.trim().split('\n').length <= 2, `short error for ${args.join(' ')}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('an unusable data directory and a search before any index fail clearly', async () => {
  const root = corpus();
  const file = path.join(tmpDir(), 'a-file');
  fs.writeFileSync(file, 'not a directory');
  const r = await runOwlet(['index', '--root', root, '--data-dir', file]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no usable Owlet data directory at .*: /);
  const s = await runOwlet(['search', 'x', '--data-dir', path.join(tmpDir(), 'empty')]);
  assert.notEqual(s.code, 0);
  assert.match(s.stderr, /owlet index --root/);
});

test('an invalid configuration names the bad key and nothing starts', async () => {
  const root = corpus();
  const data = tmpDir('owlet-data-');
  fs.writeFileSync(path.join(data, 'config.json'), JSON.stringify({ maxFileSizeMb: 'big', extractors: { workers: 0 } }));
  const r = await runOwlet(['index', '--root', root, '--data-dir', data]);
  assert.equal(r.code, 78);
  assert.match(r.stderr, /maxFileSizeMb: .*number/i);
  assert.match(r.stderr, /extractors\.workers/);
  assert.ok(!fs.existsSync(path.join(data, 'index.db')), 'no database was created');
  fs.writeFileSync(path.join(data, 'config.json'), '{"roots": [}');
  assert.match((await runOwlet(['index', '--root', root, '--data-dir', data])).stderr, /not valid JSON/);
  fs.writeFileSync(path.join(data, 'config.json'), JSON.stringify({ server: { host: '0.0.0.0' } }));
  assert.match((await runOwlet(['index', '--root', root, '--data-dir', data])).stderr, /server\.host: .*loopback/);
});

test('OWLET_DATA_DIR selects the data directory when --data-dir is absent', async () => {
  const root = corpus();
  const data = tmpDir('owlet-data-');
  assert.equal((await runOwlet(['index', '--root', root], { env: { OWLET_DATA_DIR: data } })).code, 0);
  assert.ok(fs.existsSync(path.join(data, 'index.db')));
  const cfg = JSON.parse(fs.readFileSync(path.join(data, 'config.json'), 'utf8'));
  assert.deepEqual(cfg.roots, [root], 'the root is remembered for later runs');
  const again = await runOwlet(['index'], { env: { OWLET_DATA_DIR: data } });
  assert.match(again.stdout, /Indexed 0 files.*unchanged 5/, 'a second run reuses the saved root and re-extracts nothing');
});
