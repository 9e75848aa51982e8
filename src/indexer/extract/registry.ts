import { extractDocx } from './docx.js';
import { extractEml } from './eml.js';
import { extractEpub } from './epub.js';
import { formatOf, supportedExtensions, type ExtractorName } from './formats.js';
import { extractHtml } from './html.js';
import { extractOdt } from './odt.js';
import { extractPdf } from './pdf.js';
import { extractPptx } from './pptx.js';
import { extractRtf } from './rtf.js';
import { extractSniffed } from './sniff.js';
import { extractText } from './text.js';
import { extractXlsx } from './xlsx.js';
import type { ExtractFn } from './types.js';

/** Extension → extractor. Loaded only inside worker processes (it pulls in every parser). */
const EXTRACTORS: Readonly<Record<ExtractorName, ExtractFn>> = {
  text: extractText,
  html: extractHtml,
  pdf: extractPdf,
  docx: extractDocx,
  odt: extractOdt,
  pptx: extractPptx,
  xlsx: extractXlsx,
  epub: extractEpub,
  rtf: extractRtf,
  eml: extractEml,
  sniff: extractSniffed,
};

export function extractorFor(ext: string): { name: string; extract: ExtractFn } | undefined {
  const name = formatOf(ext);
  return name === undefined ? undefined : { name, extract: EXTRACTORS[name] };
}

export { supportedExtensions };
