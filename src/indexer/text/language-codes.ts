/** The languages Owlet can stem (ISO 639-1), without loading the stemmers (the config schema needs only the names). */
export const LANGUAGE_CODES: readonly string[] = [
  'ar', 'bg', 'da', 'de', 'el', 'en', 'es', 'fi', 'fr', 'ga', 'hu', 'hy', 'id', 'it', 'lt', 'ne', 'nl', 'no', 'pt', 'ro',
  'ru', 'sr', 'sv', 'ta', 'tr', 'uk',
];

export function isLanguage(code: string): boolean {
  return LANGUAGE_CODES.includes(code);
}
