import { test } from 'node:test';
import assert from 'node:assert/strict';
import { strToU8, zipSync } from 'fflate';
import { extractBytes, type ExtractResult } from '../../../src/indexer/extract/extract-file.js';
import { ctx, makeDocx, makeEpub, makeOdt, makePdf, makePptx, makeXlsx } from './fixtures.js';
import { xmpTitle } from '../../../src/indexer/extract/pdf.js';

function ok(r: ExtractResult): Extract<ExtractResult, { ok: true }> {
  assert.ok(r.ok, `expected success, got ${JSON.stringify(r)}`);
  return r;
}
function failed(r: ExtractResult, reason: string, message?: RegExp): void {
  assert.equal(r.ok, false, `expected failure, got ${JSON.stringify(r).slice(0, 300)}`);
  assert.ok(!r.ok);
  assert.equal(r.reason, reason, r.message);
  if (message) assert.match(r.message, message);
}

test('PDF: text of every page and the /Title from the info dictionary', async () => {
  const pdf = makePdf({ pages: ['Hello PDFTOKEN1 world', 'Second PDFTOKEN2 page'], title: 'The (PDF) Title' });
  const r = ok(await extractBytes(pdf, ctx('pdf')));
  assert.equal(r.extractor, 'pdf');
  assert.equal(r.title, 'The (PDF) Title');
  assert.match(r.text, /Hello PDFTOKEN1 world\s+Second PDFTOKEN2 page/);
  assert.equal(ok(await extractBytes(makePdf({ pages: ['x'] }), ctx('pdf'))).title, null);
});

test('PDF: pages are joined by one blank line, each tidied, and a page without text adds nothing', async () => {
  const pdf = makePdf({ pages: ['First page   ', '', 'Third page'] });
  assert.equal(ok(await extractBytes(pdf, ctx('pdf'))).text, 'First page\n\nThird page');
  // A byte budget that ends inside the blank line between pages keeps no trailing newline.
  assert.equal(ok(await extractBytes(makePdf({ pages: ['AAAA', 'BBBB'] }), ctx('pdf', { maxTextBytes: 5 }))).text, 'AAAA');
});

test('PDF: at most pdfMaxPages pages are read', async () => {
  const pdf = makePdf({ pages: ['PAGEONE', 'PAGETWO', 'PAGETHREE'] });
  const r = ok(await extractBytes(pdf, ctx('pdf', { pdfMaxPages: 2 })));
  assert.match(r.text, /PAGEONE\s+PAGETWO/);
  assert.doesNotMatch(r.text, /PAGETHREE/);
});

test('PDF: truncated, random and header-only garbage files are parse errors', async () => {
  const pdf = makePdf({ pages: ['Hello PDFTOKEN'], title: 't' });
  for (const cut of [9, 100, Math.floor(pdf.length / 2), pdf.length - 30]) {
    failed(await extractBytes(pdf.subarray(0, cut), ctx('pdf')), 'parse-error', /damaged|truncated/);
  }
  let seed = 42;
  const random = new Uint8Array(20_000).map(() => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
  failed(await extractBytes(random, ctx('pdf')), 'parse-error', /not a PDF/);
  random.set(Buffer.from('%PDF-1.7\n'));
  failed(await extractBytes(random, ctx('pdf')), 'parse-error', /damaged/);
  // the engine is still usable afterwards
  assert.match(ok(await extractBytes(pdf, ctx('pdf'))).text, /PDFTOKEN/);
});

test('DOCX: paragraphs, tabs from properties ignored, title from core.xml', async () => {
  const r = ok(await extractBytes(makeDocx({ paragraphs: ['First DOCXTOKEN &amp; more', 'Second &#233;t&#xE9;'], title: 'Docx &lt;Title&gt;' }), ctx('docx')));
  assert.equal(r.title, 'Docx <Title>');
  assert.equal(r.text, 'First DOCXTOKEN & more\nSecond été');
});

test('DOCX and ODT: the declared language comes with the text (issue #17)', async () => {
  assert.equal(ok(await extractBytes(makeDocx({ paragraphs: ['Hallo'], lang: 'de-DE' }), ctx('docx'))).lang, 'de-DE');
  assert.equal(ok(await extractBytes(makeDocx({ paragraphs: ['Hello'] }), ctx('docx'))).lang, null);
  assert.equal(ok(await extractBytes(makeOdt({ paragraphs: ['Bonjour'], lang: 'fr-FR' }), ctx('odt'))).lang, 'fr-FR');
});

test('PDF: without an Info title, the XMP dc:title is the title (issue #10)', () => {
  const xmp = '<x:xmpmeta><rdf:RDF><rdf:Description><dc:title><rdf:Alt><rdf:li xml:lang="x-default">R&amp;D Plan — 2026</rdf:li></rdf:Alt></dc:title></rdf:Description></rdf:RDF></x:xmpmeta>';
  assert.equal(xmpTitle(Buffer.from(`%PDF-1.7\n1 0 obj\n<< /Type /Metadata >>\nstream\n${xmp}\nendstream`, 'utf8')), 'R&D Plan — 2026');
  assert.equal(xmpTitle(Buffer.from('%PDF-1.7 no metadata', 'utf8')), null);
});

test('ODT: text:p paragraphs and the meta.xml title', async () => {
  const r = ok(await extractBytes(makeOdt({ paragraphs: ['ODTTOKEN one', 'two'], title: 'Odt Title' }), ctx('odt')));
  assert.equal(r.title, 'Odt Title');
  assert.equal(r.text, 'ODTTOKEN one\ntwo');
});

test('PPTX: slides in numeric order (slide10 after slide2)', async () => {
  const slides = Array.from({ length: 11 }, (_, i) => `SLIDE${i + 1}`);
  const r = ok(await extractBytes(makePptx({ slides, title: 'Deck' }), ctx('pptx')));
  assert.equal(r.title, 'Deck');
  assert.deepEqual(r.text.split(/\s+/), slides);
});

test('XLSX: shared strings (without phonetic runs) and inline strings; numbers not indexed', async () => {
  const r = ok(await extractBytes(makeXlsx({ shared: ['XLSXTOKEN', 'Zwei'], inline: 'INLINETOKEN', title: 'Book' }), ctx('xlsx')));
  assert.equal(r.title, 'Book');
  assert.equal(r.text, 'XLSXTOKEN\nZwei\nINLINETOKEN');
});

test('EPUB: chapters in spine order through the HTML extractor, title from the OPF', async () => {
  const r = ok(await extractBytes(makeEpub({ chapters: ['EPUBTOKEN first file', 'second file read first'], title: 'Epub Title' }), ctx('epub')));
  assert.equal(r.title, 'Epub Title');
  assert.match(r.text, /^second file read first\s+EPUBTOKEN first file$/);
});

test('empty files with document extensions extract to empty text (not an error)', async () => {
  for (const ext of ['pdf', 'docx', 'odt', 'pptx', 'xlsx', 'epub', 'rtf', 'eml', 'html', 'txt']) {
    const r = ok(await extractBytes(new Uint8Array(0), ctx(ext)));
    assert.equal(r.text, '', ext);
    assert.equal(r.title, null, ext);
  }
});

test('a corrupted or non-zip document is a parse error; a legacy/encrypted Office file is unsupported', async () => {
  const docx = makeDocx({ paragraphs: ['x'.repeat(5000)] });
  failed(await extractBytes(docx.subarray(0, docx.length - 30), ctx('docx')), 'parse-error', /not a valid zip/);
  failed(await extractBytes(Buffer.from('just some text'), ctx('docx')), 'parse-error');
  // damage the compressed bytes of word/document.xml (they follow the first local header)
  const damaged = Buffer.from(docx);
  const start = damaged.indexOf('word/document.xml') + 'word/document.xml'.length;
  damaged.fill(0xff, start + 2, start + 40);
  failed(await extractBytes(damaged, ctx('docx')), 'parse-error', /corrupted/);
  const cfb = Buffer.alloc(1024);
  Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]).copy(cfb);
  failed(await extractBytes(cfb, ctx('docx')), 'unsupported', /password-protected|legacy/);
  failed(await extractBytes(makeOdt({ paragraphs: [] }).subarray(0, 0 + 60), ctx('odt')), 'parse-error');
  const notWord = zipSync({ 'hello.txt': strToU8('hi') });
  failed(await extractBytes(notWord, ctx('docx')), 'parse-error', /word\/document\.xml/);
});

/** Rewrites the uncompressed size recorded for `name` in both the local and central headers. */
function lieAboutSize(zip: Uint8Array, name: string, size: number): Uint8Array {
  const b = Buffer.from(zip);
  for (let p = 0; p < b.length - 4; p++) {
    const sig = b.readUInt32LE(p);
    if (sig === 0x04034b50 && b.toString('latin1', p + 30, p + 30 + b.readUInt16LE(p + 26)) === name) b.writeUInt32LE(size, p + 22);
    if (sig === 0x02014b50 && b.toString('latin1', p + 46, p + 46 + b.readUInt16LE(p + 28)) === name) b.writeUInt32LE(size, p + 24);
  }
  return b;
}

test('a docx zip bomb is refused as too-large, honest or lying headers, memory stays low', async () => {
  const limits = { maxUnzipBytes: 4 * 1024 * 1024 };
  const xml = new Uint8Array(64 * 1024 * 1024).fill(0x20); // 64 MB of spaces
  const bomb = zipSync({ 'word/document.xml': [xml, { level: 9 }] });
  assert.ok(bomb.length < 100 * 1024, `bomb is ${bomb.length} bytes`);
  const before = process.memoryUsage().rss;
  failed(await extractBytes(bomb, ctx('docx', limits)), 'too-large', /zip bomb/);
  failed(await extractBytes(lieAboutSize(bomb, 'word/document.xml', 1000), ctx('docx', limits)), 'too-large', /zip bomb/);
  failed(await extractBytes(lieAboutSize(bomb, 'word/document.xml', 3 * 1024 * 1024), ctx('docx', limits)), 'too-large', /zip bomb/);
  const grew = (process.memoryUsage().rss - before) / (1024 * 1024);
  assert.ok(grew < 48, `RSS grew by ${grew.toFixed(0)} MB while refusing the bomb`);
  // "a few KB": 9 KB of zip that would expand to 8 MB
  const small = zipSync({ 'word/document.xml': [new Uint8Array(8 * 1024 * 1024), { level: 9 }] });
  assert.ok(small.length < 16 * 1024, `small bomb is ${small.length} bytes`);
  failed(await extractBytes(small, ctx('docx', limits)), 'too-large', /zip bomb/);
});

test('XML entity expansion ("billion laughs") in document.xml is refused, not expanded', async () => {
  const laughs = [
    '<?xml version="1.0"?>',
    '<!DOCTYPE w:document [',
    '  <!ENTITY lol "lol">',
    ...Array.from({ length: 9 }, (_, i) => `  <!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`),
    ']>',
    '<w:document xmlns:w="w"><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>',
  ].join('\n');
  failed(await extractBytes(makeDocx({ paragraphs: [], documentXml: laughs }), ctx('docx')), 'parse-error', /declares XML entities.*refused/);
  // a DOCTYPE without entities is harmless and tolerated; undeclared references stay literal
  const plain = '<!DOCTYPE x><w:document xmlns:w="w"><w:p><w:t>ok &unknown; DTDTOKEN</w:t></w:p></w:document>';
  assert.equal(ok(await extractBytes(makeDocx({ paragraphs: [], documentXml: plain }), ctx('docx'))).text, 'ok &unknown; DTDTOKEN');
});

test('deeply nested XML and HTML (200,000 levels) extract without stack overflow', async () => {
  const depth = 200_000;
  const t0 = Date.now();
  const html = `<html><head><title>Deep</title></head><body>${'<div>'.repeat(depth)}DEEPTOKEN${'</div>'.repeat(depth)}</body></html>`;
  const r = ok(await extractBytes(Buffer.from(html), ctx('html')));
  assert.equal(r.title, 'Deep');
  assert.equal(r.text, 'DEEPTOKEN');
  const unclosed = ok(await extractBytes(Buffer.from(`${'<span><b>'.repeat(depth)}OPENTOKEN`), ctx('html')));
  assert.equal(unclosed.text, 'OPENTOKEN');
  const xml = `<w:document xmlns:w="w">${'<w:sdt>'.repeat(depth)}<w:p><w:t>DEEPXML</w:t></w:p>${'</w:sdt>'.repeat(depth)}</w:document>`;
  assert.equal(ok(await extractBytes(makeDocx({ paragraphs: [], documentXml: xml }), ctx('docx'))).text, 'DEEPXML');
  assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
});

test('a 30 MB single-line text file is truncated at maxTextBytes', async () => {
  const big = Buffer.alloc(30 * 1024 * 1024, 0x61);
  big.write('STARTTOKEN', 0);
  const t0 = Date.now();
  const r = ok(await extractBytes(big, ctx('txt', { maxTextBytes: 1024 * 1024 })));
  assert.equal(Buffer.byteLength(r.text), 1024 * 1024);
  assert.ok(r.text.startsWith('STARTTOKEN'));
  const html = ok(await extractBytes(Buffer.concat([Buffer.from('<p>'), big]), ctx('html', { maxTextBytes: 1024 * 1024 })));
  assert.ok(html.text.startsWith('STARTTOKEN'));
  // the line break <p> opens with counts against the budget and is trimmed afterwards
  assert.ok(Math.abs(Buffer.byteLength(html.text) - 1024 * 1024) <= 1, `${Buffer.byteLength(html.text)}`);
  assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
});

/** Rewrites a small zip's end records into the ZIP64 form (as tools do for big archives). */
function toZip64(zip: Uint8Array): Uint8Array {
  const b = Buffer.from(zip);
  const eocd = b.length - 22; // zipSync writes no archive comment
  assert.equal(b.readUInt32LE(eocd), 0x06054b50);
  const count = b.readUInt16LE(eocd + 10);
  const cdSize = b.readUInt32LE(eocd + 12);
  const cdOffset = b.readUInt32LE(eocd + 16);
  const z64 = Buffer.alloc(56);
  z64.writeUInt32LE(0x06064b50, 0);
  z64.writeBigUInt64LE(44n, 4);
  z64.writeUInt16LE(45, 12);
  z64.writeUInt16LE(45, 14);
  z64.writeBigUInt64LE(BigInt(count), 24);
  z64.writeBigUInt64LE(BigInt(count), 32);
  z64.writeBigUInt64LE(BigInt(cdSize), 40);
  z64.writeBigUInt64LE(BigInt(cdOffset), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(eocd), 8);
  locator.writeUInt32LE(1, 16);
  const end = Buffer.from(b.subarray(eocd));
  end.writeUInt16LE(0xffff, 8);
  end.writeUInt16LE(0xffff, 10);
  end.writeUInt32LE(0xffffffff, 16);
  return Buffer.concat([b.subarray(0, eocd), z64, locator, end]);
}

test('ZIP64 end records are understood', async () => {
  const r = ok(await extractBytes(toZip64(makeDocx({ paragraphs: ['ZIP64TOKEN'], title: 'Z' })), ctx('docx')));
  assert.deepEqual([r.title, r.text], ['Z', 'ZIP64TOKEN']);
});
