import zlib from 'node:zlib';

/**
 * Extracted text is stored as compressed passages of about PASSAGE_CHARS characters. Snippets then
 * decompress only the passages they inspect, which bounds snippet work on very large documents.
 *
 * Format (schema 6 on): one marker byte 0xFF, then a Brotli stream (text mode; any quality reads).
 * Passages written before (schema ≤ 5, and rows a backup restores before migrating) are raw
 * deflate; a raw deflate stream never starts with 0xFF (block type 3 is invalid), so
 * `unpackPassage` reads both. Measured on the small bench corpus: 32 K-character Brotli passages
 * take 0.316 of the text's size against 0.372 for 8 K deflated ones, and pack whole pages better
 * (a 2-3 KB blob sat alone on a 4 KB page).
 */
export const PASSAGE_CHARS = 32768;

/** Passages of 8 K characters, raw deflate: what schema ≤ 5 wrote. */
export const LEGACY_PASSAGE_CHARS = 8192;

const BROTLI = 0xff;
/**
 * Quality 2: compressing was the indexer's largest main-thread cost after FTS5. Measured on the
 * full bench corpus's text (171 MB, 32 K passages, one core): quality 5 takes 0.310 of the size
 * for 4.2 s of CPU, quality 4 0.330 for 3.0 s, quality 3 0.341 for 1.8 s, quality 2 0.345 for
 * 1.5 s, quality 1 0.374 for 1.0 s. Quality 2 is the knee: a third of quality 5's CPU for 11% more
 * stored text (index 113.7 -> 119 MB), well inside the index size target (issue #14, #17).
 */
export const BROTLI_QUALITY = 2;
/** A 128 KB window covers a whole passage even in 3-byte UTF-8. */
const BROTLI_WINDOW_BITS = 17;

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
  const raw = Buffer.from(text, 'utf8');
  const packed = zlib.brotliCompressSync(raw, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
      [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
      [zlib.constants.BROTLI_PARAM_LGWIN]: BROTLI_WINDOW_BITS,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
    },
  });
  const out = Buffer.allocUnsafe(packed.length + 1);
  out[0] = BROTLI;
  packed.copy(out, 1);
  return out;
}

/** The format schema ≤ 5 wrote (kept for tests that build such files, and for reading them). */
export function packLegacyPassage(text: string): Buffer {
  return zlib.deflateRawSync(Buffer.from(text, 'utf8'), { level: 4 });
}

/** True when a stored passage is in the current format (migration 6 repacks the others). */
export function isCurrentPassage(data: Buffer | Uint8Array): boolean {
  return data.length > 0 && data[0] === BROTLI;
}

export function unpackPassage(data: Buffer | Uint8Array): string {
  if (isCurrentPassage(data)) return zlib.brotliDecompressSync(data.subarray(1)).toString('utf8');
  return zlib.inflateRawSync(data).toString('utf8');
}
