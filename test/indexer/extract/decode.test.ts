import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeText } from '../../../src/indexer/extract/decode.js';
import { utf16leText } from '../../../src/indexer/extract/pdf.js';

/**
 * The fast decoders (Buffer's UTF-8 and UCS-2 decoding) must give exactly the strings TextDecoder
 * gave before them: the extracted text of every document stays the same.
 */

const SAMPLES = [
  'plain ascii',
  'Grüße aus Köln — “quoted” – naïve café',
  'emoji 😀 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢, 中文, العربية, русский',
  '\uFEFFa BOM-like character kept inside the text',
  '',
];

test('valid UTF-8 decodes to the same string as TextDecoder gives', () => {
  for (const s of SAMPLES) {
    const bytes = new TextEncoder().encode(s);
    const expected = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes).replace(/\u0000/g, '');
    assert.equal(decodeText(bytes, 1 << 20).text, s.startsWith('\uFEFF') ? s.slice(1) : expected, JSON.stringify(s));
  }
});

test('a file cut by the text budget is decoded without a replacement character at the cut', () => {
  const bytes = new TextEncoder().encode('ab€'.repeat(100)); // € is three bytes
  const { text, encoding } = decodeText(bytes, 10);
  assert.equal(encoding, 'utf-8');
  assert.ok(!text.includes('\uFFFD'), JSON.stringify(text));
  assert.ok('ab€'.repeat(100).startsWith(text));
});

test('UTF-16LE from the PDF engine: same string as TextDecoder, lone surrogates become U+FFFD', () => {
  const units = [0x48, 0x69, 0xd83d, 0xde00, 0x20, 0xd800, 0x41, 0xdc00, 0x42, 0xd83d];
  const bytes = new Uint8Array(4 + units.length * 2);
  units.forEach((u, i) => {
    bytes[4 + i * 2] = u & 0xff;
    bytes[5 + i * 2] = u >> 8;
  });
  const expected = new TextDecoder('utf-16le').decode(bytes.subarray(4));
  assert.equal(utf16leText(bytes, 4, units.length * 2), expected);
  assert.equal(expected, 'Hi😀 \uFFFDA\uFFFDB\uFFFD');
  const plain = new Uint8Array(Buffer.from('plain text ü', 'utf16le'));
  assert.equal(utf16leText(plain, 0, plain.length), 'plain text ü');
});
