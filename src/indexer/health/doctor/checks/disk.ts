import { checkDisk, type HealthInputs } from '../../checks.js';
import type { DoctorCheck } from '../types.js';

/** The doctor's view as the service's health inputs: only the clock and free space are known here. */
export function snapshotOf(now: number, space: { free: number; total: number } | null): HealthInputs {
  return { now, space, diskFullMessage: null, backup: undefined } as unknown as HealthInputs;
}

/** Disk space on the data volume, with the same thresholds as the service's health report. */
export const diskCheck: DoctorCheck = {
  id: 'disk',
  async inspect(ctx) {
    try {
      ctx.space = await ctx.deps.space(ctx.dataDir);
    } catch {
      ctx.space = null;
    }
    return [checkDisk(snapshotOf(ctx.now, ctx.space))];
  },
};
