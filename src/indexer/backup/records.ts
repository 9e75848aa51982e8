import { owletError } from '../../shared/errors.js';

/**
 * The plaintext inside a backup stream: a sequence of records, each whole inside one chunk.
 *
 *   TABLE  name, columns           the rows that follow belong to this table
 *   ROW    one value per column    null | int64 | float64 | text | blob
 *   GONE   document id             (incremental) a document removed since the parent backup
 *
 * A hand-written encoding on purpose: the reader never evaluates anything (no SQL, no object
 * deserialisation), so the worst a damaged or hostile stream can do is fail to parse.
 */

export type Value = null | bigint | number | string | Buffer;

export type BackupRecord =
  | { t: 'table'; name: string; columns: string[] }
  | { t: 'row'; values: Value[] }
  | { t: 'gone'; id: bigint };

const TABLE = 1;
const ROW = 2;
const GONE = 3;

const V_NULL = 0;
const V_INT = 1;
const V_REAL = 2;
const V_TEXT = 3;
const V_BLOB = 4;

/** Grows one buffer; records are appended, then the buffer is taken as a chunk. */
export class RecordWriter {
  private buf = Buffer.allocUnsafe(1 << 20);
  private len = 0;

  get size(): number {
    return this.len;
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  private u8(v: number): void {
    this.room(1);
    this.buf[this.len++] = v;
  }

  private u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32BE(v, this.len);
    this.len += 4;
  }

  private bytes(b: Buffer): void {
    this.u32(b.length);
    this.room(b.length);
    b.copy(this.buf, this.len);
    this.len += b.length;
  }

  private str(s: string): void {
    this.bytes(Buffer.from(s, 'utf8'));
  }

  table(name: string, columns: readonly string[]): void {
    this.u8(TABLE);
    this.str(name);
    this.u32(columns.length);
    for (const c of columns) this.str(c);
  }

  row(values: readonly unknown[]): void {
    this.u8(ROW);
    this.u32(values.length);
    for (const v of values) this.value(v);
  }

  gone(id: bigint | number): void {
    this.u8(GONE);
    this.room(8);
    this.buf.writeBigInt64BE(BigInt(id), this.len);
    this.len += 8;
  }

  private value(v: unknown): void {
    if (v === null || v === undefined) return this.u8(V_NULL);
    if (typeof v === 'bigint') {
      this.u8(V_INT);
      this.room(8);
      this.buf.writeBigInt64BE(v, this.len);
      this.len += 8;
      return;
    }
    if (typeof v === 'number') {
      this.u8(V_REAL);
      this.room(8);
      this.buf.writeDoubleBE(v, this.len);
      this.len += 8;
      return;
    }
    if (typeof v === 'string') {
      this.u8(V_TEXT);
      return this.str(v);
    }
    if (Buffer.isBuffer(v) || v instanceof Uint8Array) {
      this.u8(V_BLOB);
      return this.bytes(Buffer.from(v.buffer, v.byteOffset, v.byteLength));
    }
    throw owletError('OWL_ERR_BACKUP_FAILED', { reason: `cannot store a value of type ${typeof v} in a backup` });
  }

  /** The records so far (a copy), and a fresh start. */
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.len));
    this.len = 0;
    return out;
  }
}

function bad(what: string): never {
  throw owletError('OWL_ERR_BACKUP_INVALID', { reason: `the backup stream is malformed: ${what}` });
}

/** Parses the records of one chunk. Throws OWL_ERR_BACKUP_INVALID on anything out of bounds. */
export function* readRecords(buf: Buffer): Generator<BackupRecord> {
  let off = 0;
  const need = (n: number) => {
    if (off + n > buf.length) bad('a record runs past the end of its chunk');
  };
  const u32 = () => {
    need(4);
    const v = buf.readUInt32BE(off);
    off += 4;
    return v;
  };
  const bytes = () => {
    const n = u32();
    need(n);
    const b = buf.subarray(off, off + n);
    off += n;
    return b;
  };
  const str = () => bytes().toString('utf8');
  while (off < buf.length) {
    const tag = buf[off++];
    if (tag === TABLE) {
      const name = str();
      const n = u32();
      if (n > 1000) bad(`table ${name} claims ${n} columns`);
      const columns: string[] = [];
      for (let i = 0; i < n; i++) columns.push(str());
      yield { t: 'table', name, columns };
    } else if (tag === ROW) {
      const n = u32();
      if (n > 1000) bad(`a row claims ${n} values`);
      const values: Value[] = [];
      for (let i = 0; i < n; i++) {
        need(1);
        const vt = buf[off++];
        if (vt === V_NULL) values.push(null);
        else if (vt === V_INT) {
          need(8);
          values.push(buf.readBigInt64BE(off));
          off += 8;
        } else if (vt === V_REAL) {
          need(8);
          values.push(buf.readDoubleBE(off));
          off += 8;
        } else if (vt === V_TEXT) values.push(str());
        else if (vt === V_BLOB) values.push(Buffer.from(bytes()));
        else bad(`unknown value type ${vt}`);
      }
      yield { t: 'row', values };
    } else if (tag === GONE) {
      need(8);
      const id = buf.readBigInt64BE(off);
      off += 8;
      yield { t: 'gone', id };
    } else bad(`unknown record type ${tag}`);
  }
}
