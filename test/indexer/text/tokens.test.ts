import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import { WORD, WORD_ASCII, WORD_DIGIT, forEachWord, forEachWordSpan, fold, words } from '../../../src/indexer/text/tokens.js';
import { LANGUAGE_CODES, SHORT_WORDS_ARE_STEMS, clearStemCaches, stemWord, stemsText } from '../../../src/indexer/text/stem.js';
import { SpanMemo } from '../../../src/indexer/text/span-memo.js';
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

test('forEachWordSpan reports the same words as forEachWord, with ASCII and digit flags', () => {
  const alphabet = ['a', 'Z', '7', '0', ' ', '-', '\u0301', 'é', 'ß', '中', '😀', '𝔘', '\uD800', '\uDC00', '.', '\n', 'Ж', '٣'];
  let seed = 11;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let i = 0; i < 500; i++) {
    let s = '';
    for (let j = Math.floor(rnd() * 40); j > 0; j--) s += alphabet[Math.floor(rnd() * alphabet.length)];
    const spans: Array<[string, number]> = [];
    forEachWordSpan(s, (start, end, flags) => spans.push([s.slice(start, end), flags]));
    assert.deepEqual(spans.map(([w]) => w), scanned(s), JSON.stringify(s));
    for (const [w, flags] of spans) {
      const expected = (/^[\x00-\x7f]*$/.test(w) ? WORD_ASCII : 0) | (/[0-9]/.test(w) ? WORD_DIGIT : 0);
      assert.equal(flags, expected, `${JSON.stringify(w)} in ${JSON.stringify(s)}`);
    }
  }
});

test('every ASCII word of one or two letters is its own stem in the languages that skip them', () => {
  const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
  assert.ok(SHORT_WORDS_ARE_STEMS.has('en'));
  for (const lang of SHORT_WORDS_ARE_STEMS) {
    for (const a of letters) {
      assert.equal(stemWord(a, lang), fold(a), `${lang}: ${a}`);
      for (const b of letters) assert.equal(stemWord(a + b, lang), fold(a + b), `${lang}: ${a + b}`);
    }
  }
});

test('the stems column equals the word-by-word definition in every language, skipped words included', () => {
  const text =
    'Running runners ran: a 2nd go, x86_64 builds in 3 days; IS it OK? Häuser über Straßen, les maisons été. ' +
    'Бегущие люди бегали быстро. Ein Ärztehaus und zwei Ärzte. 42 ab CD ef7 Ça va. Configurations configured.';
  for (const lang of LANGUAGE_CODES) {
    clearStemCaches();
    const expected: string[] = [];
    for (const w of words(text)) {
      const s = stemWord(w, lang);
      if (s !== '' && s !== fold(w)) expected.push(s);
    }
    assert.equal(stemsText(text, lang), expected.join(' '), lang);
    assert.equal(stemsText(text.repeat(3), lang), [expected.join(' '), expected.join(' '), expected.join(' ')].join(' ').trim(), `${lang}, memoised`);
  }
});

test('the span memo: a hit returns the stored value without recomputing; full, it starts over', () => {
  const memo = new SpanMemo(100);
  let made = 0;
  const make = (w: string) => {
    made++;
    return w.toUpperCase();
  };
  const text = 'alpha beta alpha gamma';
  assert.equal(memo.get(text, 0, 5, make), 'ALPHA');
  assert.equal(memo.get(text, 6, 10, make), 'BETA');
  assert.equal(memo.get(text, 11, 16, make), 'ALPHA');
  assert.equal(made, 2, 'the second "alpha" was a hit');
  assert.equal(memo.get('xalphax', 1, 6, make), 'ALPHA', 'found from a span of another text');
  assert.equal(made, 2);
  // Many distinct words (and so colliding slots): each still maps to its own value.
  const many = Array.from({ length: 1000 }, (_, i) => `w${i.toString(36)}`).join(' ');
  let at = 0;
  for (const w of many.split(' ')) {
    assert.equal(memo.get(many, at, at + w.length, make), w.toUpperCase());
    assert.ok(memo.size <= 100);
    at += w.length + 1;
  }
  memo.clear();
  assert.equal(memo.size, 0);
  made = 0;
  assert.equal(memo.get(text, 6, 10, make), 'BETA');
  assert.equal(made, 1, 'cleared: computed again');
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

test('the stemming memos keep no document text alive (a word cut from a text was a view into all of it)', () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  clearStemCaches();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let d = 0; d < 60; d++) {
    // One megabyte each, with long words of its own (13+ characters: V8 slices those as views).
    const own = String.fromCharCode(97 + (d % 26), 97 + Math.floor(d / 26));
    const text = 'the quick brown fox jumps over the lazy dog '.repeat(23_000) + ` internationalizations${own} extraordinarily${own}`;
    assert.notEqual(stemsText(text, 'en'), '');
  }
  gc();
  const grown = (process.memoryUsage().heapUsed - before) / (1024 * 1024);
  // Kept alive, the 60 texts would be 60 MB; the memo entries themselves are a few hundred bytes.
  assert.ok(grown < 20, `heap grew by ${grown.toFixed(1)} MB`);
  clearStemCaches();
});
