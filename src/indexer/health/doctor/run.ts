import { HEALTH_COLOURS, worstStatus, type HealthStatus } from '../../../shared/health.js';
import { errnoCode } from '../../../shared/errors.js';
import { statfsProbe } from '../../resilience/disk-space.js';
import { withRunbooks } from '../report.js';
import { DOCTOR_CHECKS } from './checks/index.js';
import type { DoctorAction, DoctorCheck, DoctorContext, DoctorDeps, DoctorFinding, DoctorReport, ResolvedDoctorDeps } from './types.js';

/** A remedy found by one inspection, applied by --fix. */
interface PlannedFix {
  check: string;
  action: string;
  run: () => Promise<string>;
}

interface Inspection {
  findings: DoctorFinding[];
  fixes: PlannedFix[];
  service: DoctorReport['service'];
}

/** The remedies a check offers for its findings (those with a `fix` that are not ok), in finding order. */
function fixesOf(check: DoctorCheck, findings: DoctorFinding[], ctx: DoctorContext): PlannedFix[] {
  const fix = check.fix;
  if (!fix) return [];
  const fixable = findings.filter((f) => f.fix && f.status !== 'ok');
  if ('each' in fix) return fixable.map((f) => ({ check: f.id, action: f.fix!, run: () => fix.each(f, ctx) }));
  return fixable.length ? [fix.together(fixable, ctx)] : [];
}

/** Runs the checks in order over one shared context. */
async function inspect(dataDir: string, deps: ResolvedDoctorDeps): Promise<Inspection> {
  const findings: DoctorFinding[] = [];
  const fixes: PlannedFix[] = [];
  const ctx: DoctorContext = { dataDir, deps, now: deps.now(), findings, stop: false, config: null, service: { info: null, running: false, live: null }, index: null, indexKey: undefined, integrity: null, space: null };
  try {
    for (const check of deps.checks ?? DOCTOR_CHECKS) {
      const found = await check.inspect(ctx);
      findings.push(...found);
      fixes.push(...fixesOf(check, found, ctx));
      if (ctx.stop) break;
    }
  } finally {
    ctx.index?.close();
  }
  const { running, info } = ctx.service;
  return { findings, fixes, service: running && info ? { running: true, url: info.url, pid: info.pid } : { running: false } };
}

/**
 * `owlet doctor`: every check in DOCTOR_CHECKS (or `deps.checks`), in order; with `fix`, the remedies that cannot lose data are
 * applied in the order they were found and everything is checked again, so the report shows the
 * state after the fixes.
 */
export async function runDoctor(dataDir: string, opts: { fix: boolean }, deps: DoctorDeps = {}): Promise<DoctorReport> {
  const d: ResolvedDoctorDeps = { ...deps, now: deps.now ?? Date.now, space: deps.space ?? statfsProbe, fetch: deps.fetch ?? globalThis.fetch };
  let result = await inspect(dataDir, d);
  const fixed: DoctorAction[] = [];
  if (opts.fix && result.fixes.length) {
    // One rebuild is enough even if two checks asked for it.
    const done = new Set<string>();
    for (const f of result.fixes) {
      if (done.has(f.action)) continue;
      done.add(f.action);
      try {
        fixed.push({ check: f.check, action: f.action, ok: true, message: await f.run() });
      } catch (e) {
        fixed.push({ check: f.check, action: f.action, ok: false, message: errnoCode(e) ? `${errnoCode(e)}: ${(e as Error).message}` : (e as Error).message });
      }
    }
    result = await inspect(dataDir, d);
  }
  const status: HealthStatus = worstStatus(result.findings.map((f) => f.status));
  return { status, colour: HEALTH_COLOURS[status], checkedAt: new Date(d.now()).toISOString(), dataDir, checks: withRunbooks(result.findings), fixed, service: result.service };
}
