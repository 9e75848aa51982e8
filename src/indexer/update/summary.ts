import type { UpdateSummary } from '../../shared/api.js';
import { VERSION } from '../version.js';
import { detectInstallation } from './layout.js';
import { readState } from './state.js';

/**
 * The update state for /api/v1/status, read from the installation this process runs from (the
 * state file the supervisor's update engine writes). A service not started from an installation
 * prefix (a source checkout) says so: updates are off there.
 */
export function updateSummary(binFile: string): UpdateSummary {
  const inst = detectInstallation(binFile);
  if (!inst) return { running: VERSION, installed: false, pending: null, lastResult: null, bad: [] };
  let s;
  try {
    s = readState(inst.layout.prefix);
  } catch {
    // A damaged state file is the update engine's to report (owlet update status); status stays up.
    return { running: inst.version, installed: true, pending: null, lastResult: null, bad: [] };
  }
  const r = s.lastResult as Record<string, unknown> | null;
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  return {
    running: inst.version,
    installed: true,
    pending: s.pending ? { version: s.pending.version, phase: s.pending.phase } : null,
    lastResult: r ? { outcome: str(r.outcome) ?? 'unknown', to: str(r.to) ?? str(r.version), at: str(r.at), message: str(r.message) } : null,
    bad: s.bad.map((b) => b.version),
  };
}
