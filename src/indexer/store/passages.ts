import zlib from 'node:zlib';

/**
 * Extracted text is stored as deflated passages of about PASSAGE_CHARS characters. Snippets then
 * inflate only the passages they inspect, which bounds snippet work on very large documents, and
 * compression keeps the stored text to roughly a third of its size.
 */
export const PASSAGE_CHARS = 8192;

export function splitPassages(text: string, size = PASSAGE_CHARS): string[] {
  const out: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + size);
    if (end < text.length) {
      // Cut at whitespace so no word is split across passages (a snippet never shows half a word).
      // Only the second half of the passage is searched: lastIndexOf on the whole text would scan
      // back to its start for every passage, quadratic on a long text without line breaks.
      const floor = start + Math.floor(size / 2);
      const window = text.slice(floor, end);
      const cut = Math.max(window.lastIndexOf(' '), window.lastIndexOf('\n'));
      if (cut > 0) end = floor + cut + 1;
      // Never split a surrogate pair.
      const code = text.charCodeAt(end - 1);
      if (code >= 0xd800 && code <= 0xdbff) end -= 1;
    }
    out.push(text.slice(start, end));
    start = end;
  }
  return out;
}

export function packPassage(text: string): Buffer {
  return zlib.deflateRawSync(Buffer.from(text, 'utf8'), { level: 4 });
}

export function unpackPassage(data: Buffer | Uint8Array): string {
  return zlib.inflateRawSync(data).toString('utf8');
}
