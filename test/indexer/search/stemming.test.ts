import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { openDatabase, type Db } from '../../../src/indexer/store/db.js';
import { migrate } from '../../../src/indexer/store/migrations.js';
import { DocumentStore } from '../../../src/indexer/store/documents.js';
import { SearchEngine } from '../../../src/indexer/search/search.js';
import { parseQuery } from '../../../src/indexer/search/query.js';
import { detectLanguage } from '../../../src/indexer/text/language.js';
import { LANGUAGES, LANGUAGE_CODES, stemWord, stemsText } from '../../../src/indexer/text/stem.js';
import { tmpDir } from '../../helpers/tmp.js';

/** A real index on disk with the given documents (path → text), stemmed in `languages`. */
function index(docs: Record<string, string>, languages: readonly string[] = ['en'], titles: Record<string, string> = {}) {
  const db: Db = openDatabase(path.join(tmpDir(), 'index.db'));
  migrate(db, undefined, { languages });
  const store = new DocumentStore(db, Date.now, { languages });
  const rootId = store.ensureRoot('/r');
  for (const [p, text] of Object.entries(docs)) {
    const lang = detectLanguage(text, null, { preferred: languages });
    store.putIndexed({ path: `/r/${p}`, rootId, ext: 'txt', size: text.length, mtimeMs: 1, fileId: null, hash: p, title: titles[p] ?? null, extractor: 'text', text, lang });
  }
  const engine = new SearchEngine(db, store, { languages });
  const search = (q: string, limit = 20) => engine.search(parseQuery(q, { languages }), { limit, offset: 0 }, q);
  const names = (q: string) => search(q).hits.map((h) => path.basename(h.path));
  return { db, store, engine, search, names };
}

const FORMS = {
  'configure.txt': 'How to configure the server before the first start.',
  'configured.txt': 'The server is configured by the installer, nothing else to do.',
  'configuration.txt': 'The configuration lives in a file next to the data folder.',
  'configuring.txt': 'Configuring a proxy takes a minute or two.',
  'other.txt': 'Nothing related lives here: bread, butter and jam.',
};

test('every form of a stem matches, whichever form is typed', () => {
  const { names } = index(FORMS);
  const all = ['configuration.txt', 'configure.txt', 'configured.txt', 'configuring.txt'];
  for (const q of ['configure', 'configured', 'configuration', 'configuring', 'CONFIGURED']) {
    assert.deepEqual(names(q).sort(), all, `query ${q}`);
  }
});

test('documents holding the exact form rank above those with other forms only', () => {
  const { names } = index({
    ...FORMS,
    // Many hits of another form must not outrank one hit of the typed form.
    'many.txt': 'configuration '.repeat(50) + 'configurations configure configuring',
  });
  assert.equal(names('configured')[0], 'configured.txt');
  assert.equal(names('configuring')[0], 'configuring.txt');
  const r = names('configure');
  assert.ok(r.indexOf('configure.txt') < r.indexOf('configured.txt') && r.indexOf('many.txt') < r.indexOf('configured.txt'), r.join(' '));
});

test('phrases match the exact forms only', () => {
  const { names } = index({
    'a.txt': 'the server was configured by hand',
    'b.txt': 'the server configuration was by hand',
    'c.txt': 'servers configure things',
  });
  assert.deepEqual(names('"server was configured"'), ['a.txt']);
  assert.deepEqual(names('"server configured"'), []);
  assert.deepEqual(names('"configured"'), ['a.txt'], 'a one-word phrase is exact too');
});

test('=word matches that form only; a negated word leaves out every form', () => {
  const { names } = index(FORMS);
  assert.deepEqual(names('=configured'), ['configured.txt']);
  assert.deepEqual(names('=Configuring server'), [], 'both words must match');
  assert.deepEqual(names('=configuring proxy'), ['configuring.txt']);
  assert.deepEqual(names('server -configuration').sort(), [], 'every server document has some form of configure');
  assert.deepEqual(names('server -=configuration').sort(), ['configure.txt', 'configured.txt']);
});

test('"=" alone or before a prefix is a clear query error', () => {
  assert.throws(() => parseQuery('= word'), /"=" must be followed directly by the word/);
  assert.throws(() => parseQuery('=conf*'), /"=" and "\*" contradict/);
});

test('prefix queries match the words as written', () => {
  const { names } = index(FORMS);
  assert.deepEqual(names('configur*').sort(), ['configuration.txt', 'configure.txt', 'configured.txt', 'configuring.txt']);
});

test('snippets mark every matched form of the word', () => {
  const { search } = index({ 'a.txt': 'We configured it; the configuration says configure it again.' });
  const snippet = search('configuring').hits[0]!.snippet;
  assert.match(snippet, /<mark>configured<\/mark>.*<mark>configuration<\/mark>.*<mark>configure<\/mark>/);
});

test('a German and a French document are stemmed in their own language', () => {
  const de = 'Die Häuser stehen am Fluss. In den Häusern wohnen viele Familien mit ihren Kindern, und jedes Haus hat einen Garten.';
  const fr = 'Les universités françaises accueillent des étudiants du monde entier, et chaque université propose des cours de langue.';
  assert.equal(detectLanguage(de, null, { preferred: ['en', 'de', 'fr'] }), 'de');
  assert.equal(detectLanguage(fr, null, { preferred: ['en', 'de', 'fr'] }), 'fr');
  assert.equal(stemWord('Häusern', 'de'), 'haus');
  assert.equal(stemWord('universités', 'fr'), 'univers');
  const { names, db } = index({ 'de.txt': de, 'fr.txt': fr, 'en.txt': 'The house by the river has a garden for the world.' }, ['en', 'de', 'fr']);
  const langs = db.prepare('SELECT path, lang FROM documents ORDER BY path').all() as { path: string; lang: string }[];
  assert.deepEqual(langs.map((l) => [path.basename(l.path), l.lang]), [['de.txt', 'de'], ['en.txt', 'en'], ['fr.txt', 'fr']]);
  assert.deepEqual(names('Haus'), ['de.txt'], 'German stems: Häuser, Häusern, Haus');
  assert.deepEqual(names('Häusern'), ['de.txt']);
  assert.deepEqual(names('université'), ['fr.txt'], 'French stems: universités, université');
  // German stems are not made for the English document, and English ones not for the German.
  assert.deepEqual(names('=houses'), []);
});

test('a document in a language that is not configured is found by its words as written only', () => {
  const de = 'Die Häuser stehen am Fluss. In den Häusern wohnen viele Familien mit ihren Kindern, und jedes Haus hat einen Garten.';
  const { names } = index({ 'de.txt': de });
  assert.deepEqual(names('Häusern'), ['de.txt']);
  assert.deepEqual(names('Häuserchen'), []);
});

test('the declared language wins over detection; short texts fall back to the first configured language', () => {
  assert.equal(detectLanguage('The quick brown fox jumps over the lazy dog again and again, every single day of the week.', 'de-AT', { preferred: ['en'] }), 'de');
  assert.equal(detectLanguage('ok', null, { preferred: ['fr', 'en'] }), 'fr');
  assert.equal(detectLanguage('ok', 'xx-YY', { preferred: ['en'] }), 'en', 'an unknown declared language is ignored');
});

test('a word that is its own stem adds nothing to the stems column', () => {
  assert.equal(stemsText('run runs running ran', 'en'), 'run run');
  assert.equal(stemsText('anything', null), '');
  assert.deepEqual([...LANGUAGE_CODES].sort(), Object.keys(LANGUAGES).sort(), 'the config list and the stemmers agree');
});

test('a typo gets a "did you mean" from the index vocabulary, most frequent close word first', () => {
  const { search } = index({
    'a.txt': 'configuration of the service',
    'b.txt': 'configuration files and the configuration folder',
    'c.txt': 'the confirmation dialog',
    'd.txt': 'configuration again',
  });
  const r = search('confguration ext:txt');
  assert.equal(r.total, 0);
  assert.deepEqual(r.suggestion, { query: 'configuration ext:txt', words: [{ from: 'confguration', to: 'configuration' }] });
  assert.equal(search('configuration').suggestion, undefined, 'no suggestion when the query finds enough');
  assert.equal(search('zzzzzzzz').suggestion, undefined, 'no suggestion when nothing is close');
});

test('the detector and the stemmers name the same languages', async () => {
  const { DETECTABLE_ISO3 } = await import('../../../src/indexer/text/language-codes.js');
  const fromStemmers = Object.fromEntries(Object.entries(LANGUAGES).flatMap(([code, info]) => (info.iso3 ? [[info.iso3, code]] : [])));
  assert.deepEqual(DETECTABLE_ISO3, fromStemmers);
});
