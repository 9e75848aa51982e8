/**
 * Which extensions have an extractor, as plain data. The indexer process imports this (to decide
 * what to queue) without loading any parser; registry.ts binds the same names to the extractors.
 */
export type ExtractorName = 'text' | 'html' | 'pdf' | 'docx' | 'odt' | 'pptx' | 'xlsx' | 'epub' | 'rtf' | 'eml' | 'sniff';

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
  // No extension of its own: files without an extension (README, COPYING, Makefile) and with one
  // no extractor knows (README.Debian, foo.rules, notes.1) are sniffed: text is indexed as text.
  sniff: [],
};

/**
 * Extensions of binary formats: never sniffed (reading a video to find it is not text is waste).
 * Anything else without an extractor is sniffed.
 */
const BINARY: ReadonlySet<string> = new Set([
  // images
  'jpg', 'jpeg', 'png', 'gif', 'bmp', 'tif', 'tiff', 'webp', 'ico', 'icns', 'heic', 'heif', 'avif', 'psd', 'xcf', 'raw', 'cr2', 'nef', 'dng', 'arw', 'svgz',
  // audio and video
  'mp3', 'mp4', 'm4a', 'm4v', 'aac', 'ogg', 'oga', 'ogv', 'opus', 'flac', 'wav', 'wma', 'wmv', 'avi', 'mkv', 'mov', 'webm', 'mpg', 'mpeg', 'flv', '3gp', 'mid', 'midi',
  // archives and disk images
  'zip', 'gz', 'tgz', 'bz2', 'tbz2', 'xz', 'txz', 'zst', 'lz', 'lz4', 'lzma', '7z', 'rar', 'tar', 'cab', 'arj', 'iso', 'img', 'dmg', 'vmdk', 'vdi', 'qcow2', 'vhd', 'vhdx', 'deb', 'rpm', 'apk', 'msi', 'pkg', 'snap', 'appimage', 'jar', 'war', 'ear', 'whl', 'egg', 'crx', 'xpi',
  // executables, libraries, objects
  'exe', 'dll', 'so', 'dylib', 'a', 'lib', 'o', 'obj', 'ko', 'sys', 'bin', 'elf', 'class', 'pyc', 'pyo', 'wasm', 'node', 'dex', 'beam',
  // fonts
  'ttf', 'otf', 'woff', 'woff2', 'eot', 'pfb',
  // databases and other binary containers
  'db', 'sqlite', 'sqlite3', 'mdb', 'accdb', 'dbf', 'pst', 'ost', 'kdbx', 'gpg', 'pgp', 'p12', 'pfx', 'der', 'keystore', 'npy', 'npz', 'pkl', 'pickle', 'h5', 'hdf5', 'parquet', 'avro', 'orc', 'pb', 'onnx', 'pt', 'ckpt', 'safetensors',
  // legacy office (binary OLE: no extractor) and others
  'doc', 'xls', 'ppt', 'msg', 'pub', 'vsd', 'one', 'dwg', 'blend', 'fbx', 'stl', 'glb', 'swf', 'fla', 'sketch', 'fig',
]);

const BY_EXT = new Map<string, ExtractorName>();
for (const [name, exts] of Object.entries(FORMATS) as Array<[ExtractorName, readonly string[]]>) {
  for (const ext of exts) BY_EXT.set(ext, name);
}

/** Normalises '.PDF' / 'PDF' / 'pdf' to 'pdf'. */
export function normalizeExt(ext: string): string {
  return ext.toLowerCase().replace(/^\./, '');
}

export function formatOf(ext: string): ExtractorName | undefined {
  const e = normalizeExt(ext);
  return BY_EXT.get(e) ?? (BINARY.has(e) ? undefined : 'sniff');
}

export function isSupported(ext: string): boolean {
  return formatOf(ext) !== undefined;
}

export function supportedExtensions(): string[] {
  return [...BY_EXT.keys()].sort();
}
