import { BoundedZip } from './zip.js';
import { firstElementText } from './xml-text.js';
import type { ExtractContext } from './types.js';

/** Shared bits of the zip+XML formats. */
export function openZip(data: Uint8Array, ctx: ExtractContext): BoundedZip {
  return BoundedZip.open(data, ctx.limits.maxUnzipBytes, `.${ctx.ext} file`);
}

/** `dc:title` of an OOXML docProps/core.xml or ODF meta.xml; null when absent. */
export function titleFrom(zip: BoundedZip, entry: string, what: string): string | null {
  const xml = zip.readText(entry);
  return xml === undefined ? null : firstElementText(xml, 'dc:title', what);
}

const LANG_ATTR = /\b(?:w:val|fo:language|xml:lang)\s*=\s*["']([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*)["']/;

/**
 * The language a zip+XML document declares: `dc:language` in its metadata part, else the default
 * language of its styles (docx `<w:lang w:val>` in word/styles.xml, odt `fo:language` in styles.xml).
 */
export function declaredLanguage(zip: BoundedZip, metaEntry: string, stylesEntry: string, what: string): string | null {
  const meta = zip.readText(metaEntry);
  const dc = meta === undefined ? null : firstElementText(meta, 'dc:language', what);
  if (dc) return dc;
  const styles = zip.readText(stylesEntry);
  if (styles === undefined) return null;
  const scope = stylesEntry.startsWith('word/') ? /<w:lang\b[^>]*>/.exec(styles)?.[0] : styles;
  return (scope && LANG_ATTR.exec(scope)?.[1]) ?? null;
}

/** Entries matching `re` (capture group 1 = number), in numeric order: slide2 before slide10. */
export function numberedEntries(zip: BoundedZip, re: RegExp): string[] {
  return zip
    .names()
    .map((name) => ({ name, n: Number(re.exec(name)?.[1] ?? NaN) }))
    .filter((e) => Number.isFinite(e.n))
    .sort((a, b) => a.n - b.n)
    .map((e) => e.name);
}
