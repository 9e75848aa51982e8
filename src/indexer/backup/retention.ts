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

export type RetentionInput = Pick<Manifest, 'id' | 'createdAt' | 'verification'> & Partial<Pick<Manifest, 'reason' | 'size' | 'kind' | 'parentId'>>;

export interface RetentionOptions {
  /** The storage budget in bytes (null: none). */
  maxBytes?: number | null;
  /** Protected backups (manual, pre-update, pre-migration) whose removal was announced earlier. */
  announced?: ReadonlySet<string>;
}

export interface RetentionPlan {
  keep: string[];
  remove: string[];
  /** Protected backups that a newer verified backup now covers: removed at the next pruning. */
  announce: string[];
  /** Restore points kept for a daily and a weekly slot (a point may fill both). */
  daily: number;
  weekly: number;
  /** Bytes of what is kept. */
  bytes: number;
  /** Restore points the policy asks for and the backups on disk could give. */
  pointsWanted: number;
  /** Restore points kept. */
  pointsKept: number;
  /** The budget removed restore points the policy would have kept. */
  budgetLimited: boolean;
}

const PROTECTED = new Set(['manual', 'pre-update', 'pre-migration']);

/**
 * Which backups to keep. A restore point is a verified backup whose chain (its full backup and
 * the increments up to it) is all here. Walking from the newest: the newest point of each of the
 * last `daily` days and of each of the last `weekly` ISO weeks. Also kept:
 * - the newest verified point, always, and an unverified newest backup (verification may be running);
 * - a manual, pre-update or pre-migration backup until a newer verified point exists AND its
 *   removal has been announced (`announce` lists it the first time; it goes the time after);
 * - every backup a kept point's chain needs: retention never breaks a chain.
 * Then the budget: while what is kept passes `maxBytes`, the oldest kept point goes (never the newest).
 * Unverified (failed) backups that no kept point needs are removed.
 */
export function planRetention(manifests: readonly RetentionInput[], policy: RetentionPolicy, opts: RetentionOptions = {}): RetentionPlan {
  const sorted = [...manifests].sort(compareNewestFirst);
  const byId = new Map(sorted.map((m) => [m.id, m]));
  const chainOf = (m: RetentionInput): string[] | null => {
    const ids: string[] = [];
    let cur: RetentionInput | undefined = m;
    for (let guard = 0; cur && guard < 1000; guard++) {
      ids.push(cur.id);
      if ((cur.kind ?? 'full') === 'full') return ids;
      cur = cur.parentId ? byId.get(cur.parentId) : undefined;
    }
    return null;
  };
  const points = sorted.filter((m) => isVerified(m) && chainOf(m) !== null);
  const newestPoint = points[0]?.id ?? null;
  const slots = new Set<string>();
  const daySlots = new Set<string>();
  const weekSlots = new Set<string>();
  const days = new Set<string>();
  const weeks = new Set<string>();
  for (const m of points) {
    const t = Date.parse(m.createdAt);
    const d = dayKey(t);
    const w = weekKey(t);
    if (!days.has(d) && days.size < policy.daily) {
      days.add(d);
      slots.add(m.id);
      daySlots.add(m.id);
    }
    if (!weeks.has(w) && weeks.size < policy.weekly) {
      weeks.add(w);
      slots.add(m.id);
      weekSlots.add(m.id);
    }
  }
  const pointsWanted = slots.size;
  const announce: string[] = [];
  const extra = new Set<string>();
  if (newestPoint) extra.add(newestPoint);
  for (const m of sorted) {
    if (!PROTECTED.has(m.reason ?? 'scheduled') || slots.has(m.id)) continue;
    const newer = points.some((p) => compareNewestFirst(p, m) < 0);
    if (!newer) extra.add(m.id);
    else if (!opts.announced?.has(m.id)) {
      extra.add(m.id);
      announce.push(m.id);
    }
  }
  const newest = sorted[0];
  if (newest && newest.verification === null) extra.add(newest.id);
  const closure = (ids: Iterable<string>): Set<string> => {
    const out = new Set<string>();
    for (const id of ids) {
      const m = byId.get(id);
      for (const c of (m && chainOf(m)) ?? [id]) out.add(c);
    }
    return out;
  };
  const sizeOf = (ids: Set<string>) => [...ids].reduce((n, id) => n + (byId.get(id)?.size ?? 0), 0);
  let keptSlots = [...slots];
  let keep = closure([...keptSlots, ...extra]);
  let budgetLimited = false;
  if (opts.maxBytes != null) {
    // Oldest first; the newest point (in `extra`) is never a candidate.
    const droppable = [...new Set([...keptSlots, ...extra])].filter((id) => id !== newestPoint && !(newest?.verification === null && id === newest.id)).sort((a, b) => compareNewestFirst(byId.get(b)!, byId.get(a)!));
    while (sizeOf(keep) > opts.maxBytes && droppable.length > 0) {
      const drop = droppable.shift()!;
      keptSlots = keptSlots.filter((id) => id !== drop);
      extra.delete(drop);
      keep = closure([...keptSlots, ...extra]);
      budgetLimited = true;
    }
  }
  const keptPoints = new Set(keptSlots);
  if (newestPoint) keptPoints.add(newestPoint);
  return {
    keep: sorted.filter((m) => keep.has(m.id)).map((m) => m.id),
    remove: sorted.filter((m) => !keep.has(m.id)).map((m) => m.id),
    announce: announce.filter((id) => keep.has(id)),
    daily: keptSlots.filter((id) => daySlots.has(id)).length,
    weekly: keptSlots.filter((id) => weekSlots.has(id)).length,
    bytes: sizeOf(keep),
    pointsWanted,
    pointsKept: keptPoints.size,
    budgetLimited,
  };
}

/** "kept 7 daily, 4 weekly, removed 2" */
export function describePlan(p: Pick<RetentionPlan, 'daily' | 'weekly' | 'remove'>): string {
  return `kept ${p.daily} daily, ${p.weekly} weekly, removed ${p.remove.length}`;
}
