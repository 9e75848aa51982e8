import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeSnippet, fold } from '../../../src/indexer/search/snippet.js';
import { computeFoldVariants, FOLD_VARIANTS, variantsOf } from '../../../src/indexer/search/fold-variants.js';

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
  inflated = 0;
  makeSnippet(passages(), [t('absent')]);
  assert.equal(inflated, 4, 'by default at most 4 passages (128 K characters) are read');
});

test('with no match in the passages read, shows the beginning of the document', () => {
  assert.equal(makeSnippet(['short text'], [t('zzz')]), 'short text');
  assert.equal(makeSnippet([], [t('zzz')]), '');
});

test('a snippet is about 240 characters, with dot leaders and whitespace runs collapsed (issue #10)', () => {
  const toc = Array.from({ length: 60 }, (_, i) => `Chapter ${i} ${'.'.repeat(80)} ${i * 3}\n\n\n`).join('');
  const s = makeSnippet([`${toc} the needle is here ${'and more words '.repeat(100)}`], [t('needle')]);
  const text = s.replace(/<\/?mark>/g, '');
  assert.ok(text.length <= 260, `snippet of ${text.length} characters: ${text}`);
  assert.match(s, /<mark>needle<\/mark>/);
  assert.doesNotMatch(text, /\.{4,}|\s{2,}/, 'no leader or whitespace runs');
  const leaders = makeSnippet([`Intro ${'. '.repeat(300)} 12 needle`], [t('needle')]);
  assert.doesNotMatch(leaders.replace(/<\/?mark>/g, ''), /(\. ){3,}/);
});

test('a phrase is marked where its words follow each other, not where they stand alone', () => {
  const passage = 'GNU Lesser General Public License applies here. Elsewhere: the GNU General Public License, version 3.';
  const s = makeSnippet([passage], [{ text: 'gnu general public license', prefix: false, phrase: ['gnu', 'general', 'public', 'license'] }]);
  assert.match(s, /<mark>GNU<\/mark> <mark>General<\/mark> <mark>Public<\/mark> <mark>License<\/mark>, version 3/);
  assert.doesNotMatch(s, /<mark>GNU<\/mark> Lesser/);
  assert.doesNotMatch(s, /Lesser <mark>General/);
});

test('other forms of a word are marked through its stems', () => {
  const s = makeSnippet(['They configured it; configuration done; configure later.'], [{ text: 'configuring', prefix: false, stems: ['configur'] }], { languages: ['en'] });
  assert.equal((s.match(/<mark>/g) ?? []).length, 3, s);
});

test('work stops a set number of passages after the first one with a match, when no window holds every term', () => {
  let inflated = 0;
  function* passages() {
    for (let i = 0; i < 1000; i++) {
      inflated++;
      yield i === 2 ? 'only alpha here' : 'hay '.repeat(100);
    }
  }
  const s = makeSnippet(passages(), [t('alpha'), t('omega')], { maxPassages: 16, afterFound: 1 });
  assert.match(s, /<mark>alpha<\/mark>/);
  assert.equal(inflated, 4, 'the passage with a match and one more');
});

test('a word that merely contains a term is not marked; a term inside punctuation is', () => {
  const s = makeSnippet(['rerun the runner, then (run) again'], [t('run')]);
  assert.equal((s.match(/<mark>/g) ?? []).length, 1, s);
  assert.match(s, /\(<mark>run<\/mark>\)/);
});

test('accents written as combining marks and capitals with diacritics are found and marked whole', () => {
  assert.match(makeSnippet(['Un cafe\u0301 noir'], [t('cafe')]), /<mark>cafe\u0301<\/mark> noir/);
  assert.match(makeSnippet(['L’ÉCOLE des fans'], [t('ecole')]), /<mark>ÉCOLE<\/mark>/);
  assert.match(makeSnippet(['Straße'], [t('straße')]), /<mark>Straße<\/mark>/);
});

test('every form of a stemmed word is marked, whatever its case, in a long passage', () => {
  const filler = 'nothing to see here. '.repeat(200);
  const s = makeSnippet([`${filler} Configured, CONFIGURATION and configuring. ${filler}`], [{ text: 'configure', prefix: false, stems: ['configur'] }], { languages: ['en'] });
  assert.match(s, /<mark>Configured<\/mark>, <mark>CONFIGURATION<\/mark> and <mark>configuring<\/mark>/);
});

test('a phrase next to another word of the query: both marked, the phrase only where whole', () => {
  const s = makeSnippet(['the regular season; a regular expression matches text'], [{ text: 'regular expression', prefix: false, phrase: ['regular', 'expression'] }, t('text')]);
  assert.match(s, /a <mark>regular<\/mark> <mark>expression<\/mark> matches <mark>text<\/mark>/);
  assert.doesNotMatch(s, /<mark>regular<\/mark> season/);
});

test('words outside the Basic Multilingual Plane and other scripts do not confuse word boundaries', () => {
  assert.match(makeSnippet(['𝒳𝒴 données 😀 Поиск работает'], [t('поиск')]), /<mark>Поиск<\/mark> работает/);
  assert.match(makeSnippet(['😀naïve😀'], [t('naive')]), /<mark>naïve<\/mark>/);
});

test('a passage full of a common word: the first window is shown with every occurrence in it marked', () => {
  const passage = 'the function returns a function that calls another function. '.repeat(5000);
  const s = makeSnippet([passage], [t('function')]);
  assert.ok(s.startsWith('the <mark>function</mark> returns a <mark>function</mark> that calls another <mark>function</mark>.'), s);
  const marked = (s.match(/<mark>/g) ?? []).length;
  const words = s.replace(/<\/?mark>/g, '').split(/\s+/).filter((w) => /^function/.test(w)).length;
  assert.equal(marked, words, 'every occurrence shown is marked');
});

test('the fold-variants table is what folding every character of its range gives (it is written out so that a cold search does not compute it)', () => {
  const computed = computeFoldVariants();
  const table = new Map(Object.entries(FOLD_VARIANTS).map(([k, v]) => [k, [...v]]));
  for (const [k, v] of computed) assert.deepEqual(table.get(k), v, `variants of ${JSON.stringify(k)}: regenerate FOLD_VARIANTS from computeFoldVariants()`);
  assert.equal(table.size, computed.size, 'FOLD_VARIANTS has keys folding no longer gives');
  assert.deepEqual(variantsOf('e').slice(0, 5), ['E', 'È', 'É', 'Ê', 'Ë']);
  assert.deepEqual(variantsOf('?'), []);
});
