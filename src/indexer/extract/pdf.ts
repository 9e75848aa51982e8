import { PDFiumLibrary, PDFiumModule } from '@hyzyla/pdfium';
import { parseError, unsupported } from './fail.js';
import { TextSink, tidyText } from './text-sink.js';
import { OwletError, owletError } from '../../shared/errors.js';
import type { ExtractFn } from './types.js';

/**
 * PDF text through PDFium (WebAssembly). The package's page wrapper has no way to close a page and
 * no metadata call, so text and title go through the raw PDFium exports the same module already
 * carries (FPDF_* C API); the package is still what loads and initialises the module. Every
 * document, page and text page is closed and every malloc freed: the wasm heap never shrinks.
 */

/** The slice of the PDFium C API used here (all exported by the module at runtime). */
interface RawPdfium {
  _FPDF_LoadMemDocument(data: number, size: number, password: number): number;
  _FPDF_GetLastError(): number;
  _FPDF_GetPageCount(doc: number): number;
  _FPDF_LoadPage(doc: number, index: number): number;
  _FPDF_ClosePage(page: number): void;
  _FPDFText_LoadPage(page: number): number;
  _FPDFText_ClosePage(textPage: number): void;
  _FPDFText_CountChars(textPage: number): number;
  _FPDFText_GetText(textPage: number, start: number, count: number, buffer: number): number;
  _FPDF_GetMetaText(doc: number, tag: number, buffer: number, length: number): number;
  _FPDF_CloseDocument(doc: number): void;
  wasmExports: { malloc(size: number): number; free(ptr: number): void };
  HEAPU8: Uint8Array; // replaced when the heap grows: always re-read after malloc
}

const FPDF_ERR_PASSWORD = 4;
const FPDF_ERR_SECURITY = 5;

let ready: Promise<RawPdfium> | undefined;

/** One PDFium instance per worker process, created on first use. */
function pdfium(): Promise<RawPdfium> {
  ready ??= (async () => {
    let raw: RawPdfium | undefined;
    await PDFiumLibrary.initBase({
      vendor: async (options) => {
        const m = await PDFiumModule(options);
        raw = m as unknown as RawPdfium;
        return m;
      },
    });
    if (!raw) throw new Error('PDFium did not initialise');
    return raw;
  })();
  ready.catch(() => (ready = undefined));
  return ready;
}

export const extractPdf: ExtractFn = async (data, ctx) => {
  const what = `.${ctx.ext} file`;
  if (!hasPdfHeader(data)) throw parseError(`the ${what} is not a PDF (no %PDF- header)`);
  const m = await pdfium();
  try {
    return readPdf(m, data, ctx.limits.maxTextBytes, ctx.limits.pdfMaxPages, what);
  } catch (e) {
    if (e instanceof OwletError) throw e;
    // A wasm abort leaves the module unusable: start a fresh one for the next document.
    // (WebAssembly.RuntimeError, matched by name: the indexer's tsconfig has no WebAssembly types)
    if (e instanceof Error && e.name === 'RuntimeError') ready = undefined;
    throw parseError(`the ${what} is damaged: PDFium failed while reading it`, e);
  }
};

function readPdf(m: RawPdfium, data: Uint8Array, maxTextBytes: number, maxPages: number, what: string) {
  const dataPtr = m.wasmExports.malloc(data.length);
  if (!dataPtr) throw owletError('OWL_ERR_EXTRACT_MEMORY', { reason: `the ${what} is too large to load into the PDF engine` });
  m.HEAPU8.set(data, dataPtr);
  const doc = m._FPDF_LoadMemDocument(dataPtr, data.length, 0);
  if (!doc) {
    const err = m._FPDF_GetLastError();
    m.wasmExports.free(dataPtr);
    if (err === FPDF_ERR_PASSWORD) throw unsupported(`the ${what} is password-protected`);
    if (err === FPDF_ERR_SECURITY) throw unsupported(`the ${what} uses an unsupported encryption scheme`);
    throw parseError(`the ${what} is damaged or truncated (PDFium could not open it)`);
  }
  try {
    const pages = m._FPDF_GetPageCount(doc);
    if (pages <= 0) throw parseError(`the ${what} has no readable pages (damaged or truncated)`);
    // Each page is tidied on its own and pages are joined by one blank line: tidying the whole
    // text at the end held up to four copies of a large document's text at once (the 12 largest
    // PDFs of the bench corpus in one process: peak 228 MB before, 211 MB after; issue #14).
    const sink = new TextSink(maxTextBytes);
    for (let i = 0; i < Math.min(pages, maxPages) && !sink.full; i++) {
      const t = tidyText(pageText(m, doc, i));
      if (!t) continue;
      if (!sink.empty) sink.push('\n\n');
      sink.push(t);
    }
    // The byte budget can cut inside a separator or a line: no trailing blank or space is kept.
    return { title: metaText(m, doc, 'Title') ?? xmpTitle(data), text: sink.toString().trimEnd(), extractor: 'pdf' };
  } finally {
    m._FPDF_CloseDocument(doc);
    m.wasmExports.free(dataPtr); // PDFium reads the buffer lazily: free only after closing
  }
}

function pageText(m: RawPdfium, doc: number, index: number): string {
  const page = m._FPDF_LoadPage(doc, index);
  if (!page) return ''; // one broken page does not lose the others
  try {
    const tp = m._FPDFText_LoadPage(page);
    if (!tp) return '';
    try {
      const n = m._FPDFText_CountChars(tp);
      if (n <= 0) return '';
      const buf = m.wasmExports.malloc((n + 1) * 2);
      if (!buf) return '';
      try {
        const written = m._FPDFText_GetText(tp, 0, n, buf); // UTF-16LE units incl. the terminator
        if (written <= 1) return '';
        return new TextDecoder('utf-16le').decode(m.HEAPU8.subarray(buf, buf + (written - 1) * 2));
      } finally {
        m.wasmExports.free(buf);
      }
    } finally {
      m._FPDFText_ClosePage(tp);
    }
  } finally {
    m._FPDF_ClosePage(page);
  }
}

/** Document info entry (e.g. Title) as a string; null when absent or empty. */
function metaText(m: RawPdfium, doc: number, tag: string): string | null {
  const tagBytes = new TextEncoder().encode(`${tag}\0`);
  const tagPtr = m.wasmExports.malloc(tagBytes.length);
  if (!tagPtr) return null;
  try {
    m.HEAPU8.set(tagBytes, tagPtr);
    const size = m._FPDF_GetMetaText(doc, tagPtr, 0, 0); // bytes needed, UTF-16LE incl. terminator
    if (size <= 2 || size > 64 * 1024) return null;
    const buf = m.wasmExports.malloc(size);
    if (!buf) return null;
    try {
      m._FPDF_GetMetaText(doc, tagPtr, buf, size);
      const s = new TextDecoder('utf-16le').decode(m.HEAPU8.subarray(buf, buf + size - 2));
      return s.replace(/\s+/g, ' ').trim().slice(0, 1000) || null;
    } finally {
      m.wasmExports.free(buf);
    }
  } finally {
    m.wasmExports.free(tagPtr);
  }
}

/**
 * `dc:title` from the document's XMP metadata packet. XMP packets are stored uncompressed (the
 * spec asks for it so that tools can find them), so a byte search finds one without parsing.
 */
export function xmpTitle(data: Uint8Array): string | null {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const at = buf.indexOf('<dc:title');
  if (at < 0) return null;
  const end = buf.indexOf('</dc:title>', at);
  if (end < 0 || end - at > 8192) return null;
  const xml = buf.subarray(at, end).toString('utf8');
  const li = /<rdf:li\b[^>]*>([\s\S]*?)<\/rdf:li>/.exec(xml)?.[1] ?? /<dc:title[^>]*>([^<]*)/.exec(xml)?.[1] ?? '';
  const text = li
    .replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-f]+);/gi, (_, e: string) => {
      const k = e.toLowerCase();
      if (k === 'lt') return '<';
      if (k === 'gt') return '>';
      if (k === 'amp') return '&';
      if (k === 'quot') return '"';
      if (k === 'apos') return "'";
      const n = k.startsWith('#x') ? parseInt(k.slice(2), 16) : parseInt(k.slice(1), 10);
      return n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : '';
    })
    .replace(/\s+/g, ' ')
    .trim();
  return text.slice(0, 1000) || null;
}

function hasPdfHeader(data: Uint8Array): boolean {
  // PDFium accepts the header anywhere in the first 1 KiB, as do other readers.
  return Buffer.from(data.buffer, data.byteOffset, Math.min(data.byteLength, 1024)).includes('%PDF-');
}
