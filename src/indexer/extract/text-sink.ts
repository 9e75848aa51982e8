/**
 * Collects extracted text up to a UTF-8 byte budget. Extractors push pieces and stop early once
 * `full` is true; `toString()` cuts precisely at the budget without splitting a character.
 */
export class TextSink {
  private readonly parts: string[] = [];
  private units = 0;
  constructor(private readonly maxBytes: number) {}

  /** True once at least maxBytes bytes were collected (each UTF-16 unit is at least one UTF-8 byte). */
  get full(): boolean {
    return this.units >= this.maxBytes;
  }

  /** True until something is pushed. */
  get empty(): boolean {
    return this.units === 0;
  }

  push(s: string): void {
    if (s.length === 0 || this.full) return;
    const room = this.maxBytes - this.units;
    const piece = s.length > room ? s.slice(0, room) : s;
    this.parts.push(piece);
    this.units += piece.length;
  }

  /** Last character pushed, for callers that avoid doubling separators. */
  lastChar(): string {
    const last = this.parts[this.parts.length - 1];
    return last ? last.charAt(last.length - 1) : '';
  }

  toString(): string {
    return truncateUtf8(this.parts.join(''), this.maxBytes);
  }
}

const encoder = new TextEncoder();

/** Cuts `s` to at most maxBytes UTF-8 bytes on a character boundary. */
export function truncateUtf8(s: string, maxBytes: number): string {
  if (s.length * 3 <= maxBytes) return s; // cannot exceed: avoid encoding at all
  if (maxBytes <= 0) return '';
  // Only the first maxBytes UTF-16 units can possibly fit.
  const head = s.length > maxBytes ? s.slice(0, maxBytes) : s;
  const { read } = encoder.encodeInto(head, new Uint8Array(maxBytes));
  let out = head.slice(0, read);
  // encodeInto never splits a surrogate pair, but a lone high surrogate at the cut is useless.
  const last = out.charCodeAt(out.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) out = out.slice(0, -1);
  return out;
}

/** Tidies extracted text: no trailing spaces, at most one blank line in a row. */
export function tidyText(s: string): string {
  return s
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t\f\v\u00a0]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
