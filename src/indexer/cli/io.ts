import { owletError } from '../../shared/errors.js';

/** What most commands write to: lines for stdout and stderr. */
export interface CommandIo {
  out: (s: string) => void;
  err: (s: string) => void;
}

/** Where a command writes: the real terminal, or a test's buffers. */
export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  stderr: NodeJS.WriteStream | { isTTY?: boolean; columns?: number; write(s: string): boolean };
  stdoutIsTTY: boolean;
}

export const defaultIo: Io = {
  out: (s) => process.stdout.write(s + '\n'),
  err: (s) => process.stderr.write(s + '\n'),
  stderr: process.stderr,
  stdoutIsTTY: Boolean(process.stdout.isTTY),
};

/** commander's parser for a bounded whole-number option; a bad value is a usage error. */
export function intArg(name: string, min: number, max: number) {
  return (v: string): number => {
    if (!/^\d+$/.test(v)) throw owletError('OWL_ERR_ARG_INVALID', { reason: `${name} must be a whole number, got "${v}"` });
    const n = Number(v);
    if (n < min || n > max) throw owletError('OWL_ERR_ARG_INVALID', { reason: `${name} must be between ${min} and ${max}, got ${n}` });
    return n;
  };
}

export const collect = (v: string, prev: string[] = []) => [...prev, v];

export function mb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

/** Turns the <mark> snippet into terminal text: bold on a TTY, plain otherwise. */
export function snippetForTerminal(snippet: string, tty: boolean): string {
  const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
  return unescape(snippet.replace(/<mark>/g, tty ? '\x1b[1m' : '').replace(/<\/mark>/g, tty ? '\x1b[22m' : ''));
}
