import type { AlertRule, Comparison, Severity } from '../config/monitoring-settings.js';
import type { Signals } from '../../shared/signals.js';

export type { AlertRule, Comparison, Severity };

export function compare(value: number, op: Comparison, threshold: number): boolean {
  switch (op) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '==':
      return value === threshold;
    case '!=':
      return value !== threshold;
  }
}

/** The rule's value in these signals, and whether its condition holds. No value never alerts. */
export function evaluateRule(rule: AlertRule, signals: Signals): { value: number | null; holds: boolean } {
  const v = signals[rule.metric];
  if (v === undefined || !Number.isFinite(v)) return { value: null, holds: false };
  return { value: v, holds: compare(v, rule.op, rule.threshold) };
}

/** One level up, for escalation; critical stays critical. */
export function raise(s: Severity): Severity {
  return s === 'info' ? 'warning' : 'critical';
}

export function describeRule(r: AlertRule): string {
  return `${r.metric} ${r.op} ${r.threshold}${r.forSeconds ? ` for ${r.forSeconds} s` : ''}`;
}
