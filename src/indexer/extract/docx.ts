import { parseError } from './fail.js';
import { declaredLanguage, openZip, titleFrom } from './office.js';
import { TextSink, tidyText } from './text-sink.js';
import { xmlToText, type XmlTextOptions } from './xml-text.js';
import type { ExtractFn } from './types.js';

/** Word (OOXML): body text from word/document.xml, then footnotes and endnotes. */
const WORD: XmlTextOptions = {
  textElements: ['w:t'],
  // properties hold tab-stop definitions (<w:tab/>) that are not text; deleted text is not text
  skipElements: ['w:pPr', 'w:rPr', 'w:instrText', 'w:delText'],
  onOpen: { 'w:tab': '\t', 'w:br': '\n', 'w:cr': '\n' },
  onClose: { 'w:p': '\n', 'w:tc': '\t', 'w:tr': '\n' },
};

export const extractDocx: ExtractFn = async (data, ctx) => {
  const what = `.${ctx.ext} file`;
  const zip = openZip(data, ctx);
  const body = zip.readText('word/document.xml');
  if (body === undefined) throw parseError(`the ${what} has no word/document.xml (not a Word document)`);
  const sink = new TextSink(ctx.limits.maxTextBytes);
  xmlToText(body, sink, WORD, what);
  for (const part of ['word/footnotes.xml', 'word/endnotes.xml']) {
    if (sink.full) break;
    const xml = zip.readText(part);
    if (xml !== undefined) {
      sink.push('\n');
      xmlToText(xml, sink, WORD, what);
    }
  }
  return {
    title: titleFrom(zip, 'docProps/core.xml', what),
    text: tidyText(sink.toString()),
    extractor: 'docx',
    lang: declaredLanguage(zip, 'docProps/core.xml', 'word/styles.xml', what),
  };
};
