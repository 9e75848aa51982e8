/**
 * Entry of an extraction worker child process (child_process.fork, IPC with
 * serialization: 'advanced'). Untrusted parsing happens here, never in the process that owns the
 * database: a parser that hangs, leaks or crashes takes only this process down.
 */
import { extractBytes } from './extract-file.js';
import { MEMORY_EXIT_CODE, isConfig, isJob, type JobMessage, type ReplyMessage } from './protocol.js';
import { readForExtraction } from './read-file.js';
import { detectLanguage } from '../text/language.js';

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
  return { id: job.id, ok: true, title: out.title, text: out.text, extractor: out.extractor, sha256: r.sha256, size: r.size, lang };
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

// One job at a time, in arrival order (the pool sends one at a time anyway).
let chain: Promise<void> = Promise.resolve();
process.on('message', (m: unknown) => {
  if (isConfig(m)) {
    memoryCapBytes = m.memoryMb * 1024 * 1024;
    languages = m.languages;
  } else if (isJob(m)) {
    chain = chain.then(async () => {
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
