import { parseError } from './fail.js';
import { numberedEntries, openZip, titleFrom } from './office.js';
import { TextSink, tidyText } from './text-sink.js';
import { xmlToText, type XmlTextOptions } from './xml-text.js';
import type { ExtractFn } from './types.js';

/**
 * Excel (OOXML): the shared-string table holds almost all text; cells with inline strings
 * (`<is><t>`) keep theirs in the sheet. Numbers and formulas are not indexed.
 */
const SHARED: XmlTextOptions = { textElements: ['t'], skipElements: ['rPh'], onClose: { si: '\n' } };
const INLINE: XmlTextOptions = { textElements: ['t'], skipElements: ['rPh'], onClose: { is: '\n' } };

export const extractXlsx: ExtractFn = async (data, ctx) => {
  const what = `.${ctx.ext} file`;
  const zip = openZip(data, ctx);
  if (!zip.has('xl/workbook.xml')) throw parseError(`the ${what} has no xl/workbook.xml (not an Excel workbook)`);
  const sink = new TextSink(ctx.limits.maxTextBytes);
  const shared = zip.readText('xl/sharedStrings.xml');
  if (shared !== undefined) xmlToText(shared, sink, SHARED, what);
  for (const sheet of numberedEntries(zip, /^xl\/worksheets\/sheet(\d+)\.xml$/)) {
    if (sink.full) break;
    const xml = zip.readText(sheet) ?? '';
    if (xml.includes('<is>') || xml.includes('<is ')) xmlToText(xml, sink, INLINE, what); // skip the scan otherwise
  }
  return { title: titleFrom(zip, 'docProps/core.xml', what), text: tidyText(sink.toString()), extractor: 'xlsx' };
};
