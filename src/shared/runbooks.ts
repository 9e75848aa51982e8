/**
 * Every alert and every health/doctor finding names its runbook: what it means, how to confirm it,
 * how to fix it and when to escalate. Paths are relative to the repository (and to the docs
 * folder shipped beside the app); a test checks that each rule id and finding id has one.
 */
export const RUNBOOK_ROOT = 'docs/operations/runbooks';

/** The runbook of an alert: one per rule id, and one per event alert (backup-budget, update-rolled-back, …). */
export function alertRunbook(rule: string): string {
  return `${RUNBOOK_ROOT}/alerts/${rule}.md`;
}

/** The runbook of a health check or doctor finding; `root:/home/me/Docs` and `breaker:pdf` share theirs by prefix. */
export function checkRunbook(checkId: string): string {
  return `${RUNBOOK_ROOT}/doctor/${checkId.split(':')[0]}.md`;
}
