import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WORD, forEachWord, words } from '../../../src/indexer/text/tokens.js';
import { clearStemCaches, stemsText } from '../../../src/indexer/text/stem.js';
import { detectLanguage } from '../../../src/indexer/text/language.js';

function scanned(text: string): string[] {
  const out: string[] = [];
  forEachWord(text, (w) => out.push(w));
  return out;
}

test('forEachWord finds exactly the words the WORD pattern (the FTS tokenizer) finds', () => {
  const samples = [
    '',
    'plain ascii words, with punctuation; and-dashes_and_underscores 42 x86_64',
    'Häuser über Straße naïve café résumé',
    'e\u0301te\u0301 (combining acute) and \u0301leading mark',
    'Ελληνικά русский 中文字符 日本語 한국어 العربية עברית',
    'emoji 😀 between𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math letters and \uE000private\uE001 use',
    'lone surrogates \uD800 here \uDC00 there𝔘\uD835',
    '١٢٣ ٤٥ Arabic-Indic digits, ½ ² Ⅻ',
    'trailing word',
  ];
  for (const s of samples) assert.deepEqual(scanned(s), [...s.matchAll(WORD)].map((m) => m[0]), JSON.stringify(s));
  // Random strings over a mixed alphabet (letters, marks, digits, separators, astral characters).
  const alphabet = ['a', 'Z', '7', ' ', '-', '\u0301', 'é', 'ß', '中', '😀', '𝔘', '\uD800', '\uDC00', '\uE000', '.', '\n', 'Ж', '٣'];
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let i = 0; i < 500; i++) {
    let s = '';
    for (let j = Math.floor(rnd() * 40); j > 0; j--) s += alphabet[Math.floor(rnd() * alphabet.length)];
    assert.deepEqual(scanned(s), [...words(s)], JSON.stringify(s));
  }
});

test('the stems column is the same on a repeat (memoised) and after the memos are dropped', () => {
  const text = 'Running runners ran; the RUNNING Configuration configured configures. Häuser';
  const first = stemsText(text, 'en');
  // "ran" and "the" are their own stems; "RUNNING" is written differently from "running" but has the same stem.
  assert.equal(first, 'run runner run configur configur configur');
  assert.equal(stemsText(text, 'en'), first);
  clearStemCaches();
  assert.equal(stemsText(text, 'en'), first);
  assert.equal(stemsText('Häusern', 'de'), 'haus', 'each language has its own memo');
  assert.equal(stemsText('Häusern', 'en'), stemsText('Häusern', 'en'));
});

test('language detection counts letters without needing them all: a short text falls back, a long one is detected', () => {
  assert.equal(detectLanguage('1234 5678 ---- ab', null, { preferred: ['fr'] }), 'fr');
  const de = 'Die Häuser stehen am Ufer des Flusses, und die Kinder spielen jeden Tag im Garten hinter der Schule. '.repeat(5);
  assert.equal(detectLanguage(de, null, { preferred: ['en', 'de'] }), 'de');
});
