import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeSnippet, fold } from '../../../src/indexer/search/snippet.js';

const t = (text: string, prefix = false) => ({ text, prefix });

test('marks every matched word and escapes the document text', () => {
  const s = makeSnippet(['The <b>quick</b> brown fox & the lazy dog'], [t('quick'), t('dog')]);
  assert.equal(s, 'The &lt;b&gt;<mark>quick</mark>&lt;/b&gt; brown fox &amp; the lazy <mark>dog</mark>');
});

test('matching folds case and diacritics the way the FTS tokenizer does', () => {
  assert.equal(fold('Café'), 'cafe');
  assert.match(makeSnippet(['Un CAFÉ noir'], [t('cafe')]), /<mark>CAFÉ<\/mark>/);
});

test('prefix terms mark words that start with them', () => {
  assert.match(makeSnippet(['searching and searched'], [t('search', true)]), /<mark>searching<\/mark> and <mark>searched<\/mark>/);
});

test('picks the window holding the most distinct terms, with ellipses when cut', () => {
  const filler = 'lorem ipsum dolor sit amet '.repeat(40);
  const s = makeSnippet([`alpha ${filler} alpha beta gamma ${filler}`], [t('alpha'), t('beta'), t('gamma')]);
  assert.match(s, /^….*<mark>alpha<\/mark> <mark>beta<\/mark> <mark>gamma<\/mark>.*…$/);
});

test('looks into later passages but stops after maxPassages (bounded work)', () => {
  let inflated = 0;
  function* passages() {
    for (let i = 0; i < 1000; i++) {
      inflated++;
      yield i === 3 ? 'here is the needle' : 'hay '.repeat(100);
    }
  }
  assert.match(makeSnippet(passages(), [t('needle')]), /<mark>needle<\/mark>/);
  assert.equal(inflated, 4, 'stops at the passage that holds every term');
  inflated = 0;
  makeSnippet(passages(), [t('absent')], { maxPassages: 16 });
  assert.equal(inflated, 16);
});

test('with no match in the passages read, shows the beginning of the document', () => {
  assert.equal(makeSnippet(['short text'], [t('zzz')]), 'short text');
  assert.equal(makeSnippet([], [t('zzz')]), '');
});
