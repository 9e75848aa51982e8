/**
 * Entry of an extraction worker child process (child_process.fork, IPC with
 * serialization: 'advanced'). Untrusted parsing happens here, never in the process that owns the
 * database: a parser that hangs, leaks or crashes takes only this process down.
 */
import { extractBytes } from './extract-file.js';
import { MEMORY_EXIT_CODE, isCancel, isConfig, isJob, type JobMessage, type ReplyMessage } from './protocol.js';
import { readForExtraction } from './read-file.js';
import { detectLanguage } from '../text/language.js';
import { stemLanguageFor, stemsText } from '../text/stem.js';
import { packPassage, splitPassages } from '../store/passages.js';

const RSS_CHECK_MS = 250;

function send(m: unknown): void {
  process.send?.(m);
}

async function runJob(job: JobMessage): Promise<ReplyMessage> {
  const r = await readForExtraction(job.path, job.maxBytes);
  if (!r.ok) return { id: job.id, ...r };
  const out = await extractBytes(r.data, { path: job.path, ext: job.ext.toLowerCase(), limits: job.limits });
  if (!out.ok) return { id: job.id, ok: false, reason: out.reason, message: out.message };
  const lang = detectLanguage(out.text, out.lang ?? null, { preferred: languages });
  // Stemming is a fifth of the writer's CPU; here it runs on a core of its own (issue #14).
  const stemLang = stemLanguageFor(lang, languages);
  const stems = { lang: stemLang, text: stemsText(out.text, stemLang) };
  // Compressing was a seventh of the writer's CPU, in long synchronous commits during which the
  // workers ran out of jobs: here it runs beside the other worker instead (issue #14).
  const passages = splitPassages(out.text).map(packPassage);
  return { id: job.id, ok: true, title: out.title, text: out.text, extractor: out.extractor, sha256: r.sha256, size: r.size, lang, stems, passages };
}

if (!process.send) {
  process.stderr.write('owlet extraction worker: must be started by the extraction pool (no IPC channel)\n');
  process.exit(2);
}

// Never outlive the parent: the IPC pipe closing means the indexer is gone.
process.on('disconnect', () => process.exit(0));

let memoryCapBytes = 0;
let languages: string[] = ['en'];
setInterval(() => {
  // Our own watchdog; the parent also measures us from outside (a tight loop would stop this one).
  if (memoryCapBytes > 0 && process.memoryUsage.rss() > memoryCapBytes) process.exit(MEMORY_EXIT_CODE);
}, RSS_CHECK_MS).unref();

// One job at a time, in arrival order: the pool sends a few ahead, so the next one starts the moment
// the last is answered. Before each, a turn of the event loop reads any cancel that came meanwhile.
let chain: Promise<void> = Promise.resolve();
/** Jobs received and not yet started; only these can be cancelled (ids of finished jobs are not kept). */
const waiting = new Set<number>();
const cancelled = new Set<number>();
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
process.on('message', (m: unknown) => {
  if (isConfig(m)) {
    memoryCapBytes = m.memoryMb * 1024 * 1024;
    languages = m.languages;
  } else if (isCancel(m)) {
    for (const id of m.ids) if (waiting.has(id)) cancelled.add(id);
  } else if (isJob(m)) {
    waiting.add(m.id);
    chain = chain.then(async () => {
      await nextTurn();
      waiting.delete(m.id);
      if (cancelled.delete(m.id)) return;
      let reply: ReplyMessage;
      try {
        reply = await runJob(m);
      } catch {
        reply = { id: m.id, ok: false, reason: 'crash', message: 'the extraction worker failed unexpectedly' };
      }
      send({ ...reply, rss: process.memoryUsage.rss() });
    });
  }
});

send({ type: 'ready' });
