import { parseError } from './fail.js';
import type { TextSink } from './text-sink.js';

/**
 * A small XML scanner for office formats. It is deliberately not a full parser:
 * - it never expands DTDs: a DOCTYPE declaring entities is refused (billion laughs & co.);
 * - it decodes only the five predefined entities and numeric character references;
 * - it is a flat loop with counters, no recursion and no element stack, so nesting depth costs nothing.
 */

export interface XmlHandlers {
  /** Called for start tags; self-closing tags get `open` followed by `close`. */
  open?(name: string, attrs: string): void;
  close?(name: string): void;
  /** Entity-decoded character data. */
  text?(text: string): void;
  /** Polled between tokens; true ends the scan early (output budget reached). */
  stop?(): boolean;
}

export function scanXml(xml: string, h: XmlHandlers, what: string): void {
  const n = xml.length;
  let i = 0;
  while (i < n) {
    if (h.stop?.()) return;
    const lt = xml.indexOf('<', i);
    if (lt < 0) {
      h.text?.(decodeXmlEntities(xml.slice(i)));
      return;
    }
    if (lt > i) h.text?.(decodeXmlEntities(xml.slice(i, lt)));
    if (xml.startsWith('<!--', lt)) {
      i = skipPast(xml, '-->', lt + 4);
    } else if (xml.startsWith('<![CDATA[', lt)) {
      const end = xml.indexOf(']]>', lt + 9);
      h.text?.(xml.slice(lt + 9, end < 0 ? n : end));
      i = end < 0 ? n : end + 3;
    } else if (xml.startsWith('<?', lt)) {
      i = skipPast(xml, '?>', lt + 2);
    } else if (xml.startsWith('<!', lt)) {
      const end = declarationEnd(xml, lt + 2);
      if (/<!ENTITY/i.test(xml.slice(lt, end))) {
        throw parseError(`the ${what} declares XML entities (a known denial-of-service pattern); refused`);
      }
      i = end;
    } else {
      const gt = tagEnd(xml, lt + 1);
      if (gt < 0) return; // truncated document: keep what was read
      if (xml.charCodeAt(lt + 1) === 47 /* / */) {
        h.close?.(xml.slice(lt + 2, gt).trim());
      } else {
        const selfClosing = xml.charCodeAt(gt - 1) === 47;
        const body = xml.slice(lt + 1, selfClosing ? gt - 1 : gt);
        const m = /^[^\s/>]+/.exec(body);
        const name = m ? m[0] : '';
        h.open?.(name, body.slice(name.length));
        if (selfClosing) h.close?.(name);
      }
      i = gt + 1;
    }
  }
}

function skipPast(xml: string, marker: string, from: number): number {
  const end = xml.indexOf(marker, from);
  return end < 0 ? xml.length : end + marker.length;
}

/** Index of the `>` closing a tag, ignoring `>` inside quoted attribute values; -1 if none. */
function tagEnd(xml: string, from: number): number {
  let quote = 0;
  for (let i = from; i < xml.length; i++) {
    const c = xml.charCodeAt(i);
    if (quote) {
      if (c === quote) quote = 0;
    } else if (c === 34 || c === 39) quote = c;
    else if (c === 62) return i;
  }
  return -1;
}

/** End of a `<!...>` declaration, including a DOCTYPE's `[...]` internal subset. */
function declarationEnd(xml: string, from: number): number {
  let depth = 0;
  let quote = 0;
  for (let i = from; i < xml.length; i++) {
    const c = xml.charCodeAt(i);
    if (quote) {
      if (c === quote) quote = 0;
    } else if (c === 34 || c === 39) quote = c;
    else if (c === 91) depth++;
    else if (c === 93) depth = Math.max(0, depth - 1);
    else if (c === 62 && depth === 0) return i + 1;
  }
  return xml.length;
}

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Decodes the five predefined entities and character references; anything else stays literal. */
export function decodeXmlEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#[xX][0-9a-fA-F]{1,8}|#[0-9]{1,10}|lt|gt|amp|quot|apos);/g, (all, ref: string) => {
    if (ref.charCodeAt(0) !== 35) return PREDEFINED[ref] ?? all;
    const cp = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    return cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : '\ufffd';
  });
}

/** Value of attribute `name` in a raw attribute string, entity-decoded. */
export function getAttr(attrs: string, name: string): string | undefined {
  const re = new RegExp(`(?:^|\\s)${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*=\\s*("([^"]*)"|'([^']*)')`);
  const m = re.exec(attrs);
  if (!m) return undefined;
  return decodeXmlEntities(m[2] ?? m[3] ?? '');
}

export interface XmlTextOptions {
  /** If given, character data counts only inside these elements (e.g. `w:t`). */
  textElements?: readonly string[];
  /** Everything inside these elements is dropped, text and breaks (e.g. `w:pPr`, `rPh`). */
  skipElements?: readonly string[];
  /** Emitted when an element opens (self-closing included): `w:tab` → '\t', `w:br` → '\n'. */
  onOpen?: Readonly<Record<string, string>>;
  /** Emitted when an element closes: `w:p` → '\n'. */
  onClose?: Readonly<Record<string, string>>;
}

/** Streams the text of an office XML part into `sink` following the caller's element map. */
export function xmlToText(xml: string, sink: TextSink, opts: XmlTextOptions, what: string): void {
  // Maps, not object lookups: element names like "constructor" must not hit Object.prototype.
  const textEls = opts.textElements ? new Set(opts.textElements) : undefined;
  const skipEls = new Set(opts.skipElements ?? []);
  const onOpen = new Map(Object.entries(opts.onOpen ?? {}));
  const onClose = new Map(Object.entries(opts.onClose ?? {}));
  let inText = 0;
  let inSkip = 0;
  scanXml(
    xml,
    {
      open(name) {
        if (textEls?.has(name)) inText++;
        if (skipEls.has(name)) inSkip++;
        const s = onOpen.get(name);
        if (s !== undefined && inSkip === 0) sink.push(s);
      },
      close(name) {
        if (textEls?.has(name)) inText = Math.max(0, inText - 1);
        if (skipEls.has(name)) inSkip = Math.max(0, inSkip - 1);
        const s = onClose.get(name);
        if (s !== undefined && inSkip === 0) sink.push(s);
      },
      text(t) {
        if (inSkip === 0 && (textEls === undefined || inText > 0)) sink.push(t);
      },
      stop: () => sink.full,
    },
    what,
  );
}

/** Text of the first `name` element (e.g. `dc:title`), whitespace-collapsed; null if absent/empty. */
export function firstElementText(xml: string, name: string, what: string): string | null {
  let depth = 0;
  let found = false;
  let buf = '';
  scanXml(
    xml,
    {
      open(n) {
        if (n === name) depth++;
      },
      close(n) {
        if (n === name && depth > 0 && --depth === 0) found = true;
      },
      text(t) {
        if (depth > 0 && buf.length < 2000) buf += t;
      },
      stop: () => found,
    },
    what,
  );
  return buf.replace(/\s+/g, ' ').trim().slice(0, 1000) || null;
}
