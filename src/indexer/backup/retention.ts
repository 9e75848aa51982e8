import type { Manifest } from './manifest.js';
import { compareNewestFirst, isVerified } from './manifest.js';

export interface RetentionPolicy {
  daily: number;
  weekly: number;
}

/** UTC calendar day, e.g. 2026-11-29. */
export function dayKey(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** ISO 8601 week (UTC), e.g. 2026-W48: weeks start on Monday and week 1 holds the year's first Thursday. */
export function weekKey(ms: number): string {
  const d = new Date(ms);
  const day = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const dow = day.getUTCDay() || 7;
  day.setUTCDate(day.getUTCDate() + 4 - dow); // the Thursday of this week decides the year
  const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((day.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${day.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

export interface RetentionPlan {
  keep: string[];
  remove: string[];
}

/**
 * Which backups to keep: walking from the newest, the newest verified backup of each of the last
 * `daily` days that have one, and of each of the last `weekly` ISO weeks that have one (a backup
 * may count for both). Backups that failed or never finished verification are removed, except
 * while they are the newest backup of all (verification may still be running). The newest
 * verified backup is always kept.
 */
export function planRetention(manifests: readonly Pick<Manifest, 'id' | 'createdAt' | 'verification'>[], policy: RetentionPolicy): RetentionPlan {
  const sorted = [...manifests].sort(compareNewestFirst);
  const keep = new Set<string>();
  const days = new Set<string>();
  const weeks = new Set<string>();
  let newestVerified: string | null = null;
  for (const m of sorted) {
    if (!isVerified(m as Manifest)) continue;
    newestVerified ??= m.id;
    const t = Date.parse(m.createdAt);
    const d = dayKey(t);
    const w = weekKey(t);
    if (!days.has(d) && days.size < policy.daily) {
      days.add(d);
      keep.add(m.id);
    }
    if (!weeks.has(w) && weeks.size < policy.weekly) {
      weeks.add(w);
      keep.add(m.id);
    }
  }
  if (newestVerified) keep.add(newestVerified);
  // An unverified backup newer than every verified one may be one whose verification is running.
  const newest = sorted[0];
  if (newest && newest.verification === null) keep.add(newest.id);
  return {
    keep: sorted.filter((m) => keep.has(m.id)).map((m) => m.id),
    remove: sorted.filter((m) => !keep.has(m.id)).map((m) => m.id),
  };
}
