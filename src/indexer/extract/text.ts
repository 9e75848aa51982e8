import { decodeText } from './decode.js';
import { truncateUtf8 } from './text-sink.js';
import type { ExtractFn } from './types.js';

/** Plain text, markup-as-text and source files: decode, truncate, and for Markdown find a title. */
const MARKDOWN = new Set(['md', 'markdown', 'mdown', 'mkd']);

export const extractText: ExtractFn = async (data, ctx) => {
  const { text } = decodeText(data, ctx.limits.maxTextBytes, `.${ctx.ext} file`);
  const out = truncateUtf8(text, ctx.limits.maxTextBytes);
  return { title: MARKDOWN.has(ctx.ext) ? markdownTitle(out) : null, text: out, extractor: 'text' };
};

/**
 * The first heading outside fenced code blocks (a `# comment` in a shell block is not one): an ATX
 * heading of any level (`## Setup`) or a setext one (a line underlined with `===` or `---`).
 */
export function markdownTitle(md: string): string | null {
  let fence: string | null = null;
  let pos = 0;
  let previous = '';
  // YAML front matter (`---` on the first line up to the next `---` or `...`) is not text.
  if (/^---[ \t]*\r?\n/.test(md)) {
    const close = /\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|$)/.exec(md.slice(3));
    if (close) pos = 3 + close.index + close[0].length;
  }
  // Only the start of a document is searched: a title 5 MB down is not a title.
  const end = Math.min(md.length, 256 * 1024);
  while (pos < end) {
    let nl = md.indexOf('\n', pos);
    if (nl < 0) nl = md.length;
    const line = md.slice(pos, Math.min(nl, pos + 4096));
    pos = nl + 1;
    const f = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (f) {
      const mark = f[1]!;
      if (fence === null) fence = mark.charAt(0);
      else if (mark.charAt(0) === fence) fence = null;
      continue;
    }
    if (fence !== null) continue;
    const h = /^ {0,3}#{1,6}[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$/.exec(line);
    if (h) return h[1]!.trim() || null;
    // Setext: the underline names the paragraph line above it (not front matter, not a list item).
    if (/^ {0,3}(?:=+|-{2,})[ \t]*$/.test(line) && /\p{L}/u.test(previous) && !/^\s*(?:[-*+]|\d+[.)])\s/.test(previous)) {
      return previous.trim();
    }
    previous = line.trim() === '' ? '' : line;
  }
  return null;
}
