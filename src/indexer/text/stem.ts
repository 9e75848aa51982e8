/**
 * Snowball stemmers (from @orama/stemmers) for the languages Owlet can stem, and the text the FTS
 * `stems` column holds. A word is indexed twice: as written (the title/body columns, folded by
 * the tokenizer) and, when its stem differs from it, as its stem in the `stems` column. Words that
 * are their own stem are not repeated, which keeps the column to a fraction of the body's size;
 * the query side (search/query-compile.ts) looks stems up in both places for that reason.
 */
import { stemmer as arabic } from '@orama/stemmers/arabic';
import { stemmer as armenian } from '@orama/stemmers/armenian';
import { stemmer as bulgarian } from '@orama/stemmers/bulgarian';
import { stemmer as danish } from '@orama/stemmers/danish';
import { stemmer as dutch } from '@orama/stemmers/dutch';
import { stemmer as english } from '@orama/stemmers/english';
import { stemmer as finnish } from '@orama/stemmers/finnish';
import { stemmer as french } from '@orama/stemmers/french';
import { stemmer as german } from '@orama/stemmers/german';
import { stemmer as greek } from '@orama/stemmers/greek';
import { stemmer as hungarian } from '@orama/stemmers/hungarian';
import { stemmer as indonesian } from '@orama/stemmers/indonesian';
import { stemmer as irish } from '@orama/stemmers/irish';
import { stemmer as italian } from '@orama/stemmers/italian';
import { stemmer as lithuanian } from '@orama/stemmers/lithuanian';
import { stemmer as nepali } from '@orama/stemmers/nepali';
import { stemmer as norwegian } from '@orama/stemmers/norwegian';
import { stemmer as portuguese } from '@orama/stemmers/portuguese';
import { stemmer as romanian } from '@orama/stemmers/romanian';
import { stemmer as russian } from '@orama/stemmers/russian';
import { stemmer as serbian } from '@orama/stemmers/serbian';
import { stemmer as spanish } from '@orama/stemmers/spanish';
import { stemmer as swedish } from '@orama/stemmers/swedish';
import { stemmer as tamil } from '@orama/stemmers/tamil';
import { stemmer as turkish } from '@orama/stemmers/turkish';
import { stemmer as ukrainian } from '@orama/stemmers/ukrainian';
import { isLanguage, LANGUAGE_CODES } from './language-codes.js';
import { fold, forEachWord } from './tokens.js';

interface LanguageInfo {
  name: string;
  /** ISO 639-3 code as the language detector (franc-min) names it; null when it cannot detect it. */
  iso3: string | null;
  stem: (word: string) => string;
}

/** Languages by ISO 639-1 code. */
export const LANGUAGES: Readonly<Record<string, LanguageInfo>> = {
  ar: { name: 'Arabic', iso3: 'arb', stem: arabic },
  bg: { name: 'Bulgarian', iso3: 'bul', stem: bulgarian },
  da: { name: 'Danish', iso3: null, stem: danish },
  de: { name: 'German', iso3: 'deu', stem: german },
  el: { name: 'Greek', iso3: null, stem: greek },
  en: { name: 'English', iso3: 'eng', stem: english },
  es: { name: 'Spanish', iso3: 'spa', stem: spanish },
  fi: { name: 'Finnish', iso3: null, stem: finnish },
  fr: { name: 'French', iso3: 'fra', stem: french },
  ga: { name: 'Irish', iso3: null, stem: irish },
  hu: { name: 'Hungarian', iso3: 'hun', stem: hungarian },
  hy: { name: 'Armenian', iso3: null, stem: armenian },
  id: { name: 'Indonesian', iso3: 'ind', stem: indonesian },
  it: { name: 'Italian', iso3: 'ita', stem: italian },
  lt: { name: 'Lithuanian', iso3: null, stem: lithuanian },
  ne: { name: 'Nepali', iso3: 'npi', stem: nepali },
  nl: { name: 'Dutch', iso3: 'nld', stem: dutch },
  no: { name: 'Norwegian', iso3: null, stem: norwegian },
  pt: { name: 'Portuguese', iso3: 'por', stem: portuguese },
  ro: { name: 'Romanian', iso3: 'ron', stem: romanian },
  ru: { name: 'Russian', iso3: 'rus', stem: russian },
  sr: { name: 'Serbian', iso3: 'srp', stem: serbian },
  sv: { name: 'Swedish', iso3: 'swe', stem: swedish },
  ta: { name: 'Tamil', iso3: null, stem: tamil },
  tr: { name: 'Turkish', iso3: 'tur', stem: turkish },
  uk: { name: 'Ukrainian', iso3: 'ukr', stem: ukrainian },
};

export { LANGUAGE_CODES, isLanguage };

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
    s = fold(info.stem(lower.normalize('NFC')));
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(lower, s);
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
 * the indexing hot path: one map lookup per word instead of lower-casing, folding and stemming.
 */
const columnCaches = new Map<string, Map<string, string>>();

/**
 * The `stems` column text for a document in `lang`: for every word whose stem differs from the
 * word as written, the stem, in document order (space-separated). Empty for an unknown language.
 */
export function stemsText(text: string, lang: string | null): string {
  if (lang === null || !isLanguage(lang) || text === '') return '';
  let cache = columnCaches.get(lang);
  if (!cache) columnCaches.set(lang, (cache = new Map()));
  const memo = cache;
  const out: string[] = [];
  forEachWord(text, (w) => {
    let s = memo.get(w);
    if (s === undefined) {
      const stem = stemWord(w, lang);
      s = stem !== '' && stem !== fold(w) ? stem : '';
      if (memo.size >= CACHE_LIMIT) memo.clear();
      memo.set(w, s);
    }
    if (s !== '') out.push(s);
  });
  return out.join(' ');
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
