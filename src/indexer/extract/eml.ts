import { decodeWithCharset } from './decode.js';
import { parseError } from './fail.js';
import { htmlToText, tidyHtmlText } from './html.js';
import { TextSink, tidyText } from './text-sink.js';
import type { ExtractFn } from './types.js';

/**
 * RFC 822/MIME messages: Subject is the title; From/To/Cc/Date and the readable body are the text.
 * Plain-text parts are preferred; an HTML-only mail goes through the HTML extractor. Attachments are
 * not extracted. The MIME tree is walked with an explicit queue and hard caps (depth, parts).
 */

const MAX_DEPTH = 16;
const MAX_PARTS = 500;

interface Part {
  headers: Map<string, string>;
  body: string; // raw bytes as latin1 chars (1:1), decoded per part charset later
}

export const extractEml: ExtractFn = async (data, ctx) => {
  const what = `.${ctx.ext} file`;
  const raw = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
  const root = splitPart(raw.replace(/^From [^\n]*\n/, '')); // tolerate an mbox "From " line
  if (root.headers.size === 0) throw parseError(`the ${what} is not an e-mail message (no headers found)`);

  const plain: string[] = [];
  const html: string[] = [];
  const queue: Array<{ part: Part; depth: number }> = [{ part: root, depth: 0 }];
  let seen = 0;
  while (queue.length > 0 && seen++ < MAX_PARTS) {
    const { part, depth } = queue.shift()!;
    const { type, params } = contentType(part.headers.get('content-type'));
    if (/^attachment/i.test(part.headers.get('content-disposition') ?? '')) continue;
    if (type.startsWith('multipart/')) {
      if (depth < MAX_DEPTH && params.boundary) {
        for (const child of splitMultipart(part.body, params.boundary)) queue.push({ part: splitPart(child), depth: depth + 1 });
      }
    } else if (type === 'text/plain' || type === 'text/html') {
      const bytes = transferDecode(part.body, part.headers.get('content-transfer-encoding'));
      const text = decodeWithCharset(bytes, params.charset, Number.POSITIVE_INFINITY);
      (type === 'text/plain' ? plain : html).push(text);
    }
  }

  const sink = new TextSink(ctx.limits.maxTextBytes);
  for (const h of ['from', 'to', 'cc', 'date']) {
    const v = root.headers.get(h);
    if (v) sink.push(`${h[0]!.toUpperCase()}${h.slice(1)}: ${decodeHeader(v)}\n`);
  }
  sink.push('\n');
  let text: string;
  if (plain.length > 0 || html.length === 0) {
    for (const p of plain) sink.push(`${p}\n\n`);
    text = tidyText(sink.toString());
  } else {
    for (const h of html) htmlToText(h, sink);
    text = tidyHtmlText(sink.toString());
  }
  const subject = root.headers.get('subject');
  return { title: subject ? decodeHeader(subject).trim() || null : null, text, extractor: 'eml' };
};

function splitPart(s: string): Part {
  const m = /\r?\n\r?\n/.exec(s);
  const head = m ? s.slice(0, m.index) : s;
  const body = m ? s.slice(m.index + m[0].length) : '';
  const headers = new Map<string, string>();
  let looksLikeHeaders = true;
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const h = /^([!-9;-~]+):[ \t]*(.*)$/.exec(line);
    if (!h) {
      looksLikeHeaders = false;
      break;
    }
    const name = h[1]!.toLowerCase();
    if (!headers.has(name)) headers.set(name, h[2]!);
  }
  // A part without a header block is all body (RFC 2046 default: text/plain).
  return looksLikeHeaders ? { headers, body } : { headers: new Map(), body: s };
}

function splitMultipart(body: string, boundary: string): string[] {
  const delim = `--${boundary}`;
  const parts: string[] = [];
  const lines = body.split(/\r?\n/);
  let current: string[] | null = null;
  for (const line of lines) {
    if (line.startsWith(delim)) {
      if (current) parts.push(current.join('\n'));
      if (line.startsWith(`${delim}--`)) return parts;
      current = [];
      if (parts.length >= MAX_PARTS) return parts;
    } else if (current) current.push(line);
  }
  if (current) parts.push(current.join('\n'));
  return parts;
}

function contentType(v: string | undefined): { type: string; params: Record<string, string> } {
  const value = v ?? 'text/plain';
  const type = (value.split(';')[0] ?? '').trim().toLowerCase() || 'text/plain';
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const m of value.matchAll(/;\s*([\w-]+)\s*=\s*(?:"([^"]*)"|([^;\s]+))/g)) {
    params[m[1]!.toLowerCase()] = m[2] ?? m[3] ?? '';
  }
  return { type, params };
}

function transferDecode(body: string, encoding: string | undefined): Uint8Array {
  const enc = (encoding ?? '').trim().toLowerCase();
  if (enc === 'base64') return Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  if (enc === 'quoted-printable') return decodeQuotedPrintable(body);
  return Buffer.from(body, 'latin1');
}

export function decodeQuotedPrintable(s: string): Uint8Array {
  const joined = s.replace(/=\r?\n/g, '');
  const out = Buffer.alloc(joined.length);
  let n = 0;
  for (let i = 0; i < joined.length; i++) {
    const c = joined.charCodeAt(i);
    if (c === 61 /* = */ && /^[0-9A-Fa-f]{2}$/.test(joined.slice(i + 1, i + 3))) {
      out[n++] = parseInt(joined.slice(i + 1, i + 3), 16);
      i += 2;
    } else out[n++] = c & 0xff;
  }
  return out.subarray(0, n);
}

/** RFC 2047 encoded-words (=?charset?B|Q?...?=); raw 8-bit header bytes are sniffed (UTF-8 or 1252). */
export function decodeHeader(v: string): string {
  const plain = decodeWithCharset(Buffer.from(v, 'latin1'), undefined, Number.POSITIVE_INFINITY);
  return plain
    .replace(/(=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)\s+(?==\?)/g, '$1')
    .replace(/=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g, (_all, charset: string, mode: string, data: string) => {
      const bytes =
        mode.toLowerCase() === 'b' ? Buffer.from(data, 'base64') : decodeQuotedPrintable(data.replace(/_/g, ' '));
      return decodeWithCharset(bytes, charset.split('*')[0], Number.POSITIVE_INFINITY);
    });
}
