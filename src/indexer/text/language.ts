/**
 * Which language a document is written in: the language it declares (html `lang`, `xml:lang`,
 * the docx/odt language) when Owlet can stem it, else detected from its text with franc-min's
 * trigram statistics (ranked as its francAll does, see trigram-ranking.ts), restricted to the
 * languages Owlet has stemmers for.
 */
// Not stem.ts: extraction workers detect languages and should not load every stemmer to do it.
import { DETECTABLE_ISO3, isLanguage } from './language-codes.js';
import { trigramRanker } from './trigram-ranking.js';

/**
 * How much of the text the detector reads: enough for a stable answer, bounded in cost. (1,000
 * would halve the cost, but on the benchmark corpus it turned 5 English documents into Dutch or
 * French ones, which then lose their English stems; 2,000 gets them right.)
 */
const SAMPLE_CHARS = 2000;
/** Below this many letters the detector is guessing: the caller's default applies. */
const MIN_LETTERS = 60;
/** A preferred (configured) language wins a close call: franc scores are relative to the best (1). */
const PREFERRED_MARGIN = 0.95;

const BY_ISO3 = new Map<string, string>(Object.entries(DETECTABLE_ISO3));
/** franc-min's ranking restricted to the languages Owlet can stem (see trigram-ranking.ts). */
const rank = trigramRanker([...BY_ISO3.keys()]);

/** `en-GB`, `EN`, `de_DE` → `en`, `en`, `de`; null when it names no language Owlet can stem. */
export function normalizeLanguageTag(tag: string | null | undefined): string | null {
  if (!tag) return null;
  const primary = tag.trim().toLowerCase().split(/[-_]/)[0] ?? '';
  if (primary === 'nb' || primary === 'nn') return 'no';
  return isLanguage(primary) ? primary : null;
}

export interface DetectOptions {
  /** The configured languages, most important first: the answer for short texts and close calls. */
  preferred: readonly string[];
}

/** The document's language (ISO 639-1), or null when there is no text to tell and no preference. */
export function detectLanguage(text: string, declared: string | null, opts: DetectOptions): string | null {
  const fromTag = normalizeLanguageTag(declared);
  if (fromTag) return fromTag;
  const fallback = opts.preferred[0] ?? null;
  const sample = text.slice(0, SAMPLE_CHARS);
  if (!hasLetters(sample, MIN_LETTERS)) return fallback;
  const ranked = rank(sample, MIN_LETTERS);
  const best = ranked[0];
  if (!best || best[0] === 'und') return fallback;
  for (const [iso3, score] of ranked) {
    const code = BY_ISO3.get(iso3);
    if (code && opts.preferred.includes(code) && score >= PREFERRED_MARGIN) return code;
  }
  return BY_ISO3.get(best[0]) ?? fallback;
}

const LETTER = /\p{L}/gu;

/** Whether `text` holds at least `n` letters (counted without building an array of matches). */
function hasLetters(text: string, n: number): boolean {
  LETTER.lastIndex = 0;
  let seen = 0;
  while (LETTER.exec(text) !== null) if (++seen >= n) return true;
  return false;
}
