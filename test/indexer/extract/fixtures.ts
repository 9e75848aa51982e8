import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { strToU8, zipSync, type Zippable } from 'fflate';
import type { ExtractContext, ExtractLimits } from '../../../src/indexer/extract/types.js';

/** Builders for real documents (no binary fixtures in the repo, no external tools). */

export const LIMITS: ExtractLimits = { maxTextBytes: 1024 * 1024, maxUnzipBytes: 16 * 1024 * 1024, pdfMaxPages: 100 };

export function ctx(ext: string, limits: Partial<ExtractLimits> = {}): ExtractContext {
  return { path: `/tmp/doc.${ext}`, ext, limits: { ...LIMITS, ...limits } };
}

export function tempDir(t: { after(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'owlet-extract-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** PDF string literal escaping. */
function pdfString(s: string): string {
  return `(${s.replace(/[\\()]/g, (c) => `\\${c}`)})`;
}

/**
 * A minimal valid PDF: one page per entry of `pages`, Helvetica (a standard-14 font: no embedding
 * needed), an /Info dictionary with /Title, and a correct xref table with byte offsets.
 */
export function makePdf(opts: { pages: string[]; title?: string }): Uint8Array {
  const objects: string[] = [];
  const add = (body: string): number => objects.push(body); // object number = index + 1
  const catalog = add('');
  const pagesObj = add('');
  const font = add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>');
  const kids: number[] = [];
  for (const text of opts.pages) {
    const content = `BT /F1 18 Tf 72 720 Td ${pdfString(text)} Tj ET`;
    const contentObj = add(`<< /Length ${content.length} >>\nstream\n${content}\nendstream`);
    kids.push(
      add(
        `<< /Type /Page /Parent ${pagesObj} 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 ${font} 0 R >> >> /Contents ${contentObj} 0 R >>`,
      ),
    );
  }
  objects[catalog - 1] = `<< /Type /Catalog /Pages ${pagesObj} 0 R >>`;
  objects[pagesObj - 1] = `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${kids.length} >>`;
  const info = opts.title === undefined ? undefined : add(`<< /Title ${pdfString(opts.title)} /Producer (owlet tests) >>`);

  let out = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root ${catalog} 0 R${info ? ` /Info ${info} 0 R` : ''} >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

const XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';

function coreXml(title: string): string {
  return `${XML}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>${title}</dc:title></cp:coreProperties>`;
}

function zip(files: Record<string, string | Uint8Array>): Uint8Array {
  const z: Zippable = {};
  for (const [name, v] of Object.entries(files)) z[name] = typeof v === 'string' ? strToU8(v) : v;
  return zipSync(z);
}

export function makeDocx(opts: { paragraphs: string[]; title?: string; documentXml?: string; lang?: string }): Uint8Array {
  const body = opts.paragraphs
    .map((p) => `<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr><w:r><w:t xml:space="preserve">${p}</w:t></w:r></w:p>`)
    .join('');
  const files: Record<string, string | Uint8Array> = {
    '[Content_Types].xml': `${XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`,
    'word/document.xml':
      opts.documentXml ??
      `${XML}<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${body}</w:body></w:document>`,
  };
  if (opts.title !== undefined) files['docProps/core.xml'] = coreXml(opts.title);
  if (opts.lang !== undefined) {
    files['word/styles.xml'] = `${XML}<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:docDefaults><w:rPrDefault><w:rPr><w:lang w:val="${opts.lang}" w:eastAsia="zh-CN"/></w:rPr></w:rPrDefault></w:docDefaults></w:styles>`;
  }
  return zip(files);
}

export function makeOdt(opts: { paragraphs: string[]; title?: string; lang?: string }): Uint8Array {
  const files: Record<string, string | Uint8Array> = {
    mimetype: 'application/vnd.oasis.opendocument.text',
    'content.xml': `${XML}<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:text>${opts.paragraphs
      .map((p) => `<text:p>${p}</text:p>`)
      .join('')}</office:text></office:body></office:document-content>`,
  };
  if (opts.title !== undefined || opts.lang !== undefined) {
    const title = opts.title === undefined ? '' : `<dc:title>${opts.title}</dc:title>`;
    const lang = opts.lang === undefined ? '' : `<dc:language>${opts.lang}</dc:language>`;
    files['meta.xml'] = `${XML}<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><office:meta>${title}${lang}</office:meta></office:document-meta>`;
  }
  return zip(files);
}

export function makePptx(opts: { slides: string[]; title?: string }): Uint8Array {
  const files: Record<string, string | Uint8Array> = {
    'ppt/presentation.xml': `${XML}<p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"/>`,
  };
  opts.slides.forEach((s, i) => {
    files[`ppt/slides/slide${i + 1}.xml`] =
      `${XML}<p:sld xmlns:p="p" xmlns:a="a"><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>${s}</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>`;
  });
  if (opts.title !== undefined) files['docProps/core.xml'] = coreXml(opts.title);
  return zip(files);
}

export function makeXlsx(opts: { shared: string[]; inline?: string; title?: string }): Uint8Array {
  const files: Record<string, string | Uint8Array> = {
    'xl/workbook.xml': `${XML}<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets><sheet name="S1" sheetId="1"/></sheets></workbook>`,
    'xl/sharedStrings.xml': `${XML}<sst xmlns="x" count="${opts.shared.length}">${opts.shared.map((s) => `<si><t>${s}</t><rPh><t>PHONETIC</t></rPh></si>`).join('')}</sst>`,
    'xl/worksheets/sheet1.xml': `${XML}<worksheet xmlns="x"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c>${
      opts.inline ? `<c r="B1" t="inlineStr"><is><t>${opts.inline}</t></is></c>` : ''
    }<c r="C1"><v>12345</v></c></row></sheetData></worksheet>`,
  };
  if (opts.title !== undefined) files['docProps/core.xml'] = coreXml(opts.title);
  return zip(files);
}

export function makeEpub(opts: { chapters: string[]; title?: string }): Uint8Array {
  const files: Record<string, string | Uint8Array> = {
    mimetype: 'application/epub+zip',
    'META-INF/container.xml': `${XML}<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>`,
  };
  const items = opts.chapters.map((_, i) => `<item id="c${i}" href="text/ch%20${i}.xhtml" media-type="application/xhtml+xml"/>`).join('');
  // spine in reverse order: reading order must come from the spine, not from file names
  const spine = opts.chapters.map((_, i) => `<itemref idref="c${i}"/>`).reverse().join('');
  files['OEBPS/content.opf'] =
    `${XML}<package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/">${
      opts.title !== undefined ? `<dc:title>${opts.title}</dc:title>` : ''
    }</metadata><manifest>${items}</manifest><spine>${spine}</spine></package>`;
  opts.chapters.forEach((c, i) => {
    files[`OEBPS/text/ch ${i}.xhtml`] =
      `${XML}<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Chapter ${i}</title><script src="x.js"/></head><body><p>${c}</p></body></html>`;
  });
  return zip(files);
}
