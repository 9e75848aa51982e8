/**
 * The judged query set of `npm run bench:relevance`, over the small generated corpus
 * (`../shared/corpus/make-corpus.sh --small`: Python 3.11, PostgreSQL 15 and LaTeX package docs).
 *
 * Each query lists the documents a person asking it wants, as corpus-relative keys without the
 * extension; a result counts when its path, with Python's `_sources/` copy folded onto the page and
 * the extension removed (`.html`, `.rst.txt`, `.pdf`), equals a key. Judged by hand from the
 * documentation's own structure (the page whose subject the query names). Binary relevance.
 * `recoll` is the same query in Recoll's language where it differs.
 */
export type QueryKind = 'exact' | 'stemmed' | 'phrase' | 'prefix' | 'rare' | 'common' | 'multi' | 'filter';

export interface JudgedQuery {
  id: string;
  kind: QueryKind;
  q: string;
  recoll?: string;
  relevant: string[];
}

const PY = 'python3.11/html/library/';
const HOWTO = 'python3.11/html/howto/';
const PG = 'postgresql-doc-15/html/';
const TEX = 'texlive-doc/latex/';

export const JUDGED: readonly JudgedQuery[] = [
  // exact words
  { id: 'itertools', kind: 'exact', q: 'itertools', relevant: [`${PY}itertools`] },
  { id: 'asyncio', kind: 'exact', q: 'asyncio', relevant: [`${PY}asyncio`] },
  { id: 'pickle', kind: 'exact', q: 'pickle', relevant: [`${PY}pickle`] },
  { id: 'vacuum', kind: 'exact', q: 'VACUUM', relevant: [`${PG}sql-vacuum`, `${PG}routine-vacuuming`] },
  { id: 'microtype', kind: 'exact', q: 'microtype', relevant: [`${TEX}microtype/microtype`] },
  { id: 'tarfile', kind: 'exact', q: 'tarfile', relevant: [`${PY}tarfile`] },
  // other forms than the documents use
  { id: 'configuring-logging', kind: 'stemmed', q: 'configuring logging', relevant: [`${PY}logging.config`, `${HOWTO}logging`] },
  { id: 'sorting', kind: 'stemmed', q: 'sorting', relevant: [`${HOWTO}sorting`] },
  { id: 'triggers', kind: 'stemmed', q: 'triggers', relevant: [`${PG}plpgsql-trigger`, `${PG}sql-createtrigger`, `${PG}trigger-definition`] },
  { id: 'indexes', kind: 'stemmed', q: 'creating indexes', relevant: [`${PG}indexes`, `${PG}sql-createindex`] },
  { id: 'replicating', kind: 'stemmed', q: 'replicating', relevant: [`${PG}high-availability`, `${PG}logical-replication`] },
  { id: 'compressing-archives', kind: 'stemmed', q: 'compressed archives', relevant: [`${PY}zipfile`, `${PY}tarfile`] },
  { id: 'threads', kind: 'stemmed', q: 'threads', relevant: [`${PY}threading`] },
  { id: 'dumping', kind: 'stemmed', q: 'dumping databases', relevant: [`${PG}app-pgdump`, `${PG}backup-dump`] },
  // phrases
  { id: 'regular-expression', kind: 'phrase', q: '"regular expression"', relevant: [`${PY}re`, `${HOWTO}regex`] },
  { id: 'write-ahead-log', kind: 'phrase', q: '"write-ahead log"', recoll: '"write ahead log"', relevant: [`${PG}wal-intro`, `${PG}wal-configuration`] },
  { id: 'context-manager', kind: 'phrase', q: '"context manager"', relevant: [`${PY}contextlib`] },
  { id: 'foreign-key', kind: 'phrase', q: '"foreign key"', relevant: [`${PG}ddl-constraints`] },
  { id: 'full-text-search', kind: 'phrase', q: '"full text search"', relevant: [`${PG}textsearch-intro`, `${PG}textsearch`] },
  // prefixes
  { id: 'datetim', kind: 'prefix', q: 'datetim*', relevant: [`${PY}datetime`] },
  { id: 'subproc', kind: 'prefix', q: 'subproc*', relevant: [`${PY}subprocess`] },
  { id: 'tempfil', kind: 'prefix', q: 'tempfil*', relevant: [`${PY}tempfile`] },
  { id: 'argpars', kind: 'prefix', q: 'argpars*', relevant: [`${PY}argparse`, `${HOWTO}argparse`] },
  { id: 'pathli', kind: 'prefix', q: 'pathli*', relevant: [`${PY}pathlib`] },
  // rare terms
  { id: 'bisect', kind: 'rare', q: 'bisect', relevant: [`${PY}bisect`] },
  { id: 'heapq', kind: 'rare', q: 'heapq', relevant: [`${PY}heapq`] },
  { id: 'tomllib', kind: 'rare', q: 'tomllib', relevant: [`${PY}tomllib`] },
  { id: 'kerberos', kind: 'rare', q: 'kerberos', relevant: [`${PG}gssapi-auth`] },
  { id: 'ragged2e', kind: 'rare', q: 'ragged2e', relevant: [`${TEX}ragged2e/ragged2e`] },
  // common terms
  { id: 'functions', kind: 'common', q: 'functions', relevant: [`${PY}functions`] },
  { id: 'string', kind: 'common', q: 'string', relevant: [`${PY}string`, `${PY}stdtypes`] },
  { id: 'table', kind: 'common', q: 'create table', relevant: [`${PG}sql-createtable`, `${PG}ddl-basics`] },
  { id: 'explain', kind: 'common', q: 'explain', relevant: [`${PG}sql-explain`, `${PG}using-explain`] },
  // several words
  { id: 'partitioning', kind: 'multi', q: 'table partitioning', relevant: [`${PG}ddl-partitioning`] },
  { id: 'cli-args', kind: 'multi', q: 'parsing command line arguments', relevant: [`${PY}argparse`, `${HOWTO}argparse`, `${PY}getopt`] },
  { id: 'unit-tests', kind: 'multi', q: 'unit testing framework', relevant: [`${PY}unittest`] },
  { id: 'http-server', kind: 'multi', q: 'http server', relevant: [`${PY}http.server`] },
  { id: 'csv-files', kind: 'multi', q: 'reading csv files', relevant: [`${PY}csv`] },
  { id: 'isolation', kind: 'multi', q: 'transaction isolation levels', relevant: [`${PG}transaction-iso`] },
  { id: 'json-types', kind: 'multi', q: 'json data type', relevant: [`${PG}datatype-json`, `${PG}functions-json`] },
  // filters
  { id: 'float-pdf', kind: 'filter', q: 'float ext:pdf', relevant: [`${TEX}float/float`] },
  { id: 'colors-pdf', kind: 'filter', q: 'colors ext:pdf', relevant: [`${TEX}xcolor/xcolor`] },
  { id: 'json-html', kind: 'filter', q: 'json ext:html', relevant: [`${PY}json`] },
  { id: 'vacuum-path', kind: 'filter', q: 'vacuum path:postgresql', recoll: 'vacuum dir:postgresql-doc-15', relevant: [`${PG}sql-vacuum`, `${PG}routine-vacuuming`] },
  { id: 'sqlite-html', kind: 'filter', q: 'sqlite3 ext:html', relevant: [`${PY}sqlite3`] },
];

/** A result path (corpus-relative) reduced to its judging key. */
export function judgingKey(rel: string): string {
  return rel
    .split('\\')
    .join('/')
    .replace('/_sources/', '/')
    .replace(/\.(rst\.txt|html|txt|pdf|md|tex)$/, '');
}
