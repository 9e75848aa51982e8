/**
 * Which extensions have an extractor, as plain data. The indexer process imports this (to decide
 * what to queue) without loading any parser; registry.ts binds the same names to the extractors.
 */
export type ExtractorName = 'text' | 'html' | 'pdf' | 'docx' | 'odt' | 'pptx' | 'xlsx' | 'epub' | 'rtf' | 'eml';

export const FORMATS: Readonly<Record<ExtractorName, readonly string[]>> = {
  text: [
    // prose and data
    'txt', 'text', 'md', 'markdown', 'mdown', 'mkd', 'rst', 'adoc', 'asciidoc', 'org', 'tex', 'bib',
    'csv', 'tsv', 'json', 'jsonl', 'ndjson', 'log', 'xml', 'yaml', 'yml', 'ini', 'cfg', 'conf', 'toml',
    'properties', 'srt', 'vtt',
    // source code
    'ts', 'tsx', 'mts', 'cts', 'js', 'jsx', 'mjs', 'cjs', 'py', 'pyi', 'c', 'h', 'cpp', 'cc', 'cxx',
    'hpp', 'hh', 'hxx', 'java', 'kt', 'kts', 'scala', 'go', 'rs', 'rb', 'php', 'pl', 'pm', 'lua', 'r',
    'swift', 'cs', 'fs', 'vb', 'dart', 'ex', 'exs', 'erl', 'hs', 'ml', 'clj', 'el', 'vim', 'zig', 'nim',
    'sh', 'bash', 'zsh', 'fish', 'ps1', 'bat', 'cmd', 'css', 'scss', 'sass', 'less', 'sql', 'graphql',
    'proto', 'vue', 'svelte', 'gradle', 'cmake', 'mk', 'tf', 'hcl', 'nix', 'diff', 'patch',
  ],
  html: ['html', 'htm', 'xhtml'],
  pdf: ['pdf'],
  // macro-enabled and template variants share the layout of the main format
  docx: ['docx', 'docm', 'dotx', 'dotm'],
  odt: ['odt', 'ott', 'ods', 'odp'],
  pptx: ['pptx', 'pptm', 'potx', 'ppsx'],
  xlsx: ['xlsx', 'xlsm', 'xltx'],
  epub: ['epub'],
  rtf: ['rtf'],
  eml: ['eml'],
};

const BY_EXT = new Map<string, ExtractorName>();
for (const [name, exts] of Object.entries(FORMATS) as Array<[ExtractorName, readonly string[]]>) {
  for (const ext of exts) BY_EXT.set(ext, name);
}

/** Normalises '.PDF' / 'PDF' / 'pdf' to 'pdf'. */
export function normalizeExt(ext: string): string {
  return ext.toLowerCase().replace(/^\./, '');
}

export function formatOf(ext: string): ExtractorName | undefined {
  return BY_EXT.get(normalizeExt(ext));
}

export function isSupported(ext: string): boolean {
  return formatOf(ext) !== undefined;
}

export function supportedExtensions(): string[] {
  return [...BY_EXT.keys()].sort();
}
