/**
 * Renders docs/operations/configuration.md from the zod schemas, so the reference cannot drift:
 * keys, types, defaults and limits come from the schema itself; the one-line meanings come from the
 * `/** … *\/` comment above each key in the schema sources, or from docs/operations/config-notes.json
 * where a key has no comment (or one shared by several keys). test/docs/config-reference.test.ts
 * fails when the committed document differs from what this renders, or a key has no meaning.
 *
 *   node --import tsx scripts/config-reference.ts          # rewrite the document
 *   node --import tsx scripts/config-reference.ts --check  # exit 1 if it is stale
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigSchema } from '../src/indexer/config/schema.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
export const REFERENCE_FILE = path.join(root, 'docs/operations/configuration.md');
const NOTES_FILE = path.join(root, 'docs/operations/config-notes.json');

/** The schemas documented, each with the sources whose comments describe its keys. */
export const DOCUMENTED: { title: string; file: string; schema: z.ZodType; sources: string[] }[] = [
  {
    title: 'config.json (per user, in the data folder)',
    file: 'config.json',
    schema: ConfigSchema,
    sources: ['src/indexer/config/schema.ts', 'src/indexer/config/monitoring-settings.ts', 'src/indexer/config/security-settings.ts', 'src/indexer/config/backup-settings.ts'],
  },
];

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxItems?: number;
  pattern?: string;
  anyOf?: JsonSchema[];
}

export interface Row {
  key: string;
  type: string;
  default: string;
  limits: string;
  meaning: string | null;
}

/** `/** text *\/ key:` comments in the sources, by key name; a name commented twice is ambiguous. */
function commentsByKey(sources: string[]): Map<string, string | null> {
  const m = new Map<string, string | null>();
  for (const rel of sources) {
    const text = fs.readFileSync(path.join(root, rel), 'utf8');
    for (const hit of text.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*\n\s*([A-Za-z][A-Za-z0-9]*)\s*:/g)) {
      const body = hit[1]!
        .split('\n')
        .map((l) => l.replace(/^\s*\*\s?/, '').trim())
        .join(' ')
        .replace(/\s+/g, ' ')
        .trim();
      const key = hit[2]!;
      m.set(key, m.has(key) && m.get(key) !== body ? null : body);
    }
  }
  return m;
}

function typeOf(s: JsonSchema): string {
  if (s.const !== undefined) return `always ${JSON.stringify(s.const)}`;
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  if (s.anyOf) return s.anyOf.map(typeOf).join(' or ');
  const t = Array.isArray(s.type) ? s.type.join(' or ') : (s.type ?? 'any');
  if (t === 'array') return `list of ${s.items ? (s.items.type === 'object' ? 'objects' : typeOf(s.items)) : 'values'}`;
  return t;
}

function limitsOf(s: JsonSchema): string {
  const out: string[] = [];
  if (s.minimum !== undefined) out.push(`≥ ${s.minimum}`);
  if (s.exclusiveMinimum !== undefined) out.push(`> ${s.exclusiveMinimum}`);
  if (s.maximum !== undefined) out.push(`≤ ${s.maximum}`);
  if (s.minLength) out.push('not empty');
  if (s.maxItems !== undefined) out.push(`at most ${s.maxItems} items`);
  if (s.pattern) out.push(`matches \`${s.pattern}\``);
  if (s.items) {
    const inner = limitsOf(s.items);
    if (inner) out.push(`each ${inner}`);
  }
  return out.join(', ');
}

const cell = (v: unknown): string => {
  const s = v === undefined ? '' : JSON.stringify(v);
  return s.length > 90 ? `\`${s.slice(0, 87)}…\`` : s ? `\`${s}\`` : '';
};

export function rows(schema: z.ZodType, sources: string[], notes: Record<string, string>): Row[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const comments = commentsByKey(sources);
  const out: Row[] = [];
  // A comment names a key, not a path: use it only for a name that occurs once in the tree.
  const names = new Map<string, number>();
  const count = (s: JsonSchema) => {
    for (const [name, p] of Object.entries(s.properties ?? {})) {
      names.set(name, (names.get(name) ?? 0) + 1);
      if (p.type === 'object' && p.properties) count(p);
    }
  };
  count(json);
  const walk = (s: JsonSchema, prefix: string) => {
    for (const [name, p] of Object.entries(s.properties ?? {})) {
      const key = prefix ? `${prefix}.${name}` : name;
      if (p.type === 'object' && p.properties) {
        walk(p, key);
        continue;
      }
      out.push({ key, type: typeOf(p), default: cell(p.default), limits: limitsOf(p), meaning: notes[key] ?? (names.get(name) === 1 ? comments.get(name) : null) ?? null });
    }
  };
  walk(json, '');
  return out;
}

export function loadNotes(): Record<string, string> {
  return JSON.parse(fs.readFileSync(NOTES_FILE, 'utf8')) as Record<string, string>;
}

export function render(): string {
  const notes = loadNotes();
  const parts = [
    '# Configuration reference',
    '',
    '<!-- Generated by scripts/config-reference.ts from the zod schemas; do not edit by hand.',
    '     Meanings: the comments in the schema sources, or docs/operations/config-notes.json. -->',
    '',
    'Unknown keys are refused (a typo is an error that names the key, exit code 78), every value is',
    'checked against its limits when the file is loaded, and a key left out takes its default. Edit',
    'the file with the service stopped, or change settings from the dashboard. A damaged file does',
    'not stop a running installation: the service restores the last good configuration, keeps the',
    'damaged file beside it as `config.json.broken-<time>` and raises the `config-restored` alert.',
    '',
  ];
  for (const d of DOCUMENTED) {
    parts.push(`## ${d.title}`, '', '| key | type | default | limits | meaning |', '| --- | --- | --- | --- | --- |');
    for (const r of rows(d.schema, d.sources, notes)) parts.push(`| \`${r.key}\` | ${r.type} | ${r.default} | ${r.limits} | ${(r.meaning ?? '**undocumented**').replace(/\|/g, '\\|')} |`);
    parts.push('');
  }
  return parts.join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const text = render();
  if (process.argv.includes('--check')) {
    const now = fs.existsSync(REFERENCE_FILE) ? fs.readFileSync(REFERENCE_FILE, 'utf8') : '';
    if (now !== text) {
      console.error(`${path.relative(root, REFERENCE_FILE)} is stale: run "npm run docs:config"`);
      process.exit(1);
    }
  } else {
    fs.writeFileSync(REFERENCE_FILE, text);
    console.log(`wrote ${path.relative(root, REFERENCE_FILE)}`);
  }
}
