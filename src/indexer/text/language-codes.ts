/** The languages Owlet can stem (ISO 639-1), without loading the stemmers (the config schema needs only the names). */
export const LANGUAGE_CODES: readonly string[] = [
  'ar', 'bg', 'da', 'de', 'el', 'en', 'es', 'fi', 'fr', 'ga', 'hu', 'hy', 'id', 'it', 'lt', 'ne', 'nl', 'no', 'pt', 'ro',
  'ru', 'sr', 'sv', 'ta', 'tr', 'uk',
];

export function isLanguage(code: string): boolean {
  return LANGUAGE_CODES.includes(code);
}

/** ISO 639-3 codes as franc-min names the languages it can detect (the others count when declared). */
export const DETECTABLE_ISO3: Readonly<Record<string, string>> = {
  arb: 'ar', bul: 'bg', deu: 'de', eng: 'en', spa: 'es', fra: 'fr', hun: 'hu', ind: 'id', ita: 'it', npi: 'ne',
  nld: 'nl', por: 'pt', ron: 'ro', rus: 'ru', srp: 'sr', swe: 'sv', tur: 'tr', ukr: 'uk',
};
