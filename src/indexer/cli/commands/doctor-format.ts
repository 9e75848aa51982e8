import type { DoctorReport } from '../../health/doctor.js';

export interface DoctorIo {
  out: (s: string) => void;
  stdoutIsTTY?: boolean;
}

const MARK = { ok: 'ok', degraded: 'DEGRADED', failed: 'FAILED' } as const;

/** The human form: one line per check, the remedy under anything not ok, then what --fix did. */
export function formatDoctor(r: DoctorReport, tty = false): string[] {
  const colour = (s: keyof typeof MARK, text: string) => (tty ? `${s === 'ok' ? '\x1b[32m' : s === 'degraded' ? '\x1b[33m' : '\x1b[31m'}${text}\x1b[39m` : text);
  const lines = [`Owlet doctor: ${colour(r.status, MARK[r.status])} (${r.dataDir})`];
  for (const c of r.checks) {
    lines.push(`  ${colour(c.status, MARK[c.status].padEnd(8))}  ${c.name}: ${c.message}`);
    if (c.status !== 'ok' && c.remedy) lines.push(`            remedy: ${c.remedy}${c.fix ? ' (--fix does this)' : ''}`);
    if (c.status !== 'ok' && c.runbook) lines.push(`            runbook: ${c.runbook}`);
  }
  if (r.fixed.length) {
    lines.push('Fixed:');
    for (const f of r.fixed) lines.push(`  ${f.ok ? 'done' : 'FAILED'}  ${f.action}: ${f.message}`);
  }
  const fixable = r.checks.filter((c) => c.status !== 'ok' && c.fix);
  if (!r.fixed.length && fixable.length) lines.push(`Run "owlet doctor --fix" to ${fixable.map((c) => c.fix).join('; ')}.`);
  return lines;
}
