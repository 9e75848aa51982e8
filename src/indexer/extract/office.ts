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

/** Entries matching `re` (capture group 1 = number), in numeric order: slide2 before slide10. */
export function numberedEntries(zip: BoundedZip, re: RegExp): string[] {
  return zip
    .names()
    .map((name) => ({ name, n: Number(re.exec(name)?.[1] ?? NaN) }))
    .filter((e) => Number.isFinite(e.n))
    .sort((a, b) => a.n - b.n)
    .map((e) => e.name);
}
