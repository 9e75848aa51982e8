/**
 * JSON shapes of the health report (`GET /api/v1/health`, `owlet doctor --json`) and the colours
 * of each level, shared by the dashboard, the tray and the CLI so they always agree.
 */
export type HealthStatus = 'ok' | 'degraded' | 'failed';

/** Overall status colours (WCAG AA against white text and as text on white). */
export const HEALTH_COLOURS: Record<HealthStatus, string> = {
  ok: '#1a7f37',
  degraded: '#9a6700',
  failed: '#cf222e',
};

export const HEALTH_ORDER: Record<HealthStatus, number> = { ok: 0, degraded: 1, failed: 2 };

export interface HealthCheck {
  /** Stable id, e.g. "database", "disk", "root:/home/me/Documents", "breaker:pdf". */
  id: string;
  /** What is checked, for people. */
  name: string;
  status: HealthStatus;
  /** What was found, in words a person can act on. */
  message: string;
  /** What to do about it (absent when ok). */
  remedy?: string;
  /** Where its runbook is (docs/operations/runbooks/doctor/<id prefix>.md). */
  runbook?: string;
}

export interface HealthReport {
  status: HealthStatus;
  /** HEALTH_COLOURS[status], for the tray and the dashboard. */
  colour: string;
  checkedAt: string;
  checks: HealthCheck[];
}

export function worstStatus(statuses: Iterable<HealthStatus>): HealthStatus {
  let worst: HealthStatus = 'ok';
  for (const s of statuses) if (HEALTH_ORDER[s] > HEALTH_ORDER[worst]) worst = s;
  return worst;
}
