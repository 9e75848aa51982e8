import { describeFailure } from './fail.js';
import { normalizeExt } from './formats.js';
import { extractorFor } from './registry.js';
import { truncateUtf8 } from './text-sink.js';
import type { ExtractContext, Extracted, FailureReason } from './types.js';

export type ExtractResult = ({ ok: true } & Extracted) | { ok: false; reason: FailureReason; message: string };

/**
 * Runs the extractor for ctx.ext on bytes already read. Never throws: every failure becomes a
 * reason and a message. Empty files are not errors: they extract to empty text (a placeholder
 * document stays findable by name and does not show up as a failure).
 */
export async function extractBytes(data: Uint8Array, context: ExtractContext): Promise<ExtractResult> {
  const ctx = { ...context, ext: normalizeExt(context.ext) };
  const ex = extractorFor(ctx.ext);
  if (!ex) return { ok: false, reason: 'unsupported', message: `no text extractor for .${ctx.ext} files` };
  if (data.length === 0) return { ok: true, title: null, text: '', extractor: ex.name, lang: null };
  try {
    const r = await ex.extract(data, ctx);
    return {
      ok: true,
      title: r.title === null ? null : truncateUtf8(r.title, 1024),
      text: truncateUtf8(r.text, ctx.limits.maxTextBytes),
      extractor: r.extractor,
      lang: r.lang ?? null,
    };
  } catch (e) {
    return { ok: false, ...describeFailure(e, ctx.ext) };
  }
}
