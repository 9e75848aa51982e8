import { parseError } from './fail.js';
import { numberedEntries, openZip, titleFrom } from './office.js';
import { TextSink, tidyText } from './text-sink.js';
import { xmlToText, type XmlTextOptions } from './xml-text.js';
import type { ExtractFn } from './types.js';

/** PowerPoint (OOXML): ppt/slides/slideN.xml in slide-number order. */
const SLIDE: XmlTextOptions = {
  textElements: ['a:t'],
  onOpen: { 'a:br': '\n' },
  onClose: { 'a:p': '\n', 'a:tc': '\t', 'a:tr': '\n' },
};

export const extractPptx: ExtractFn = async (data, ctx) => {
  const what = `.${ctx.ext} file`;
  const zip = openZip(data, ctx);
  const slides = numberedEntries(zip, /^ppt\/slides\/slide(\d+)\.xml$/);
  if (slides.length === 0 && !zip.has('ppt/presentation.xml')) {
    throw parseError(`the ${what} has no ppt/presentation.xml (not a PowerPoint document)`);
  }
  const sink = new TextSink(ctx.limits.maxTextBytes);
  for (const slide of slides) {
    if (sink.full) break;
    xmlToText(zip.readText(slide) ?? '', sink, SLIDE, what);
    sink.push('\n\n');
  }
  return { title: titleFrom(zip, 'docProps/core.xml', what), text: tidyText(sink.toString()), extractor: 'pptx' };
};
