import type { AvailabilityProber } from './probes.js';

/**
 * Which fault owns which failed probes, and how long each took to recover. A fault owns the failed
 * probes from its start until the service answered again (5 probes in a row); failures a previous
 * fault left running stay that fault's. A fault with no failed probe before the next one began cost
 * nothing: an outage that starts after the next fault began is the next fault's (a hang that froze
 * the service while the previous fault's last probes were in flight was once booked to it).
 */

export interface TimedFault {
  /** When the fault began and when its condition ended (ms since the epoch). */
  at: number;
  end: number;
  skipped?: boolean;
}

export interface Outage {
  /** From the end of the fault to the first of 5 answered probes in a row; null: never. */
  recoveryMs: number | null;
  failedProbes: number;
}

export function attributeOutages(faults: readonly TimedFault[], prober: Pick<AvailabilityProber, 'recoveredAt' | 'failuresBetween'>): (Outage | null)[] {
  let prevBack = 0;
  return faults.map((r, k) => {
    if (r.skipped) return null;
    const next = faults[k + 1]?.at ?? Number.MAX_SAFE_INTEGER;
    const from = Math.max(r.at, prevBack);
    if (prober.failuresBetween(from, Math.max(next, from)) === 0) {
      prevBack = from;
      return { recoveryMs: 0, failedProbes: 0 };
    }
    const failedDuring = prober.failuresBetween(from, Math.max(r.end, from) + 1);
    const back = prober.recoveredAt(Math.max(r.end, from));
    prevBack = back ?? next;
    const failedProbes = prober.failuresBetween(from, back ?? next);
    const recoveryMs = failedProbes === 0 && failedDuring === 0 ? 0 : back === null ? null : Math.max(0, back - r.end);
    return { recoveryMs, failedProbes };
  });
}
