/**
 * Request data written to a log is escaped first: a log file is read by people, pagers, terminals
 * and (if it were ever redirected through a symlink) shells. The path keeps only characters that
 * are inert everywhere; anything else, including control characters, newlines, quotes, `$`, and
 * backticks, is percent-encoded, and the result is bounded.
 */
const INERT = /[A-Za-z0-9/._~%+,=:@-]/;

export function logSafe(raw: string, max = 200): string {
  let out = '';
  for (const ch of raw.slice(0, max)) {
    if (INERT.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return raw.length > max ? `${out}…` : out;
}

/** The path of a request target, without its query string (which can hold search terms), escaped. */
export function logSafePath(url: string): string {
  const q = url.indexOf('?');
  return logSafe(q < 0 ? url : url.slice(0, q));
}
