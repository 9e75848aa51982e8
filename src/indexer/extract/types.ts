/** Shapes shared by the extractors (run inside worker processes) and the pool (runs in the indexer). */

export interface ExtractLimits {
  /** Extracted text is cut at this many UTF-8 bytes (silently: the rest is not indexed). */
  maxTextBytes: number;
  /** Bytes inflated from one zip-based document at most (zip-bomb guard). */
  maxUnzipBytes: number;
  /** PDF pages read at most. */
  pdfMaxPages: number;
}

export interface Extracted {
  title: string | null;
  text: string;
  /** Name of the extractor that produced the text, e.g. 'pdf', 'docx'. */
  extractor: string;
  /** The language the document declares (html `lang`, `xml:lang`, docx/odt language), as written; null when none. */
  lang?: string | null;
}

export interface ExtractContext {
  /** For messages only; extractors never open files themselves. */
  path: string;
  /** Lower-case extension without the dot. */
  ext: string;
  limits: ExtractLimits;
}

export type ExtractFn = (data: Uint8Array, ctx: ExtractContext) => Promise<Extracted>;

export type FailureReason =
  | 'timeout'
  | 'memory'
  | 'crash'
  | 'parse-error'
  | 'too-large'
  | 'unsupported'
  /** Content sniffed as binary (not text in a known encoding): skipped until it changes. */
  | 'binary'
  | 'io-error';
