import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { OwletService } from '../../../src/indexer/service/service.js';
import { saveConfig } from '../../../src/indexer/config/load.js';
import { defaultConfig } from '../../../src/indexer/config/schema.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';
import { tmpDir, writeTree } from '../../helpers/tmp.js';
import { makeDocx, makeEpub, makeOdt, makePdf, makePptx, makeXlsx } from '../extract/fixtures.js';

/**
 * Golden answers, end to end (crawl → worker extraction → store → query): each format's unique
 * token is found, and its document ranks first.
 */
const utf16le = (s: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(s, 'utf16le')]);
const latin1 = (s: string) => Buffer.from(s, 'latin1');

const FILES: Record<string, [string | Uint8Array, string]> = {
  'plain.txt': ['plain text goldtxt', 'goldtxt'],
  'notes.md': ['# Notes\n\ngoldmd in markdown', 'goldmd'],
  'table.csv': ['a,b\ngoldcsv,1\n', 'goldcsv'],
  'data.json': ['{"k": "goldjson"}', 'goldjson'],
  'app.log': ['2024-01-01 INFO goldlog started', 'goldlog'],
  'main.py': ['def f():\n    return "goldpy"\n', 'goldpy'],
  'wide.txt': [utf16le('utf sixteen goldutfsixteen'), 'goldutfsixteen'],
  'old.txt': [latin1('legacy encoding goldlatin café'), 'goldlatin'],
  'page.html': ['<html><head><title>Golden Page</title></head><body><p>goldhtml</p></body></html>', 'goldhtml'],
  'doc.pdf': [makePdf({ pages: ['first page', 'second page goldpdf'], title: 'Golden PDF' }), 'goldpdf'],
  'doc.docx': [makeDocx({ paragraphs: ['goldworddocx paragraph'], title: 'Golden Docx' }), 'goldworddocx'],
  'doc.odt': [makeOdt({ paragraphs: ['goldodt paragraph'] }), 'goldodt'],
  'deck.pptx': [makePptx({ slides: ['slide one', 'goldpptx slide'] }), 'goldpptx'],
  'sheet.xlsx': [makeXlsx({ shared: ['goldxlsx cell'] }), 'goldxlsx'],
  'book.epub': [makeEpub({ chapters: ['<p>goldepub chapter</p>'], title: 'Golden Book' }), 'goldepub'],
  'letter.rtf': ['{\\rtf1\\ansi{\\fonttbl{\\f0 Times;}}\\f0 Dear reader goldrtf\\par}', 'goldrtf'],
  'mail.eml': ['Subject: Golden mail\r\nFrom: a@example.org\r\nContent-Type: text/plain\r\n\r\nbody goldeml\r\n', 'goldeml'],
};

test('every supported format is extracted and its unique token is found first', async () => {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  const tree: Record<string, string | Uint8Array> = {};
  for (const [name, [content]] of Object.entries(FILES)) tree[name] = content;
  // Distractors that mention every token once in a long body, so ranking has to work.
  tree['distractor.txt'] = 'filler '.repeat(2000) + Object.values(FILES).map(([, t]) => t).join(' ');
  writeTree(root, tree);
  saveConfig(data, { ...defaultConfig(), roots: [root] });
  const svc = new OwletService({ dataDir: data, log: nullLogger, watch: false });
  try {
    const summary = await svc.indexOnce();
    assert.equal(summary.failed, 0, JSON.stringify(svc.problems(100, 0)));
    assert.equal(summary.indexed, Object.keys(FILES).length + 1);
    for (const [name, [, token]] of Object.entries(FILES)) {
      const r = svc.search(token, 10, 0);
      assert.equal(r.total, 2, `${token}: its file and the distractor`);
      assert.equal(r.hits[0]?.path, path.join(root, name), `${name} ranks first for ${token}`);
      assert.match(r.hits[0]!.snippet, new RegExp(`<mark>${token}</mark>`, 'i'));
    }
    const titles = Object.fromEntries(svc.search('golden', 20, 0).hits.map((h) => [path.basename(h.path), h.title]));
    assert.equal(titles['page.html'], 'Golden Page');
    assert.equal(titles['doc.pdf'], 'Golden PDF');
    assert.equal(titles['doc.docx'], 'Golden Docx');
    assert.equal(titles['mail.eml'], 'Golden mail');
    assert.equal(svc.search('cafe goldlatin', 10, 0).total, 1, 'fallback decoding keeps accents, and cafe finds café');
  } finally {
    await svc.stop();
  }
});
