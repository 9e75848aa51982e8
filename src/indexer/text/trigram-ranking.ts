/**
 * franc-min's `francAll` ranking, computed from franc-min's own data and script expressions, for a
 * fixed list of allowed languages. The answer is the same array, score for score (a test compares
 * it with `francAll` itself); only the bookkeeping differs. franc keeps each language model and the
 * sample's trigram counts in plain objects and looks every trigram up once per language (a dozen
 * Latin-script languages: ~12,000 dictionary lookups per document); here each script's models are
 * merged once into one table, trigram → weight in every allowed language, so a sample costs one
 * lookup per distinct trigram. Language detection was ~8% of an extraction worker's CPU.
 */
import { data } from 'franc-min/data.js';
import { expressions } from 'franc-min/expressions.js';

/** As in franc: at most this much of the value is read, and a missing trigram costs this much. */
const MAX_LENGTH = 2048;
const MAX_DIFFERENCE = 300;

export type Ranking = Array<[string, number]>;

interface ScriptTable {
  /** Allowed languages of the script, in franc's (the data's) order. */
  languages: string[];
  /** trigram → its weight (rank) in each of `languages`, -1 where a model lacks it. */
  weights: Map<string, Int32Array>;
}

/** A `francAll(value, { only, minLength })` equivalent for one `only` list. */
export function trigramRanker(only: readonly string[]): (value: string, minLength: number) => Ranking {
  const allowed = new Set(only);
  const tables = new Map<string, ScriptTable>();

  function tableOf(script: string): ScriptTable {
    let t = tables.get(script);
    if (!t) {
      const models = data[script]!;
      const languages = Object.keys(models).filter((l) => allowed.has(l));
      const weights = new Map<string, Int32Array>();
      languages.forEach((lang, li) => {
        const grams = models[lang]!.split('|');
        // franc: a later duplicate of a trigram in a model never overwrites the first (lowest) rank.
        for (let w = grams.length - 1; w >= 0; w--) {
          let row = weights.get(grams[w]!);
          if (!row) weights.set(grams[w]!, (row = new Int32Array(languages.length).fill(-1)));
          row[li] = w;
        }
      });
      tables.set(script, (t = { languages, weights }));
    }
    return t;
  }

  return (input, minLength) => {
    if (!input || input.length < minLength) return [['und', 1]];
    const value = input.slice(0, MAX_LENGTH);
    const [script, share] = topScript(value);
    if (script === undefined || !Object.hasOwn(data, script)) {
      return script === undefined || share === 0 || !allowed.has(script) ? [['und', 1]] : [[script, 1]];
    }
    const table = tableOf(script);
    if (table.languages.length === 0) return [['und', 1]];
    const counts = trigramCounts(value);
    const n = table.languages.length;
    const distance = new Array<number>(n).fill(0);
    for (const [gram, count] of counts) {
      const row = table.weights.get(gram);
      for (let i = 0; i < n; i++) {
        const w = row === undefined ? -1 : row[i]!;
        distance[i]! += w < 0 ? MAX_DIFFERENCE : Math.abs(count - w - 1);
      }
    }
    const ranked: Ranking = table.languages.map((l, i) => [l, distance[i]!]);
    ranked.sort((a, b) => a[1] - b[1]); // stable, as franc's
    const min = ranked[0]![1];
    const max = value.length * MAX_DIFFERENCE - min;
    for (const r of ranked) r[1] = 1 - (r[1] - min) / max || 0;
    return ranked;
  };
}

/** The script whose expression matches most of `value` (the first one on a tie), and its share. */
function topScript(value: string): [string | undefined, number] {
  let top: string | undefined;
  let topShare = -1;
  for (const script of Object.keys(expressions)) {
    const share = (value.match(expressions[script]!)?.length ?? 0) / value.length || 0;
    if (share > topShare) {
      topShare = share;
      top = script;
    }
  }
  return [top, topShare];
}

const PUNCTUATION = /[\u0021-\u0040]+/g;
const WHITE_SPACE = /\s+/g;

/** trigram-utils' `asDictionary`: trigrams of the cleaned, padded, lower-cased value, counted. */
function trigramCounts(value: string): Map<string, number> {
  const s = ` ${value.replace(PUNCTUATION, ' ').replace(WHITE_SPACE, ' ').trim().toLowerCase()} `;
  const counts = new Map<string, number>();
  for (let i = 0; i + 3 <= s.length; i++) {
    const g = s.slice(i, i + 3);
    counts.set(g, (counts.get(g) ?? 0) + 1);
  }
  return counts;
}
