import { parseError } from './fail.js';
import { declaredLanguage, openZip, titleFrom } from './office.js';
import { TextSink, tidyText } from './text-sink.js';
import { xmlToText, type XmlTextOptions } from './xml-text.js';
import type { ExtractFn } from './types.js';

/** OpenDocument (odt, and ods/odp which share the layout): content.xml, title from meta.xml. */
const ODF: XmlTextOptions = {
  // styles and scripts carry no document text; annotations' metadata (author, date) is noise
  skipElements: ['office:font-face-decls', 'office:automatic-styles', 'office:scripts', 'dc:creator', 'dc:date'],
  onOpen: { 'text:tab': '\t', 'text:line-break': '\n', 'text:s': ' ' },
  onClose: { 'text:p': '\n', 'text:h': '\n', 'table:table-cell': '\t', 'table:table-row': '\n' },
};

export const extractOdt: ExtractFn = async (data, ctx) => {
  const what = `.${ctx.ext} file`;
  const zip = openZip(data, ctx);
  const content = zip.readText('content.xml');
  if (content === undefined) throw parseError(`the ${what} has no content.xml (not an OpenDocument file)`);
  const sink = new TextSink(ctx.limits.maxTextBytes);
  xmlToText(content, sink, ODF, what);
  return {
    title: titleFrom(zip, 'meta.xml', what),
    text: tidyText(sink.toString()),
    extractor: 'odt',
    lang: declaredLanguage(zip, 'meta.xml', 'styles.xml', what),
  };
};
