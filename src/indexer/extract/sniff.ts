import { decodeText, detectEncoding } from './decode.js';
import { binaryContent } from './fail.js';
import { truncateUtf8 } from './text-sink.js';
import type { ExtractFn } from './types.js';

/** Bytes looked at to decide text or binary. */
const SNIFF_BYTES = 8192;
/** Share of control bytes above which 8-bit content is binary (text has tabs and newlines only). */
const MAX_CONTROL_SHARE = 0.01;

/**
 * Why content is not text, or null when it is text in a known encoding (UTF-8 or UTF-16 with or
 * without BOM, windows-1252). Control bytes other than tab, newlines, form feed and escape mark
 * binary: windows-1252 accepts every byte, so NUL bytes alone do not catch packed binary formats.
 */
export function binaryReason(data: Uint8Array): string | null {
  const d = detectEncoding(data);
  if ('binary' in d) return 'binary content (NUL bytes): not text in an encoding Owlet knows';
  if (d.encoding === 'utf-16le' || d.encoding === 'utf-16be') return null;
  const n = Math.min(data.length, SNIFF_BYTES);
  let control = 0;
  for (let i = d.bomLength; i < n; i++) {
    const b = data[i]!;
    if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c && b !== 0x1b) || b === 0x7f) control++;
  }
  return control > Math.max(1, n * MAX_CONTROL_SHARE) ? 'binary content (control bytes): not text in an encoding Owlet knows' : null;
}

/**
 * Files no extractor claims by extension (README, COPYING, Makefile, README.Debian): indexed as
 * plain text when the content is text, else refused as 'binary' with the reason.
 */
export const extractSniffed: ExtractFn = async (data, ctx) => {
  const why = binaryReason(data);
  if (why) throw binaryContent(ctx.ext ? `${why} (.${ctx.ext} file)` : `${why} (file without an extension)`);
  const { text } = decodeText(data, ctx.limits.maxTextBytes, ctx.ext ? `.${ctx.ext} file` : 'file');
  return { title: null, text: truncateUtf8(text, ctx.limits.maxTextBytes), extractor: 'text' };
};
