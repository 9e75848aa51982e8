import { Inflate } from 'fflate';
import { decodeText } from './decode.js';
import { parseError, tooLarge, unsupported } from './fail.js';
import { OwletError } from '../../shared/errors.js';

/**
 * A bounded reader for zip-based documents (docx, odt, epub, ...). It reads the central directory
 * itself and inflates only the entries asked for, in small slices, counting every inflated byte:
 * a zip bomb can lie in its headers, so the declared sizes are checked up front AND enforced while
 * inflating. All reads of one document share one budget (`maxUnzipBytes`).
 */

interface Entry {
  name: string;
  flags: number;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/** Deflate cannot exceed ~1032:1; a header claiming more is lying or not deflate. */
const MAX_RATIO = 1100;
/** Compressed bytes pushed per step: bounds one step's output to ~8 MiB even for a bomb. */
const SLICE = 8 * 1024;
const MAX_ENTRIES = 200_000;

export class BoundedZip {
  private readonly entries = new Map<string, Entry>();
  private readonly lowerNames = new Map<string, string>();
  private inflated = 0;

  private constructor(
    private readonly data: Uint8Array,
    private readonly budget: number,
    private readonly what: string,
  ) {}

  /** Parses the central directory; throws parse-error / unsupported for non-zips. */
  static open(data: Uint8Array, maxUnzipBytes: number, what: string): BoundedZip {
    const zip = new BoundedZip(data, maxUnzipBytes, what);
    zip.readDirectory();
    return zip;
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  /** Exact name, else a case-insensitive match (epub hrefs are often sloppy). */
  resolve(name: string): string | undefined {
    if (this.entries.has(name)) return name;
    return this.lowerNames.get(name.toLowerCase());
  }

  has(name: string): boolean {
    return this.resolve(name) !== undefined;
  }

  get inflatedBytes(): number {
    return this.inflated;
  }

  /** Inflates one entry within the remaining budget; undefined if there is no such entry. */
  read(name: string): Uint8Array | undefined {
    const key = this.resolve(name);
    const e = key === undefined ? undefined : this.entries.get(key);
    if (!e) return undefined;
    if (e.flags & 1) throw unsupported(`the ${this.what} is encrypted (password-protected zip entries)`);
    const remaining = this.budget - this.inflated;
    if (e.size > remaining) {
      throw tooLarge(`the ${this.what} would inflate to more than the configured limit (${mb(this.budget)} MB); refusing a possible zip bomb`);
    }
    if (e.compressedSize > 0 && e.size > 1024 * 1024 && e.size / e.compressedSize > MAX_RATIO) {
      throw tooLarge(`the ${this.what} contains an entry with an impossible compression ratio; refusing a possible zip bomb`);
    }
    const raw = this.rawData(e);
    if (e.method === 0) {
      if (raw.length !== e.size) throw parseError(`the ${this.what} is corrupted (a stored entry has inconsistent sizes)`);
      this.inflated += raw.length;
      return raw;
    }
    if (e.method !== 8) throw unsupported(`the ${this.what} uses a zip compression method that is not supported (${e.method})`);
    return this.inflate(raw, e, remaining);
  }

  /** Reads an XML/text entry as a string (BOM-aware, UTF-8 by default). */
  readText(name: string): string | undefined {
    const bytes = this.read(name);
    if (bytes === undefined) return undefined;
    try {
      return decodeText(bytes, Number.POSITIVE_INFINITY).text;
    } catch {
      throw parseError(`the ${this.what} is corrupted (a text part contains binary data)`);
    }
  }

  private inflate(raw: Uint8Array, e: Entry, remaining: number): Uint8Array {
    if (raw.length === 0) {
      if (e.size === 0) return new Uint8Array(0);
      throw this.corrupt('a compressed entry is empty');
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    const inflater = new Inflate((chunk) => {
      total += chunk.length;
      // Checked as bytes arrive: the header's size may be a lie, the budget may not be.
      if (total > remaining) {
        throw tooLarge(`the ${this.what} inflates to more than the configured limit (${mb(this.budget)} MB); refusing a possible zip bomb`);
      }
      if (total > e.size) {
        throw tooLarge(`the ${this.what} contains an entry that inflates beyond its declared size; refusing a possible zip bomb`);
      }
      chunks.push(chunk);
    });
    try {
      for (let off = 0; off < raw.length; off += SLICE) {
        const end = Math.min(raw.length, off + SLICE);
        inflater.push(raw.subarray(off, end), end === raw.length);
      }
    } catch (err) {
      if (err instanceof OwletError) throw err;
      throw parseError(`the ${this.what} is corrupted (a compressed entry cannot be inflated)`, err);
    }
    if (total !== e.size) throw parseError(`the ${this.what} is corrupted (an entry is shorter than declared)`);
    this.inflated += total;
    if (chunks.length === 1) return chunks[0]!;
    const out = new Uint8Array(total);
    let pos = 0;
    for (const c of chunks) {
      out.set(c, pos);
      pos += c.length;
    }
    return out;
  }

  private rawData(e: Entry): Uint8Array {
    const d = this.data;
    const o = e.localOffset;
    if (o + 30 > d.length || u32(d, o) !== 0x04034b50) throw this.corrupt('a local header is missing');
    const start = o + 30 + u16(d, o + 26) + u16(d, o + 28);
    const end = start + e.compressedSize;
    if (end > d.length) throw this.corrupt('an entry extends past the end of the file');
    return d.subarray(start, end);
  }

  private readDirectory(): void {
    const d = this.data;
    if (d.length >= 8 && u32(d, 0) === 0xe011cfd0 && u32(d, 4) === 0xe11ab1a1) {
      throw unsupported(`the ${this.what} is an encrypted (password-protected) or legacy binary Office file, not a zip-based document`);
    }
    let eocd = -1;
    for (let i = d.length - 22; i >= Math.max(0, d.length - 22 - 0xffff); i--) {
      if (u32(d, i) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw parseError(`the ${this.what} is not a valid zip container (truncated or not a zip at all)`);
    let count = u16(d, eocd + 10);
    let cdOffset = u32(d, eocd + 16);
    if (count === 0xffff || cdOffset === 0xffffffff) {
      // ZIP64: the real values live in the zip64 end record, found through its locator.
      const loc = eocd - 20;
      if (loc < 0 || u32(d, loc) !== 0x07064b50) throw this.corrupt('the zip64 locator is missing');
      const z = num64(d, loc + 8);
      if (z + 56 > d.length || u32(d, z) !== 0x06064b50) throw this.corrupt('the zip64 end record is missing');
      count = num64(d, z + 32);
      cdOffset = num64(d, z + 48);
    }
    if (count > MAX_ENTRIES) throw tooLarge(`the ${this.what} has too many zip entries (${count})`);
    let p = cdOffset;
    for (let i = 0; i < count; i++) {
      if (p + 46 > d.length || u32(d, p) !== 0x02014b50) throw this.corrupt('the central directory is damaged');
      const nameLen = u16(d, p + 28);
      const extraLen = u16(d, p + 30);
      const commentLen = u16(d, p + 32);
      if (p + 46 + nameLen + extraLen > d.length) throw this.corrupt('the central directory is damaged');
      const name = new TextDecoder().decode(d.subarray(p + 46, p + 46 + nameLen));
      const e: Entry = {
        name,
        flags: u16(d, p + 8),
        method: u16(d, p + 10),
        compressedSize: u32(d, p + 20),
        size: u32(d, p + 24),
        localOffset: u32(d, p + 42),
      };
      applyZip64Extra(e, d.subarray(p + 46 + nameLen, p + 46 + nameLen + extraLen));
      if (!this.entries.has(name)) {
        this.entries.set(name, e);
        this.lowerNames.set(name.toLowerCase(), name);
      }
      p += 46 + nameLen + extraLen + commentLen;
    }
  }

  private corrupt(detail: string): OwletError {
    return parseError(`the ${this.what} is corrupted (${detail})`);
  }
}

function applyZip64Extra(e: Entry, extra: Uint8Array): void {
  for (let p = 0; p + 4 <= extra.length; ) {
    const id = u16(extra, p);
    const len = u16(extra, p + 2);
    if (id === 0x0001) {
      let q = p + 4;
      const end = Math.min(extra.length, q + len);
      if (e.size === 0xffffffff && q + 8 <= end) (e.size = num64(extra, q)), (q += 8);
      if (e.compressedSize === 0xffffffff && q + 8 <= end) (e.compressedSize = num64(extra, q)), (q += 8);
      if (e.localOffset === 0xffffffff && q + 8 <= end) e.localOffset = num64(extra, q);
      return;
    }
    p += 4 + len;
  }
}

function u16(d: Uint8Array, o: number): number {
  return (d[o] ?? 0) | ((d[o + 1] ?? 0) << 8);
}
function u32(d: Uint8Array, o: number): number {
  return (u16(d, o) | (u16(d, o + 2) << 16)) >>> 0;
}
/** 64-bit little-endian as a number; values past 2^53 are absurd here and clamp to Infinity. */
function num64(d: Uint8Array, o: number): number {
  const hi = u32(d, o + 4);
  return hi > 0x1fffff ? Number.POSITIVE_INFINITY : hi * 0x1_0000_0000 + u32(d, o);
}
function mb(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(0);
}
