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

/** A passage holds at most PASSAGE_CHARS UTF-16 units: at most 3 UTF-8 bytes each. */
export const PASSAGE_MAX_BYTES = PASSAGE_CHARS * 3;

/** Throws on a stream that would inflate beyond one passage (a decompression bomb), as on a damaged one. */
export function unpackPassage(data: Buffer | Uint8Array): string {
  if (isCurrentPassage(data)) return zlib.brotliDecompressSync(data.subarray(1), { maxOutputLength: PASSAGE_MAX_BYTES }).toString('utf8');
  return zlib.inflateRawSync(data, { maxOutputLength: PASSAGE_MAX_BYTES }).toString('utf8');
}

/**
 * Passages packed by an extraction worker, kept only when they are exactly `text` in the store's
 * format: a worker parses hostile files and may be compromised, so what it sends is checked like
 * any other input. Each is unpacked (bounded by PASSAGE_MAX_BYTES) and the whole must equal the
 * text; there are no more of them than splitPassages could make. Otherwise null (the writer packs
 * the text itself). Unpacking costs a fraction of packing (Brotli decodes at hundreds of MB/s).
 */
export function verifiedPassages(text: string, passages: readonly Uint8Array[]): Uint8Array[] | null {
  // splitPassages cuts no earlier than half a passage, so every passage but the last holds more.
  if (passages.length > Math.ceil(text.length / (PASSAGE_CHARS / 2)) + 1) return null;
  let at = 0;
  for (const p of passages) {
    if (!isCurrentPassage(p) || p.length > PASSAGE_MAX_BYTES + 64) return null;
    let part: string;
    try {
      part = unpackPassage(p);
    } catch {
      return null;
    }
    if (part.length === 0 || part.length > PASSAGE_CHARS || !text.startsWith(part, at)) return null;
    at += part.length;
  }
  return at === text.length ? [...passages] : null;
}
