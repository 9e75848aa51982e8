import { parseError } from './fail.js';
import { decodeHtml, htmlToText, tidyHtmlText } from './html.js';
import { openZip } from './office.js';
import { TextSink } from './text-sink.js';
import { firstElementText, getAttr, scanXml } from './xml-text.js';
import type { BoundedZip } from './zip.js';
import type { ExtractFn } from './types.js';

/**
 * EPUB: META-INF/container.xml names the OPF package; its spine gives the reading order of the
 * XHTML files, which go through the HTML extractor. Without a usable OPF, every (X)HTML file in
 * name order is read instead.
 */
export const extractEpub: ExtractFn = async (data, ctx) => {
  const what = `.${ctx.ext} file`;
  const zip = openZip(data, ctx);
  const opf = readPackage(zip, what);
  const docs = opf?.spine.length ? opf.spine : zip.names().filter((n) => /\.x?html?$/i.test(n)).sort();
  if (docs.length === 0 && !zip.has('META-INF/container.xml')) {
    throw parseError(`the ${what} has no META-INF/container.xml and no XHTML content (not an EPUB book)`);
  }
  const sink = new TextSink(ctx.limits.maxTextBytes);
  let firstHtmlTitle: string | null = null;
  for (const name of docs) {
    if (sink.full) break;
    const bytes = zip.read(name);
    if (bytes === undefined) continue; // spine entry missing from the archive: skip it
    let html: string;
    try {
      html = decodeHtml(bytes, what);
    } catch {
      continue; // a binary file posing as a chapter adds no text; the rest of the book still does
    }
    const { title } = htmlToText(html, sink, { xhtml: true });
    firstHtmlTitle ??= title;
    sink.push('\n\n');
  }
  return { title: opf?.title ?? firstHtmlTitle, text: tidyHtmlText(sink.toString()), extractor: 'epub' };
};

function readPackage(zip: BoundedZip, what: string): { title: string | null; spine: string[] } | undefined {
  const container = zip.readText('META-INF/container.xml');
  if (container === undefined) return undefined;
  let opfPath: string | undefined;
  scanXml(container, { open: (n, a) => void (n.endsWith('rootfile') && (opfPath ??= getAttr(a, 'full-path'))), stop: () => opfPath !== undefined }, what);
  if (!opfPath) return undefined;
  const opf = zip.readText(opfPath);
  if (opf === undefined) return undefined;
  const base = opfPath.includes('/') ? opfPath.slice(0, opfPath.lastIndexOf('/') + 1) : '';
  const manifest = new Map<string, string>();
  const order: string[] = [];
  scanXml(
    opf,
    {
      open(name, attrs) {
        const local = name.slice(name.indexOf(':') + 1);
        if (local === 'item') {
          const id = getAttr(attrs, 'id');
          const href = getAttr(attrs, 'href');
          if (id && href) manifest.set(id, href);
        } else if (local === 'itemref') {
          const idref = getAttr(attrs, 'idref');
          if (idref) order.push(idref);
        }
      },
    },
    what,
  );
  const spine = order.flatMap((id) => {
    const href = manifest.get(id);
    return href === undefined ? [] : [resolveHref(base, href)];
  });
  return { title: firstElementText(opf, 'dc:title', what), spine };
}

/** Joins an OPF-relative href to the OPF directory ("../" allowed, URL escapes decoded). */
function resolveHref(base: string, href: string): string {
  let path = href.split('#')[0] ?? '';
  try {
    path = decodeURIComponent(path);
  } catch {
    // malformed escape: use as written
  }
  const parts = (base + path).split('/');
  const out: string[] = [];
  for (const p of parts) {
    if (p === '..') out.pop();
    else if (p !== '.' && p !== '') out.push(p);
  }
  return out.join('/');
}
