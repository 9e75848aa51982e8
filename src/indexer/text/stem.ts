/**
 * Snowball stemmers (from @orama/stemmers) for the languages Owlet can stem, and the text the FTS
 * `stems` column holds. A word is indexed twice: as written (the title/body columns, folded by
 * the tokenizer) and, when its stem differs from it, as its stem in the `stems` column. Words that
 * are their own stem are not repeated, which keeps the column to a fraction of the body's size;
 * the query side (search/query-compile.ts) looks stems up in both places for that reason.
 */
import { createRequire } from 'node:module';
import { isLanguage, LANGUAGE_CODES } from './language-codes.js';
import { SpanMemo, detached } from './span-memo.js';
import { WORD_ASCII, WORD_DIGIT, fold, forEachWordSpan } from './tokens.js';

interface LanguageInfo {
  name: string;
  /** ISO 639-3 code as the language detector (franc-min) names it; null when it cannot detect it. */
  iso3: string | null;
}

/** Languages by ISO 639-1 code. */
export const LANGUAGES: Readonly<Record<string, LanguageInfo>> = {
  ar: { name: 'Arabic', iso3: 'arb' },
  bg: { name: 'Bulgarian', iso3: 'bul' },
  da: { name: 'Danish', iso3: null },
  de: { name: 'German', iso3: 'deu' },
  el: { name: 'Greek', iso3: null },
  en: { name: 'English', iso3: 'eng' },
  es: { name: 'Spanish', iso3: 'spa' },
  fi: { name: 'Finnish', iso3: null },
  fr: { name: 'French', iso3: 'fra' },
  ga: { name: 'Irish', iso3: null },
  hu: { name: 'Hungarian', iso3: 'hun' },
  hy: { name: 'Armenian', iso3: null },
  id: { name: 'Indonesian', iso3: 'ind' },
  it: { name: 'Italian', iso3: 'ita' },
  lt: { name: 'Lithuanian', iso3: null },
  ne: { name: 'Nepali', iso3: 'npi' },
  nl: { name: 'Dutch', iso3: 'nld' },
  no: { name: 'Norwegian', iso3: null },
  pt: { name: 'Portuguese', iso3: 'por' },
  ro: { name: 'Romanian', iso3: 'ron' },
  ru: { name: 'Russian', iso3: 'rus' },
  sr: { name: 'Serbian', iso3: 'srp' },
  sv: { name: 'Swedish', iso3: 'swe' },
  ta: { name: 'Tamil', iso3: null },
  tr: { name: 'Turkish', iso3: 'tur' },
  uk: { name: 'Ukrainian', iso3: 'ukr' },
};

export { LANGUAGE_CODES, isLanguage };

/*
 * Each stemmer is loaded the first time its language stems a word, through the package's
 * CommonJS build (require is synchronous; stemming is): importing all 26 up front cost a third of
 * `owlet search`'s start-up when only the configured languages are ever used (issue #14).
 */
const requireStemmer = createRequire(import.meta.url);
const stemmers = new Map<string, (word: string) => string>();

function stemmerOf(lang: string, info: LanguageInfo): (word: string) => string {
  let s = stemmers.get(lang);
  if (!s) {
    // @orama/stemmers names each entry point after the language's English name.
    s = (requireStemmer(`@orama/stemmers/${info.name.toLowerCase()}`) as { stemmer: (word: string) => string }).stemmer;
    stemmers.set(lang, s);
  }
  return s;
}

/** Words longer than this are not stemmed (identifiers, base64 runs): no stemmer helps there. */
const MAX_STEM_LENGTH = 40;
/** Per-language memo of word → folded stem; vocabularies are Zipfian, so a small map hits often. */
const CACHE_LIMIT = 50_000;
const caches = new Map<string, Map<string, string>>();

/**
 * The folded stem of one word in `lang` (lower-cased first; diacritics folded after stemming, so
 * German `Häuser` → `haus`). Unknown languages return the folded word itself.
 */
export function stemWord(word: string, lang: string): string {
  const lower = word.toLowerCase();
  const info = LANGUAGES[lang];
  if (!info || lower.length > MAX_STEM_LENGTH || /\d/.test(lower)) return fold(lower);
  let cache = caches.get(lang);
  if (!cache) caches.set(lang, (cache = new Map()));
  let s = cache.get(lower);
  if (s === undefined) {
    s = detached(fold(stemmerOf(lang, info)(lower.normalize('NFC'))));
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(detached(lower), s);
  }
  return s;
}

/** The distinct stems of `word` in each of `langs` that differ from the folded word. */
export function otherStems(word: string, langs: readonly string[]): string[] {
  const folded = fold(word);
  const out: string[] = [];
  for (const l of langs) {
    const s = stemWord(word, l);
    if (s !== '' && s !== folded && !out.includes(s)) out.push(s);
  }
  return out;
}

/**
 * Per-language memo of a word as written → what the stems column gets for it ('' when the word is
 * its own stem). The stems column is built from every indexed document's whole text, so this is
 * the indexing hot path: one table lookup per word, without even cutting the word out of the text,
 * instead of lower-casing, folding and stemming.
 */
const columnCaches = new Map<string, SpanMemo>();

/**
 * The `stems` column text for a document in `lang`: for every word whose stem differs from the
 * word as written, the stem, in document order (space-separated). Empty for an unknown language.
 */
export function stemsText(text: string, lang: string | null): string {
  if (lang === null || !isLanguage(lang) || text === '') return '';
  let memo = columnCaches.get(lang);
  if (!memo) columnCaches.set(lang, (memo = new SpanMemo(CACHE_LIMIT)));
  const cache = memo;
  const shortIsStem = SHORT_WORDS_ARE_STEMS.has(lang);
  const columnStem = (w: string): string => {
    const stem = stemWord(w, lang);
    return stem !== '' && stem !== fold(w) ? stem : '';
  };
  const out: string[] = [];
  forEachWordSpan(text, (start, end, flags) => {
    // Words that are always their own stem, so never in the column (see stemWord): ASCII ones
    // with a digit, in every language; ASCII ones of one or two letters, where Snowball keeps them.
    if (flags & WORD_ASCII && (flags & WORD_DIGIT || (shortIsStem && end - start <= 2))) return;
    // Long runs (a CJK sentence is one token) are never stemmed and rarely repeat: not memoised,
    // or up to CACHE_LIMIT of them would stay in every worker.
    const s = end - start > MAX_STEM_LENGTH ? columnStem(text.slice(start, end)) : cache.get(text, start, end, columnStem);
    if (s !== '') out.push(s);
  });
  return out.join(' ');
}

/**
 * Languages whose Snowball stemmer leaves every word of one or two letters as it is (English's
 * says so in its definition: "if the word has two letters or less, leave it as it is"); a test
 * checks every such ASCII word against the stemmer.
 */
export const SHORT_WORDS_ARE_STEMS: ReadonlySet<string> = new Set(['en']);

/**
 * The language a document's stems are made in: its own when configured, the first configured one
 * when its language is unknown, none (null) when it is in a language the user did not configure.
 */
export function stemLanguageFor(lang: string | null, languages: readonly string[]): string | null {
  return lang === null ? (languages[0] ?? null) : languages.includes(lang) ? lang : null;
}

/**
 * Stems already made for a document's body (by the extraction worker, which has the text first and
 * a core of its own), in `lang`: the writer joins the title's stems to them instead of stemming the
 * whole text again in the process that owns the database.
 */
export interface BodyStems {
  lang: string | null;
  text: string;
}

/** `stemsText(title + '\n' + body)`, with the body's part given: words never span the newline. */
export function joinStems(titleStems: string, body: string): string {
  return titleStems === '' ? body : body === '' ? titleStems : `${titleStems} ${body}`;
}

/** Words memoised across languages (status and tests). */
export function stemCacheEntries(): number {
  let n = 0;
  for (const m of caches.values()) n += m.size;
  for (const m of columnCaches.values()) n += m.size;
  return n;
}

/** Drops the stemming memos (the service going idle gives their memory back). */
export function clearStemCaches(): void {
  caches.clear();
  columnCaches.clear();
}
