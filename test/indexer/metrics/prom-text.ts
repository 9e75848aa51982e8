/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), enough to prove that
 * /metrics is something a Prometheus server accepts: HELP/TYPE before samples, valid names and
 * labels, numeric values, one TYPE per family, histogram buckets cumulative and ending at +Inf.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function parseLabels(s: string, line: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < s.length) {
    const eq = s.indexOf('=', i);
    if (eq < 0) throw new Error(`bad labels in: ${line}`);
    const key = s.slice(i, eq).trim();
    if (!LABEL.test(key)) throw new Error(`bad label name "${key}" in: ${line}`);
    if (s[eq + 1] !== '"') throw new Error(`label value not quoted in: ${line}`);
    let j = eq + 2;
    let v = '';
    while (j < s.length && s[j] !== '"') {
      if (s[j] === '\\') {
        const n = s[j + 1];
        v += n === 'n' ? '\n' : n;
        j += 2;
      } else v += s[j++];
    }
    if (s[j] !== '"') throw new Error(`unterminated label value in: ${line}`);
    if (key in out) throw new Error(`duplicate label ${key} in: ${line}`);
    out[key] = v;
    i = j + 1;
    if (s[i] === ',') i++;
  }
  return out;
}

function parseValue(v: string, line: string): number {
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  // Prometheus parses values with Go's ParseFloat: NaN and Inf in any letter case.
  if (/^nan$/i.test(v)) return NaN;
  if (/^[+-]?inf$/i.test(v)) return v.startsWith('-') ? -Infinity : Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v)) throw new Error(`bad value "${v}" in: ${line}`);
  return Number(v);
}

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  let current: Family | null = null;
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# HELP ')) {
      const parts = line.split(' ');
      const n = parts[2]!;
      if (!NAME.test(n)) throw new Error(`bad metric name in: ${line}`);
      if (families.has(n)) throw new Error(`family ${n} appears twice`);
      current = { name: n, type: 'untyped', help: parts.slice(3).join(' '), samples: [] };
      families.set(n, current);
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const [, , n, type] = line.split(' ');
      if (!current || current.name !== n) throw new Error(`TYPE for ${n} without its HELP first`);
      if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type!)) throw new Error(`bad type in: ${line}`);
      current.type = type as Family['type'];
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( \d+)?$/.exec(line);
    if (!m) throw new Error(`bad sample line: ${line}`);
    const name = m[1]!;
    if (!current) throw new Error(`sample before any family: ${line}`);
    const base = current.name;
    const allowed = current.type === 'histogram' ? [`${base}_bucket`, `${base}_sum`, `${base}_count`] : current.type === 'summary' ? [base, `${base}_sum`, `${base}_count`] : [base];
    if (!allowed.includes(name)) throw new Error(`sample ${name} inside family ${base}`);
    current.samples.push({ name, labels: m[3] ? parseLabels(m[3], line) : {}, value: parseValue(m[4]!, line) });
  }
  for (const f of families.values()) {
    if (f.type === 'counter') for (const s of f.samples) if (!(s.value >= 0)) throw new Error(`counter ${f.name} is negative`);
    if (f.type === 'histogram') {
      const buckets = f.samples.filter((s) => s.name.endsWith('_bucket'));
      const byKey = new Map<string, Sample[]>();
      for (const b of buckets) {
        const { le, ...rest } = b.labels;
        if (le === undefined) throw new Error(`bucket without le in ${f.name}`);
        const k = JSON.stringify(rest);
        byKey.set(k, [...(byKey.get(k) ?? []), b]);
      }
      for (const bs of byKey.values()) {
        for (let i = 1; i < bs.length; i++) if (bs[i]!.value < bs[i - 1]!.value) throw new Error(`${f.name} buckets not cumulative`);
        if (bs[bs.length - 1]!.labels.le !== '+Inf') throw new Error(`${f.name} buckets do not end at +Inf`);
      }
    }
  }
  return families;
}

/** The value of one sample (by name and exact labels), or undefined. */
export function valueOf(fams: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const f of fams.values())
    for (const s of f.samples) if (s.name === name && Object.keys(labels).length === Object.keys(s.labels).length && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
  return undefined;
}
