import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { PASSAGE_CHARS, packPassage, splitPassages, unpackPassage, verifiedPassages } from '../../../src/indexer/store/passages.js';

/** What an extraction worker sends with a document's text: untrusted, since workers parse hostile files. */
const packed = (text: string) => splitPassages(text).map(packPassage);
// No two passages alike (a periodic text would read the same in any passage order).
const text = Array.from({ length: 20_000 }, (_, i) => `word${i}`).join(' ');

test('passages that are exactly the text are kept', () => {
  const p = packed(text);
  assert.ok(p.length > 1);
  assert.deepEqual(verifiedPassages(text, p), p);
  assert.deepEqual(verifiedPassages('', []), []);
});

test('passages that are not the text are refused: another text, one missing, reordered, or extra', () => {
  const p = packed(text);
  assert.equal(verifiedPassages(text.replace('word1', 'evil1'), p), null);
  assert.equal(verifiedPassages(text, p.slice(1)), null);
  assert.equal(verifiedPassages(text, [...p].reverse()), null);
  assert.equal(verifiedPassages(text, [...p, packPassage('more')]), null);
});

test('a decompression bomb is refused without inflating it, and unpacking one throws', () => {
  const bomb = Buffer.concat([Buffer.from([0xff]), zlib.brotliCompressSync(Buffer.alloc(64 * 1024 * 1024, 0x61))]);
  assert.ok(bomb.length < 64 * 1024, 'a few KB that would inflate to 64 MB');
  assert.equal(verifiedPassages('a'.repeat(64 * 1024 * 1024), [bomb]), null);
  assert.throws(() => unpackPassage(bomb), /Cannot create a Buffer larger|ERR_BUFFER_TOO_LARGE|too large/i);
});

test('more passages than the text could be split into are refused (empty ones included)', () => {
  const empty = packPassage('');
  assert.equal(verifiedPassages('ab', [packPassage('a'), empty, packPassage('b')]), null);
  const many = Array.from({ length: 5 }, () => packPassage('x'));
  assert.equal(verifiedPassages('xxxxx', many), null, `at most ${Math.ceil(5 / (PASSAGE_CHARS / 2)) + 1} for 5 characters`);
});

test('anything but the store format is refused', () => {
  assert.equal(verifiedPassages('abc', [zlib.deflateRawSync(Buffer.from('abc'))]), null);
  assert.equal(verifiedPassages('abc', [Buffer.from([0xff, 1, 2, 3])]), null);
});
