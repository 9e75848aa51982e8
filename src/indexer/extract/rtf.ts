import { decoderFor } from './decode.js';
import { parseError } from './fail.js';
import { TextSink, tidyText } from './text-sink.js';
import type { ExtractFn } from './types.js';

/**
 * A small RTF-to-text converter: one flat loop with an explicit group stack (no recursion), so a
 * million nested `{` cost memory proportional to the depth, not stack frames. Skips the
 * non-text destinations (font/colour tables, stylesheets, pictures, `{\*...}` groups).
 */

const SKIP_DESTINATIONS = new Set([
  'fonttbl', 'colortbl', 'stylesheet', 'info', 'pict', 'objdata', 'objclass', 'listtable', 'listoverridetable',
  'rsidtbl', 'generator', 'xmlnstbl', 'themedata', 'colorschememapping', 'datastore', 'latentstyles', 'pgdsctbl',
  'revtbl', 'filetbl', 'fldinst', 'bkmkstart', 'bkmkend', 'pntext', 'pntxta', 'pntxtb', 'listtext', 'shpinst',
  'nonshppict', 'template', 'userprops', 'xe', 'tc', 'private', 'passwordhash', 'mmathPr', 'wgrffmtfilter',
  'fchars', 'lchars', 'defchp', 'defpap', 'operator', 'password',
]);
const SYMBOLS: Record<string, string> = {
  par: '\n', line: '\n', sect: '\n', page: '\n', row: '\n', cell: '\t', tab: '\t',
  emdash: '\u2014', endash: '\u2013', bullet: '\u2022', lquote: '\u2018', rquote: '\u2019',
  ldblquote: '\u201c', rdblquote: '\u201d', enspace: ' ', emspace: ' ', qmspace: ' ',
};
const CODEPAGES: Record<number, string> = { 932: 'shift_jis', 936: 'gbk', 949: 'euc-kr', 950: 'big5', 10000: 'macintosh' };

interface Group {
  skip: boolean;
  uc: number;
}

export function rtfToText(rtf: string, sink: TextSink, what: string): void {
  if (!/^\s*\{\\rtf/.test(rtf.slice(0, 64))) throw parseError(`the ${what} is not an RTF document (no {\\rtf header)`);
  const stack: Group[] = [];
  let g: Group = { skip: false, uc: 1 };
  let decoder = decoderFor('windows-1252')!;
  let pending: number[] = []; // \'hh bytes, decoded together so multi-byte code pages work
  let ucSkip = 0; // fallback characters still to skip after a \uN
  const n = rtf.length;

  const flush = (): void => {
    if (pending.length === 0) return;
    sink.push(decoder.decode(new Uint8Array(pending)));
    pending = [];
  };
  const emit = (s: string): void => {
    if (g.skip) return;
    flush();
    sink.push(s);
  };

  let i = 0;
  while (i < n && !sink.full) {
    const c = rtf.charCodeAt(i);
    if (c === 123 /* { */) {
      flush();
      stack.push(g);
      g = { skip: g.skip, uc: g.uc };
      ucSkip = 0;
      i++;
    } else if (c === 125 /* } */) {
      flush();
      g = stack.pop() ?? g;
      ucSkip = 0;
      i++;
    } else if (c === 92 /* \ */) {
      const next = rtf.charCodeAt(i + 1);
      if (isLetter(next)) {
        let j = i + 1;
        while (j < n && j - i <= 32 && isLetter(rtf.charCodeAt(j))) j++;
        const word = rtf.slice(i + 1, j);
        let k = j;
        if (rtf.charCodeAt(k) === 45 /* - */) k++;
        while (k < n && k - j < 11 && isDigit(rtf.charCodeAt(k))) k++;
        const param = k > j && rtf.charCodeAt(k - 1) !== 45 ? Number(rtf.slice(j, k)) : undefined;
        if (rtf.charCodeAt(k) === 32) k++; // the delimiting space belongs to the control word
        i = k;
        if (word === 'bin') {
          i += Math.max(0, param ?? 0); // raw binary data: never text
        } else if (word === 'u' && param !== undefined) {
          if (!g.skip) emit(String.fromCharCode(param < 0 ? param + 65536 : param));
          ucSkip = g.uc;
        } else if (ucSkip > 0) {
          ucSkip--;
        } else if (word === 'uc') {
          g.uc = Math.max(0, param ?? 1);
        } else if (word === 'ansicpg' && param !== undefined) {
          decoder = codepageDecoder(param) ?? decoder;
        } else if (SKIP_DESTINATIONS.has(word)) {
          g.skip = true;
        } else {
          const sym = SYMBOLS[word];
          if (sym !== undefined && Object.hasOwn(SYMBOLS, word)) emit(sym);
        }
      } else if (next === 39 /* ' */) {
        const byte = parseInt(rtf.slice(i + 2, i + 4), 16);
        i += 4;
        if (ucSkip > 0) ucSkip--;
        else if (!g.skip && Number.isFinite(byte)) pending.push(byte);
      } else {
        i += 2;
        if (next === 42 /* * */) g.skip = true; // {\*\dest ...}: ignorable destination
        else if (ucSkip > 0) ucSkip--;
        else if (next === 92 || next === 123 || next === 125) emit(String.fromCharCode(next));
        else if (next === 126 /* ~ */) emit('\u00a0');
        else if (next === 95 /* _ */) emit('-');
        else if (next === 10 || next === 13) emit('\n');
      }
    } else if (c === 10 || c === 13) {
      i++; // line breaks in RTF source are not text
    } else {
      i++;
      if (ucSkip > 0) ucSkip--;
      else emit(rtf.charAt(i - 1));
    }
  }
  flush();
}

function isLetter(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
/** Unknown code pages give undefined: the current decoder is kept. */
function codepageDecoder(cp: number): ReturnType<typeof decoderFor> {
  return decoderFor(Object.hasOwn(CODEPAGES, cp) ? CODEPAGES[cp]! : `windows-${cp}`);
}

export const extractRtf: ExtractFn = async (data, ctx) => {
  // RTF is 7-bit by spec; latin1 maps each byte to one char so nothing is lost before parsing.
  const rtf = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
  const sink = new TextSink(ctx.limits.maxTextBytes);
  rtfToText(rtf, sink, `.${ctx.ext} file`);
  return { title: null, text: tidyText(sink.toString()), extractor: 'rtf' };
};
