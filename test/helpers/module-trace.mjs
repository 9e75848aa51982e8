// Module-resolution hooks that append every URL a process loads to $OWLET_MODULE_TRACE, one per
// line: the start-up test reads which modules a command pulled in (test/indexer/cli/startup.test.ts).
import fs from 'node:fs';

export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (process.env.OWLET_MODULE_TRACE) fs.appendFileSync(process.env.OWLET_MODULE_TRACE, r.url + '\n');
  return r;
}
