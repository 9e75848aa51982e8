import type { HealthCheck, HealthReport } from '../../../shared/health.js';
import type { ServiceInfo } from '../../../shared/api.js';
import type { Config } from '../../config/schema.js';
import type { IndexContext } from '../../service/context.js';
import type { IntegrityRecord } from '../../store/metrics-db.js';
import type { SpaceProbe } from '../../resilience/disk-space.js';

export interface DoctorFinding extends HealthCheck {
  /** The safe automatic remedy `--fix` would apply, in words. */
  fix?: string;
}

export interface DoctorAction {
  check: string;
  /** What was done, in words. */
  action: string;
  ok: boolean;
  message: string;
}

export interface DoctorReport extends HealthReport {
  dataDir: string;
  checks: DoctorFinding[];
  /** Remedies applied by --fix (empty without it). */
  fixed: DoctorAction[];
  service: { running: boolean; url?: string; pid?: number };
}

export interface DoctorDeps {
  now?: () => number;
  space?: SpaceProbe;
  /** Rescans roots when no service runs; default: a one-shot indexing pass in this process. */
  rescan?: (dataDir: string, roots: string[]) => Promise<void>;
  fetch?: typeof fetch;
  uid?: number | null;
  /** The machine-wide update policy file (default: the platform's, e.g. /etc/owlet/policy.json). */
  policyFile?: string;
  /** The checks to run, in order (default: DOCTOR_CHECKS). */
  checks?: readonly DoctorCheck[];
}

export type ResolvedDoctorDeps = Required<Pick<DoctorDeps, 'now' | 'space' | 'fetch'>> & DoctorDeps;

/**
 * What one inspection knows, filled in by the checks in list order: a check reads only what the
 * checks before it wrote (the configuration once loaded, whether the index opened, the service).
 */
export interface DoctorContext {
  readonly dataDir: string;
  readonly deps: ResolvedDoctorDeps;
  /** One clock reading for the whole inspection. */
  readonly now: number;
  /** The findings so far, in order (the live-service check skips what the doctor saw itself). */
  readonly findings: readonly DoctorFinding[];
  /** Set when nothing more can be checked (no data directory): the run stops after that check. */
  stop: boolean;
  /** The configuration, once loaded and valid. */
  config: Config | null;
  /** service.json (trusted only in a private data folder), whether its process lives, and its own health report when it answered. */
  service: { info: ServiceInfo | null; running: boolean; live: HealthReport | null };
  /** The index, opened read-only by the database check; the runner closes it after the last check. */
  index: IndexContext | null;
  /** The index key when the index opened (undefined: it was not opened). */
  indexKey: Buffer | null | undefined;
  /** The integrity verdict recorded for the service (integrity and fts checks write it). */
  integrity: { record: IntegrityRecord & { by: 'doctor' }; ftsDamage: boolean } | null;
  /** Free space on the data volume, once measured (null: it could not be). */
  space: { free: number; total: number } | null;
}

/**
 * How a check applies the remedies its findings offer (a finding offers one with `fix`, in words,
 * and a status other than ok):
 *   each     — one action per such finding, reported under the finding's id;
 *   together — one action for all of them (one rescan of every folder that needs it).
 */
export type DoctorFix =
  | { each(finding: DoctorFinding, ctx: DoctorContext): Promise<string> }
  | { together(findings: DoctorFinding[], ctx: DoctorContext): { check: string; action: string; run(): Promise<string> } };

/** One thing `owlet doctor` looks at. */
export interface DoctorCheck {
  readonly id: string;
  inspect(ctx: DoctorContext): DoctorFinding[] | Promise<DoctorFinding[]>;
  fix?: DoctorFix;
}
