import { isUtf8 as bufferIsUtf8 } from 'node:buffer';
import { binaryContent } from './fail.js';

/**
 * Bytes → string for text-like files. Order matters: a BOM is authoritative; NUL bytes mean either
 * BOM-less UTF-16 or a binary file; otherwise strict UTF-8, and windows-1252 as the last resort
 * (every byte sequence is valid 1252, so it never fails).
 */
export type TextEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

const SNIFF_BYTES = 8192;

export function detectEncoding(bytes: Uint8Array): { encoding: TextEncoding; bomLength: number } | { binary: true } {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { encoding: 'utf-8', bomLength: 3 };
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { encoding: 'utf-16le', bomLength: 2 };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { encoding: 'utf-16be', bomLength: 2 };

  const n = Math.min(bytes.length, SNIFF_BYTES);
  let evenNul = 0;
  let oddNul = 0;
  for (let i = 0; i < n; i++) {
    if (bytes[i] === 0) {
      if (i % 2 === 0) evenNul++;
      else oddNul++;
    }
  }
  if (evenNul + oddNul === 0) return { encoding: isUtf8(bytes) ? 'utf-8' : 'windows-1252', bomLength: 0 };
  // Mostly-Latin UTF-16 text has a NUL in (nearly) every other byte and almost none in the others.
  const half = n / 2;
  if (oddNul > half * 0.3 && evenNul < half * 0.02) return { encoding: 'utf-16le', bomLength: 0 };
  if (evenNul > half * 0.3 && oddNul < half * 0.02) return { encoding: 'utf-16be', bomLength: 0 };
  // Real text files essentially never contain NUL; a few stray ones (a corrupted log) are tolerated.
  if (evenNul + oddNul > Math.max(1, n / 1000)) return { binary: true };
  return { encoding: isUtf8(bytes) ? 'utf-8' : 'windows-1252', bomLength: 0 };
}

function isUtf8(bytes: Uint8Array): boolean {
  // Only a prefix is validated. When the prefix cuts the file, a character cut at the cut is not an
  // error, but an invalid byte at the real end of the file is. (buffer.isUtf8 is simdutf: the strict
  // TextDecoder it replaces cost as much as decoding the file, a sixth of HTML extraction.)
  const cut = bytes.length > UTF8_PREFIX_BYTES;
  const prefix = bytes.subarray(0, cut ? completeUtf8End(bytes, UTF8_PREFIX_BYTES) : bytes.length);
  return bufferIsUtf8(prefix);
}

const UTF8_PREFIX_BYTES = 4 * 1024 * 1024;

/** `end`, moved back to the start of a UTF-8 sequence that would be cut by ending there. */
export function completeUtf8End(bytes: Uint8Array, end: number): number {
  let i = end;
  while (i > 0 && end - i < 3 && (bytes[i - 1]! & 0xc0) === 0x80) i--;
  if (i === 0) return end;
  const lead = bytes[i - 1]!;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return end - (i - 1) < need ? i - 1 : end;
}

/**
 * Decodes at most enough bytes to produce `maxTextBytes` of UTF-8 (huge files are never decoded in
 * full). Throws 'unsupported' for binary content.
 */
export function decodeText(bytes: Uint8Array, maxTextBytes: number, what = 'file'): { text: string; encoding: TextEncoding } {
  const d = detectEncoding(bytes);
  if ('binary' in d) {
    throw binaryContent(`the ${what} contains binary data (NUL bytes) although its extension says text`);
  }
  // One UTF-8 output byte needs at most 1 input byte (8-bit encodings) or 2 (UTF-16).
  const limit = d.bomLength + Math.min(bytes.length, maxTextBytes * 2 + 4);
  const body = bytes.subarray(d.bomLength, limit);
  const text =
    d.encoding === 'windows-1252'
      ? decodeWindows1252(body)
      : new TextDecoder(d.encoding, { fatal: false, ignoreBOM: true }).decode(body, { stream: limit < bytes.length });
  return { text: text.replace(/\u0000/g, ''), encoding: d.encoding };
}

// Node's TextDecoder('windows-1252') decodes as ISO-8859-1 (0x80 → U+0080 instead of €), so the
// 0x80–0x9F range is mapped here. 0 marks the five bytes undefined in 1252 (kept as C1 controls).
const CP1252_HIGH = [
  0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
  0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
];

export function decodeWindows1252(bytes: Uint8Array): string {
  const latin1 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  return latin1.replace(/[\u0080-\u009f]/g, (c) => String.fromCharCode(CP1252_HIGH[c.charCodeAt(0) - 0x80] || c.charCodeAt(0)));
}

/** A decoder for a charset label, with windows-1252 (and its aliases latin1, ascii, ...) fixed. */
export function decoderFor(label: string): { decode(bytes: Uint8Array, opts?: { stream?: boolean }): string } | undefined {
  let d: InstanceType<typeof TextDecoder>;
  try {
    d = new TextDecoder(label);
  } catch {
    return undefined;
  }
  return d.encoding === 'windows-1252' ? { decode: (b) => decodeWindows1252(b) } : d;
}

/** Decodes with a declared charset label (mail parts, HTML meta) and falls back to sniffing. */
export function decodeWithCharset(bytes: Uint8Array, charset: string | undefined, maxTextBytes: number): string {
  const label = charset?.trim().toLowerCase().replace(/^["']|["']$/g, '');
  // ASCII and UTF-8 labels are often wrong about 8-bit content: sniff those; unknown labels too.
  const decoder = label && !/^(us-)?ascii$|^utf-?8$/.test(label) ? decoderFor(label) : undefined;
  if (decoder) {
    const limit = Math.min(bytes.length, maxTextBytes * 2 + 4);
    return decoder.decode(bytes.subarray(0, limit), { stream: limit < bytes.length });
  }
  try {
    return decodeText(bytes, maxTextBytes).text;
  } catch {
    // a binary-looking part inside a document contributes no text rather than failing the whole file
    return '';
  }
}
