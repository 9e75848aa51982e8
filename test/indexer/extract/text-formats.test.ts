import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractBytes, type ExtractResult } from '../../../src/indexer/extract/extract-file.js';
import { isSupported, supportedExtensions } from '../../../src/indexer/extract/formats.js';
import { extractorFor } from '../../../src/indexer/extract/registry.js';
import { markdownTitle } from '../../../src/indexer/extract/text.js';
import { ctx } from './fixtures.js';

function ok(r: ExtractResult): Extract<ExtractResult, { ok: true }> {
  assert.ok(r.ok, `expected success, got ${JSON.stringify(r)}`);
  return r;
}
const utf8 = (s: string): Uint8Array => Buffer.from(s, 'utf8');

test('registry and formats agree; extension case and dot do not matter', () => {
  for (const ext of supportedExtensions()) assert.ok(extractorFor(ext), ext);
  assert.equal(extractorFor('.PDF')?.name, 'pdf');
  assert.equal(isSupported('Docx'), true);
  assert.equal(isSupported('exe'), false);
  assert.equal(extractorFor('constructor')?.name, 'sniff', 'an own table, not an inherited property: unknown names are sniffed');
});

test('unknown extension is unsupported with a clear message', async () => {
  const r = await extractBytes(utf8('x'), ctx('exe'));
  assert.deepEqual(r, { ok: false, reason: 'unsupported', message: 'no text extractor for .exe files' });
});

test('plain UTF-8 text and markdown title', async () => {
  const r = ok(await extractBytes(utf8('```sh\n# not a title\n```\n\n# Réunion TXTTOKEN1 #\nbody'), ctx('md')));
  assert.equal(r.title, 'Réunion TXTTOKEN1');
  assert.match(r.text, /body/);
  assert.equal(r.extractor, 'text');
  assert.equal(ok(await extractBytes(utf8('# heading'), ctx('txt'))).title, null, 'only markdown has titles');
  // The first heading is the title, whatever its level, ATX or setext (issue #10).
  assert.equal(markdownTitle('## level two\ntext'), 'level two');
  assert.equal(markdownTitle('Setext Title\n============\n\ntext'), 'Setext Title');
  assert.equal(markdownTitle('---\nfront: matter\n---\n# Real'), 'Real', 'front matter is not a setext heading');
  assert.equal(markdownTitle('- item\n---\n'), null, 'a list item over a rule is not a heading');
});

test('UTF-16 LE and BE with BOM', async () => {
  const s = 'UTF16TOKEN naïve €';
  const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(s, 'utf16le')]);
  const be = Buffer.from(le);
  be.swap16();
  assert.equal(ok(await extractBytes(le, ctx('txt'))).text, s);
  assert.equal(ok(await extractBytes(be, ctx('txt'))).text, s);
});

test('UTF-16 LE without BOM is recognised by its NUL pattern', async () => {
  const s = 'no bom here NOBOMTOKEN, just UTF-16 text';
  assert.equal(ok(await extractBytes(Buffer.from(s, 'utf16le'), ctx('log'))).text, s);
});

test('UTF-8 BOM is dropped; invalid UTF-8 falls back to windows-1252', async () => {
  assert.equal(ok(await extractBytes(Buffer.from([0xef, 0xbb, 0xbf, 0x61]), ctx('txt'))).text, 'a');
  const cp1252 = Buffer.from([0x43, 0x61, 0x66, 0xe9, 0x20, 0x80, 0x35]); // "Café €5" in windows-1252
  assert.equal(ok(await extractBytes(cp1252, ctx('txt'))).text, 'Café €5');
});

test('a binary file with a .txt name is refused as binary (skipped until it changes)', async () => {
  const bin = new Uint8Array(4096);
  for (let i = 0; i < bin.length; i++) bin[i] = (i * 7919) % 251 === 0 ? 1 : i % 3 === 0 ? 0 : (i * 31) & 0xff;
  const r = await extractBytes(bin, ctx('txt'));
  assert.equal(r.ok, false);
  assert.ok(!r.ok && r.reason === 'binary' && /binary data/.test(r.message), JSON.stringify(r));
});

test('HTML: title, entities, no script/style/noscript/template, blocks become lines', async () => {
  const html = `<!doctype html><html><head><title>Page &amp; HTMLTITLE</title><style>.x{color:red}</style>
    <script>var SCRIPTLEAK = "</div>";</script></head><body><noscript>NOSCRIPTLEAK</noscript>
    <template><p>TEMPLATELEAK</p></template><h1>Head&nbsp;line</h1><p>caf&eacute; HTMLTOKEN &lt;ok&gt;</p><div>second</div>
    <table><tr><td>a</td><td>b</td></tr></table></body></html>`;
  const r = ok(await extractBytes(utf8(html), ctx('html')));
  assert.equal(r.title, 'Page & HTMLTITLE');
  assert.doesNotMatch(r.text, /LEAK|color:red/);
  assert.match(r.text, /Head\u00a0line|Head line/);
  assert.match(r.text, /café HTMLTOKEN <ok>\n+second/);
  assert.match(r.text, /a\s+b/);
});

test('HTML: without <title>, the first heading is the title; the declared lang comes along (issues #10, #17)', async () => {
  const r = ok(await extractBytes(utf8('<html lang="de-CH"><body><nav>Menu</nav><h2>Die  Überschrift</h2><p>Text</p><h1>Later</h1></body></html>'), ctx('html')));
  assert.equal(r.title, 'Die Überschrift');
  assert.equal(r.lang, 'de-CH');
  const x = ok(await extractBytes(utf8('<html xml:lang="fr"><head><title>Titre</title></head><body><h1>Autre</h1></body></html>'), ctx('xhtml')));
  assert.equal(x.title, 'Titre', '<title> wins over headings');
  assert.equal(x.lang, 'fr');
});

test('HTML honours <meta charset> for legacy encodings', async () => {
  const bytes = Buffer.concat([Buffer.from('<meta charset="windows-1252"><p>Caf'), Buffer.from([0xe9]), Buffer.from(' META</p>')]);
  assert.equal(ok(await extractBytes(bytes, ctx('htm'))).text, 'Café META');
});

test('RTF: skips tables and ignorable groups, decodes \\\'hh and \\uN', async () => {
  const rtf =
    String.raw`{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0\fswiss Helvetica FONTLEAK;}}{\colortbl;\red255\green0\blue0;}` +
    String.raw`{\stylesheet{\s0 Normal STYLELEAK;}}{\info{\title INFOLEAK}}{\*\generator GENLEAK;}` +
    String.raw`\pard\f0 Caf\'e9 RTFTOKEN \u8364?5\par Second {\b bold} line\tab x\line` +
    String.raw`{\pict\pngblip 89504e47PICTLEAK}{\field{\*\fldinst HYPERLINK "x"}{\fldrslt linked}}\par}`;
  const r = ok(await extractBytes(Buffer.from(rtf, 'latin1'), ctx('rtf')));
  assert.doesNotMatch(r.text, /LEAK/);
  assert.match(r.text, /^Café RTFTOKEN €5\nSecond bold line\tx\nlinked$/);
});

test('RTF: not RTF is a parse error; deep group nesting is fine', async () => {
  const bad = await extractBytes(utf8('hello'), ctx('rtf'));
  assert.equal(bad.ok, false);
  assert.ok(!bad.ok && bad.reason === 'parse-error');
  const deep = `{\\rtf1 ${'{'.repeat(200_000)}DEEPRTF${'}'.repeat(200_000)}}`;
  assert.match(ok(await extractBytes(utf8(deep), ctx('rtf'))).text, /DEEPRTF/);
});

test('EML: headers, quoted-printable plain part preferred over HTML, encoded-word subject', async () => {
  const eml = [
    'From: =?UTF-8?Q?Ren=C3=A9e?= <renee@example.org>',
    'To: bob@example.org',
    'Date: Tue, 1 Apr 2025 10:00:00 +0000',
    'Subject: =?UTF-8?B?UsOpdW5pb24=?= EMLTITLE',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="outer"',
    '',
    '--outer',
    'Content-Type: multipart/alternative; boundary=inner',
    '',
    '--inner',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Caf=C3=A9 EMLTOKEN soft=',
    'wrap',
    '--inner',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<p>HTMLALTLEAK</p>',
    '--inner--',
    '--outer',
    'Content-Type: text/plain; name=a.txt',
    'Content-Disposition: attachment; filename=a.txt',
    '',
    'ATTACHLEAK',
    '--outer--',
    '',
  ].join('\r\n');
  const r = ok(await extractBytes(utf8(eml), ctx('eml')));
  assert.equal(r.title, 'Réunion EMLTITLE');
  assert.match(r.text, /^From: Renée <renee@example.org>\nTo: bob@example.org\nDate: Tue, 1 Apr 2025/);
  assert.match(r.text, /Café EMLTOKEN softwrap/);
  assert.doesNotMatch(r.text, /LEAK/);
});

test('EML: HTML-only mail in base64 goes through the HTML extractor', async () => {
  const body = Buffer.from('<html><body><p>Bonjour <b>EMLHTMLTOKEN</b></p><script>LEAK()</script></body></html>').toString('base64');
  const eml = `Subject: hi\nContent-Type: text/html; charset="utf-8"\nContent-Transfer-Encoding: base64\n\n${body.replace(/(.{60})/g, '$1\n')}\n`;
  const r = ok(await extractBytes(utf8(eml), ctx('eml')));
  assert.match(r.text, /Bonjour EMLHTMLTOKEN/);
  assert.doesNotMatch(r.text, /LEAK/);
});

test('output is truncated at maxTextBytes on a character boundary', async () => {
  const r = ok(await extractBytes(utf8('é'.repeat(100)), ctx('txt', { maxTextBytes: 51 })));
  assert.equal(r.text, 'é'.repeat(25));
});

test('a legacy 8-bit file whose last byte is accented is decoded as windows-1252, not as cut UTF-8', async () => {
  const { decodeText } = await import('../../../src/indexer/extract/decode.js');
  assert.deepEqual(decodeText(Buffer.from('caf\xe9', 'latin1'), 1024), { text: 'café', encoding: 'windows-1252' });
});

test('a UTF-8 file longer than the validated prefix stays UTF-8 when the prefix cuts a character, and a bad byte inside the prefix makes it windows-1252', async () => {
  const { decodeText, completeUtf8End } = await import('../../../src/indexer/extract/decode.js');
  const prefix = 4 * 1024 * 1024;
  for (const ch of ['é', '€', '𝄞']) {
    // The character starts 1 byte before the 4 MiB mark, so the prefix ends inside it.
    const bytes = Buffer.concat([Buffer.alloc(prefix - 1, 0x61), Buffer.from(ch), Buffer.from(' tail')]);
    assert.equal(decodeText(bytes, 64 * 1024 * 1024).encoding, 'utf-8', `cut ${ch}`);
    assert.equal(completeUtf8End(bytes, prefix), prefix - 1, `boundary before ${ch}`);
  }
  const ascii = Buffer.alloc(prefix + 10, 0x61);
  assert.equal(completeUtf8End(ascii, prefix), prefix);
  const bad = Buffer.concat([Buffer.from('caf'), Buffer.from([0xe9]), Buffer.alloc(prefix, 0x61)]);
  assert.equal(decodeText(bad, 64 * 1024 * 1024).encoding, 'windows-1252');
});
