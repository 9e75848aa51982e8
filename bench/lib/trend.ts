/**
 * Does a resource series level off, or keep growing (a leak)? The first third is warm-up (caches
 * fill, the heap finds its size). Over the rest, a least-squares slope is fitted; the series is
 * "growing" when that slope would add more than `tolerance` of the series' level per hour AND the
 * last third sits clearly above the middle third (a real rise, not noise around a plateau).
 */
export interface Trend {
  first: number;
  last: number;
  slopePerHour: number;
  growing: boolean;
}

export function slope(ys: readonly number[], stepMinutes = 1): number {
  const n = ys.length;
  if (n < 2) return 0;
  const mx = (n - 1) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  ys.forEach((y, i) => {
    num += (i - mx) * (y - my);
    den += (i - mx) ** 2;
  });
  return (num / den) * (60 / stepMinutes);
}

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

export function trend(raw: readonly number[], tolerance = 0.1): Trend {
  const ys = raw.filter((y) => Number.isFinite(y));
  const third = Math.max(1, Math.floor(ys.length / 3));
  const rest = ys.slice(third);
  const s = slope(rest);
  const middle = mean(ys.slice(third, 2 * third));
  const lastThird = mean(ys.slice(2 * third));
  const level = Math.max(mean(rest), 1e-9);
  const growing = rest.length >= 3 && s > tolerance * level && lastThird > middle * (1 + tolerance / 2) + 1e-9;
  return { first: ys[0] ?? NaN, last: ys[ys.length - 1] ?? NaN, slopePerHour: s, growing };
}
