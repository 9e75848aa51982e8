import { Tokenizer, type TokenizerCallbacks } from 'htmlparser2';
import { decodeText, decodeWithCharset, detectEncoding } from './decode.js';
import { unsupported } from './fail.js';
import { TextSink } from './text-sink.js';
import type { ExtractFn } from './types.js';

/**
 * HTML → text on htmlparser2's Tokenizer alone. Its Parser keeps an open-element stack with
 * `unshift` (quadratic: 200,000 nested tags took ~20 s), and we need no tree: a few counters are
 * enough to skip script/style content, find the title and turn block elements into line breaks.
 */

const SKIP = new Set(['script', 'style', 'noscript', 'template', 'svg', 'math', 'iframe', 'noembed', 'noframes']);
const BLOCK = new Set([
  'address', 'article', 'aside', 'blockquote', 'body', 'br', 'caption', 'dd', 'details', 'dialog', 'div', 'dl', 'dt',
  'fieldset', 'figcaption', 'figure', 'footer', 'form', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'html',
  'legend', 'li', 'main', 'nav', 'ol', 'option', 'p', 'pre', 'section', 'summary', 'table', 'tbody', 'thead',
  'tfoot', 'tr', 'ul',
]);
const CELL = new Set(['td', 'th']);

export interface HtmlTextOptions {
  /** XHTML (epub): honour `<x/>` self-closing syntax, so `<script/>` does not swallow the page. */
  xhtml?: boolean;
}

/** Streams the text of `html` into `sink`; returns the `<title>`, or else the first heading's text. */
export function htmlToText(html: string, sink: TextSink, opts: HtmlTextOptions = {}): { title: string | null } {
  let skip = 0;
  let inTitle = false;
  let title: string | null = null;
  let titleBuf = '';
  let heading: string | null = null;
  let inHeading: string | null = null;
  let headingBuf = '';
  let tag = '';
  let tagCountsAsSkip = false;
  const tokenizer = new Tokenizer({ decodeEntities: true, recognizeSelfClosing: opts.xhtml === true }, callbacks());

  function emit(s: string): void {
    if (skip > 0) return;
    if (inTitle) {
      if (titleBuf.length < 1000) titleBuf += s;
      return;
    }
    if (inHeading !== null && headingBuf.length < 1000) headingBuf += s;
    sink.push(s.replace(/[\s\u00a0]+/g, ' '));
    if (sink.full) tokenizer.pause();
  }
  function lowerName(start: number, end: number): string {
    return html.slice(start, Math.min(end, start + 64)).toLowerCase();
  }
  function open(name: string): void {
    tag = name;
    tagCountsAsSkip = false;
    if (name === 'title' && title === null && skip === 0) {
      inTitle = true;
      titleBuf = '';
      return;
    }
    if (heading === null && inHeading === null && skip === 0 && /^h[1-6]$/.test(name)) {
      inHeading = name;
      headingBuf = '';
    }
    if (SKIP.has(name)) {
      skip++;
      tagCountsAsSkip = true;
    } else if (BLOCK.has(name)) sink.push('\n');
    else if (CELL.has(name)) sink.push('\t');
  }
  function close(name: string): void {
    if (name === inHeading) {
      inHeading = null;
      heading = headingBuf.replace(/\s+/g, ' ').trim() || null;
    }
    if (name === 'title' && inTitle) {
      inTitle = false;
      title = titleBuf.replace(/\s+/g, ' ').trim() || null;
    } else if (SKIP.has(name)) skip = Math.max(0, skip - 1);
    else if (BLOCK.has(name)) sink.push('\n');
  }

  function callbacks(): TokenizerCallbacks {
    const noop = (): void => {};
    return {
      onopentagname: (s, e) => open(lowerName(s, e)),
      onclosetag: (s, e) => close(lowerName(s, e)),
      onselfclosingtag: () => {
        if (!opts.xhtml) return;
        if (tagCountsAsSkip) skip = Math.max(0, skip - 1);
        if (tag === 'title' && inTitle) inTitle = false;
      },
      ontext: (s, e) => emit(html.slice(s, e)),
      ontextentity: (cp) => emit(String.fromCodePoint(cp)),
      oncdata: (s, e) => emit(html.slice(s, e)),
      onattribdata: noop,
      onattribentity: noop,
      onattribend: noop,
      onattribname: noop,
      oncomment: noop,
      ondeclaration: noop,
      onend: noop,
      onopentagend: noop,
      onprocessinginstruction: noop,
    };
  }

  tokenizer.write(html);
  if (!sink.full) tokenizer.end();
  if (inTitle) title = titleBuf.replace(/\s+/g, ' ').trim() || null;
  if (inHeading !== null && heading === null) heading = headingBuf.replace(/\s+/g, ' ').trim() || null;
  return { title: title ?? heading };
}

/** HTML whitespace rules leave spaces around the line breaks we insert. */
export function tidyHtmlText(s: string): string {
  return s.replace(/[ \t]*\n[ \t]*/g, '\n').replace(/\n{3,}/g, '\n\n').trim();
}

/** `<html lang="de">` or `xml:lang` on the root element (the first 8 KB are enough). */
export function declaredHtmlLanguage(html: string): string | null {
  const root = /<html\b[^>]*>/i.exec(html.slice(0, 8192))?.[0];
  if (!root) return null;
  return /\s(?:xml:)?lang\s*=\s*["']?([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*)/i.exec(root)?.[1] ?? null;
}

/** Bytes → string honouring a BOM, then `<meta charset>` / `<?xml encoding?>`, then sniffing. */
export function decodeHtml(bytes: Uint8Array, what: string): string {
  const d = detectEncoding(bytes);
  if ('binary' in d) throw unsupported(`the ${what} contains binary data (NUL bytes), not HTML`);
  if (d.bomLength > 0) return decodeText(bytes, Number.POSITIVE_INFINITY).text;
  const head = Buffer.from(bytes.subarray(0, 2048)).toString('latin1');
  const m =
    /<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)/i.exec(head) ?? /<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)/i.exec(head);
  return decodeWithCharset(bytes, m?.[1], Number.POSITIVE_INFINITY);
}

export const extractHtml: ExtractFn = async (data, ctx) => {
  const html = decodeHtml(data, `.${ctx.ext} file`);
  const sink = new TextSink(ctx.limits.maxTextBytes);
  const { title } = htmlToText(html, sink, { xhtml: ctx.ext === 'xhtml' });
  return { title, text: tidyHtmlText(sink.toString()), extractor: 'html', lang: declaredHtmlLanguage(html) };
};
