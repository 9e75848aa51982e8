import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { openDatabase, type Db } from '../../../src/indexer/store/db.js';
import { migrate } from '../../../src/indexer/store/migrations.js';
import { DocumentStore } from '../../../src/indexer/store/documents.js';
import { DEFAULT_WEIGHTS, SearchEngine } from '../../../src/indexer/search/search.js';
import { parseQuery } from '../../../src/indexer/search/query.js';
import { documentLabels, labelPrefilter, nameMatch, STEM_MATCH } from '../../../src/indexer/search/name-match.js';
import { tmpDir } from '../../helpers/tmp.js';

interface Doc {
  text: string;
  title?: string;
}

/** A real index on disk with the given documents (file name → text and title). */
function index(docs: Record<string, Doc>) {
  const db: Db = openDatabase(path.join(tmpDir(), 'index.db'));
  migrate(db, undefined, { languages: ['en'] });
  const store = new DocumentStore(db, Date.now, { languages: ['en'] });
  const rootId = store.ensureRoot('/r');
  for (const [p, d] of Object.entries(docs)) {
    store.putIndexed({ path: `/r/${p}`, rootId, ext: path.extname(p).slice(1), size: d.text.length, mtimeMs: 1, fileId: null, hash: p, title: d.title ?? null, extractor: 'text', text: d.text, lang: 'en' });
  }
  const engine = new SearchEngine(db, store, { languages: ['en'] });
  const names = (q: string, page = { limit: 20, offset: 0 }) => engine.search(parseQuery(q), page).hits.map((h) => path.basename(h.path));
  return { engine, names };
}

const filler = (n: number): string => 'Some unrelated words about bread and jam. '.repeat(n);

describe('ranking: a document whose file name or title names the query comes first', () => {
  it('the file named for the query ranks above a file that mentions the word far more often', () => {
    const { engine, names } = index({
      'notes.txt': { text: 'pickle pickle pickle, we pickle everything; pickle is in every line. pickle again.' },
      'pickle.txt': { text: `The pickle module serializes objects. ${filler(20)}` },
      'other.txt': { text: filler(3) },
    });
    // Without the name signal BM25 prefers the repetition: what the test guards against.
    engine.setWeights({ ...DEFAULT_WEIGHTS, name: 0 });
    assert.equal(names('pickle')[0], 'notes.txt', 'precondition: BM25 alone ranks the repetitive file first');
    engine.setWeights(DEFAULT_WEIGHTS);
    assert.deepEqual(names('pickle'), ['pickle.txt', 'notes.txt']);
  });

  it('a title that is exactly the query ranks above pages that use both words often', () => {
    const { names } = index({
      'a.html': { title: '35.4. Server-Side Functions', text: 'create a table; create table here, create table there, table create table create. '.repeat(3) },
      'b.html': { title: 'CREATE TABLE', text: `CREATE TABLE defines a new table. ${filler(30)}` },
      'c.html': { title: 'CREATE TABLE AS', text: `CREATE TABLE AS defines a table from a query. ${filler(30)}` },
    });
    assert.deepEqual(names('create table'), ['b.html', 'c.html', 'a.html']);
  });

  it('one part of a title made of parts ("subject — site") is enough', () => {
    const { names } = index({
      'x1.html': { title: 'pickletools — Tools for pickle developers — Python docs', text: `pickle pickle pickle. ${filler(5)}` },
      'x2.html': { title: 'pickle — Python object serialization — Python docs', text: `pickle. ${filler(20)}` },
    });
    assert.deepEqual(names('pickle'), ['x2.html', 'x1.html']);
  });

  it('a name holding another form of the word counts too (found by the stem), the form as typed more', () => {
    const { names } = index({
      'notes.txt': { text: 'sort sort sorting sort sort the list, sort it again. sort.' },
      'sorting.txt': { text: `How to sort lists. ${filler(20)}` },
      'sort.txt': { text: `How to sort lists. ${filler(20)}` },
    });
    assert.deepEqual(names('sort'), ['sort.txt', 'sorting.txt', 'notes.txt']);
  });

  it('the exact form still comes first: a name with another form does not beat a text with the typed form', () => {
    const { names } = index({
      'configuration.txt': { text: 'The configuration lives in a file.' },
      'setup.txt': { text: `The server is configured by the installer. ${filler(20)}` },
    });
    assert.deepEqual(names('configured'), ['setup.txt', 'configuration.txt']);
  });

  it('pages of a boosted ranking follow each other without gaps or repeats', () => {
    const docs: Record<string, Doc> = {};
    // The files named "report" say it once; the others repeat it: only the name signal puts them first.
    for (let i = 0; i < 12; i++) {
      docs[`${i % 3 === 0 ? 'report' : `n${i}`}-${i}.txt`] = { text: i % 3 === 0 ? `report. ${filler(i + 1)}` : `${'report '.repeat(i + 2)} ${filler(1)}` };
    }
    const { names } = index(docs);
    const all = names('report', { limit: 100, offset: 0 });
    const paged = [0, 4, 8].flatMap((offset) => names('report', { limit: 4, offset }));
    assert.equal(all.length, 12);
    assert.deepEqual(paged, all);
    assert.deepEqual(all.slice(0, 4).map((n) => n.startsWith('report-')), [true, true, true, true]);
  });

  it('weights must be finite numbers ≥ 0 (they are written into the SQL)', () => {
    const { engine } = index({ 'a.txt': { text: 'x' } });
    assert.throws(() => engine.setWeights({ ...DEFAULT_WEIGHTS, name: Number.NaN }), /rank weight name must be a finite number/);
    assert.throws(() => engine.setWeights({ ...DEFAULT_WEIGHTS, title: -1 }), /rank weight title/);
  });
});

describe('nameMatch: how well a file name or title names the query', () => {
  const q = (input: string) => ({ terms: parseQuery(input).highlight, languages: ['en'] });

  it('labels are the file name without its extension, the title and the title parts', () => {
    assert.deepEqual(documentLabels('/d/http.server.html', 'http.server — HTTP servers — Python'), [
      ['http', 'server'],
      ['http', 'server', 'http', 'servers', 'python'],
      ['http', 'server'],
      ['http', 'servers'],
      ['python'],
    ]);
    assert.deepEqual(documentLabels('C:\\Docs\\Résumé.DOCX', null), [['resume']]);
    assert.deepEqual(documentLabels('/d/.bashrc', null), [['bashrc']]);
  });

  it('1 for a name that is exactly the query; coverage × precision otherwise', () => {
    assert.equal(nameMatch(q('pickle'), '/d/pickle.html', null), 1);
    assert.equal(nameMatch(q('pickle'), '/d/0143-pickle.odt', null), 0.5);
    assert.equal(nameMatch(q('http server'), '/d/http.server.html', null), 1);
    assert.equal(nameMatch(q('http client'), '/d/http.server.html', null), 0.25);
    assert.equal(nameMatch(q('pickle'), '/d/pickletools.html', 'Tools for developers'), 0);
    assert.equal(nameMatch(q('-pickle tools'), '/d/pickle.html', null), 0, 'negated words are not looked for');
  });

  it('another form of the word counts STEM_MATCH; =word, prefixes and phrases as written', () => {
    assert.equal(nameMatch(q('sorting'), '/d/sort.txt', null), STEM_MATCH * STEM_MATCH);
    assert.equal(nameMatch(q('=sorting'), '/d/sort.txt', null), 0);
    assert.equal(nameMatch(q('subproc*'), '/d/subprocess.html', null), 1);
    assert.equal(nameMatch(q('"write ahead"'), '/d/x.html', 'Write-Ahead Logging'), 2 / 3);
    assert.equal(nameMatch(q('"ahead write"'), '/d/x.html', 'Write-Ahead Logging'), 0);
  });

  it('the prefilter finds every name a term can match: as typed, prefixes, phrases, and forms by the stem', () => {
    assert.equal(labelPrefilter(parseQuery('=pickle subproc* "foreign key"').highlight), '{title} : ("pickle" OR "subproc"* OR "foreign key")');
    // libraries → stem librari; "library" does not start with it, "librar" does.
    assert.equal(labelPrefilter(parseQuery('libraries').highlight), '{title} : ("libraries" OR "librar"*)');
    assert.equal(labelPrefilter(parseQuery('ext:pdf').highlight), null);
  });

  it('a title holding another form the stem prefix must reach ranks first (libraries → Library)', () => {
    const { names } = index({
      'notes.txt': { text: 'libraries libraries and more libraries, libraries everywhere.' },
      'ref.html': { title: 'Library', text: `The library reference; libraries are listed. ${filler(20)}` },
    });
    assert.deepEqual(names('libraries'), ['ref.html', 'notes.txt']);
  });
});
