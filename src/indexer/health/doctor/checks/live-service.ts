import type { DoctorCheck } from '../types.js';

/**
 * What only the running service knows (watcher, extractor pool, breakers, restarts, backups), from
 * its own health report: every check the doctor did not make itself. The database and integrity
 * verdicts are the doctor's own, made just now.
 */
export const liveServiceCheck: DoctorCheck = {
  id: 'live-service',
  inspect(ctx) {
    const live = ctx.service.live;
    if (!live) return [];
    const have = new Set(ctx.findings.map((f) => f.id));
    return live.checks.filter((c) => !have.has(c.id) && c.id !== 'database' && c.id !== 'integrity').map((c) => ({ ...c, name: `${c.name} (service)` }));
  },
};
