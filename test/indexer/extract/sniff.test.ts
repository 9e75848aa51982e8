import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { extractBytes } from '../../../src/indexer/extract/extract-file.js';
import { isSupported } from '../../../src/indexer/extract/formats.js';
import { OwletService } from '../../../src/indexer/service/service.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';
import { tmpDir, writeTree } from '../../helpers/tmp.js';
import { ctx } from './fixtures.js';

/**
 * Files without an extension, or with one no extractor knows, are sniffed: text in a known
 * encoding is indexed as text, binary is skipped with the reason 'binary'.
 */

const GPL_HEAD = '                    GNU GENERAL PUBLIC LICENSE\n                       Version 3, 29 June 2007\n\n Copyright (C) 2007 Free Software Foundation\n';

function packedBinary(n = 4096): Uint8Array {
  // No NUL at all (windows-1252 would accept every byte), but full of control bytes.
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = 1 + ((i * 37) % 250);
  return b;
}

test('sniffing: which names are sniffed, and what counts as text', async () => {
  assert.equal(isSupported(''), true, 'no extension: sniffed');
  assert.equal(isSupported('debian'), true, 'README.Debian: sniffed');
  assert.equal(isSupported('jpg'), false, 'a known binary format is not even read');
  assert.equal(isSupported('exe'), false);

  const utf8 = await extractBytes(Buffer.from(GPL_HEAD + 'Läuft: café\n'), ctx(''));
  assert.ok(utf8.ok && utf8.text.includes('GENERAL PUBLIC LICENSE') && utf8.text.includes('café'), JSON.stringify(utf8));
  const utf16 = await extractBytes(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Makefile notes: ünïcode', 'utf16le')]), ctx(''));
  assert.ok(utf16.ok && utf16.text.includes('ünïcode'), JSON.stringify(utf16));
  const latin1 = await extractBytes(Buffer.from('Gr\xfc\xdfe aus K\xf6ln\n', 'latin1'), ctx('debian'));
  assert.ok(latin1.ok && latin1.text.includes('Grüße aus Köln'), JSON.stringify(latin1));

  const nul = await extractBytes(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0x3e, 0]), ctx(''));
  assert.deepEqual(nul, { ok: false, reason: 'binary', message: 'binary content (NUL bytes): not text in an encoding Owlet knows (file without an extension)' });
  const packed = await extractBytes(packedBinary(), ctx('dat'));
  assert.ok(!packed.ok && packed.reason === 'binary' && /control bytes.*\.dat file/.test(packed.message), JSON.stringify(packed));
  const known = await extractBytes(Buffer.from('text, but a .jpg'), ctx('jpg'));
  assert.ok(!known.ok && known.reason === 'unsupported', 'known binary formats keep "unsupported"');
});

test('an ordinary folder (README, COPYING, Makefile, README.Debian, a binary blob): text is indexed and searchable, binary skipped as binary, nothing failed', async () => {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  writeTree(root, {
    README: 'Owlet sniffword readme\nBuild with make.\n',
    COPYING: GPL_HEAD,
    Makefile: 'all:\n\tcc -o owlet main.c # makeword\n',
    'debian/README.Debian': 'Debian notes debianword\n',
    'debian/rules': '#!/usr/bin/make -f\n%:\n\tdh $@ # rulesword\n',
    'blob': packedBinary(),
    'core': new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0, 0]),
    'photo.jpg': Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]),
    'main.c': 'int main(void) { return 0; }\n',
  });
  fs.writeFileSync(path.join(data, 'config.json'), JSON.stringify({ roots: [root] }), { mode: 0o600 });
  const svc = new OwletService({ dataDir: data, log: nullLogger, watch: false });
  try {
    const s = await svc.indexOnce();
    assert.equal(s.failed, 0, `a normal folder has no failures: ${JSON.stringify(svc.problems(100, 0).map((p) => [p.path, p.reason, p.message]))}`);
    assert.equal(s.indexed, 6);
    assert.equal(s.skipped, 3);
    for (const [word, file] of [['sniffword', 'README'], ['GENERAL', 'COPYING'], ['makeword', 'Makefile'], ['debianword', 'README.Debian'], ['rulesword', 'rules']] as const)
      assert.equal(path.basename(svc.search(word, 5, 0).hits[0]?.path ?? ''), file, word);
    const problems = Object.fromEntries(svc.problems(100, 0).map((p) => [path.basename(p.path), `${p.status}/${p.reason}`]));
    assert.deepEqual(problems, { blob: 'skipped/binary', core: 'skipped/binary', 'photo.jpg': 'skipped/unsupported' });
    // Binary files are not read again on every pass while they do not change.
    const again = await svc.indexOnce();
    assert.equal(again.unchanged, 9);
  } finally {
    await svc.stop();
  }
});
