import crypto from 'node:crypto';
import fs from 'node:fs';
import { owletError, OwletError } from '../../shared/errors.js';
import { CODEC_IDS, codecFromId, compress, decompress, type Codec } from './codec.js';

/**
 * The backup file (format 2): compressed, then encrypted in authenticated chunks.
 *
 *   header   "OWLBKP2\n" | version 1 | codec | kind | 0 | salt (32 random bytes)          44 bytes
 *   chunk*   length u32 | flags u8 | AES-256-GCM(ciphertext) | tag (16)
 *
 * - The file key is HKDF(backup secret, salt, "owlet backup v2 " + id): a chunk moved from another
 *   backup, or a whole file renamed to another id, fails authentication.
 * - Nonce = flags | 0 0 0 | chunk index (u64); associated data = header | chunk index | flags:
 *   reordered, dropped or duplicated chunks fail.
 * - flags bit 0 marks the final chunk: a file cut after any chunk is refused as truncated, and
 *   bytes after the final chunk are refused. Bit 1: the chunk is stored uncompressed (already
 *   compressed data gains nothing from a second pass).
 * - Each chunk's plaintext is at most MAX_CHUNK bytes; decompression stops there (bomb bound).
 */

export const MAGIC = Buffer.from('OWLBKP2\n', 'latin1');
export const HEADER_BYTES = 44;
export const MAX_CHUNK = 16 * 1024 * 1024;
const FINAL = 1;
const STORED = 2;
const TAG = 16;

export type BackupKind = 'full' | 'incremental';
const KIND_IDS: Record<BackupKind, number> = { full: 1, incremental: 2 };

function fileKey(secret: Buffer, salt: Buffer, id: string): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', secret, salt, `owlet backup v2 ${id}`, 32));
}

function nonceAad(header: Buffer, index: number, flags: number): { nonce: Buffer; aad: Buffer } {
  const nonce = Buffer.alloc(12);
  nonce[0] = flags;
  nonce.writeBigUInt64BE(BigInt(index), 4);
  const tail = Buffer.alloc(9);
  tail.writeBigUInt64BE(BigInt(index), 0);
  tail[8] = flags;
  return { nonce, aad: Buffer.concat([header, tail]) };
}

function writeAll(fd: number, b: Buffer): void {
  for (let off = 0; off < b.length; ) off += fs.writeSync(fd, b, off, b.length - off);
}

export interface SealStats {
  /** Bytes written (the file's size). */
  bytes: number;
  /** Plaintext bytes before compression. */
  rawBytes: number;
  chunks: number;
  sha256: string;
}

/** Writes a sealed backup file to an open descriptor, chunk by chunk. */
export class SealWriter {
  private readonly header: Buffer;
  private readonly key: Buffer;
  private index = 0;
  private readonly hash = crypto.createHash('sha256');
  private bytes = 0;
  private rawBytes = 0;
  private done = false;

  constructor(
    private readonly fd: number,
    secret: Buffer,
    id: string,
    kind: BackupKind,
    private readonly codec: Codec,
  ) {
    const salt = crypto.randomBytes(32);
    this.header = Buffer.concat([MAGIC, Buffer.from([1, CODEC_IDS[codec], KIND_IDS[kind], 0]), salt]);
    this.key = fileKey(secret, salt, id);
    this.emit(this.header);
  }

  private emit(b: Buffer): void {
    writeAll(this.fd, b);
    this.hash.update(b);
    this.bytes += b.length;
  }

  /** Compresses, encrypts and writes one chunk; `final` ends the file. */
  chunk(plain: Buffer, final: boolean): void {
    if (this.done) throw owletError('OWL_ERR_BACKUP_FAILED', { reason: 'a chunk was written after the final one' });
    if (plain.length > MAX_CHUNK) throw owletError('OWL_ERR_BACKUP_FAILED', { reason: `a backup chunk of ${plain.length} bytes is over the ${MAX_CHUNK} limit` });
    this.rawBytes += plain.length;
    const packed = plain.length ? compress(this.codec, plain) : plain;
    const stored = packed.length >= plain.length;
    const flags = (final ? FINAL : 0) | (stored ? STORED : 0);
    const { nonce, aad } = nonceAad(this.header, this.index, flags);
    const c = crypto.createCipheriv('aes-256-gcm', this.key, nonce);
    c.setAAD(aad);
    const body = Buffer.concat([c.update(stored ? plain : packed), c.final()]);
    const head = Buffer.alloc(5);
    head.writeUInt32BE(body.length, 0);
    head[4] = flags;
    this.emit(Buffer.concat([head, body, c.getAuthTag()]));
    this.index++;
    if (final) this.done = true;
  }

  finish(): SealStats {
    if (!this.done) this.chunk(Buffer.alloc(0), true);
    return { bytes: this.bytes, rawBytes: this.rawBytes, chunks: this.index, sha256: this.hash.digest('hex') };
  }
}

function invalid(file: string, what: string): OwletError {
  return owletError('OWL_ERR_BACKUP_INVALID', { reason: `backup file ${file} ${what}` });
}

export interface OpenedSeal {
  codec: Codec;
  kind: BackupKind;
  /** Plaintext chunks in order; throws on the first that fails. */
  chunks(): Generator<Buffer>;
}

/**
 * Reads a sealed backup. Every chunk is authenticated before it is decompressed; the total
 * plaintext may not pass `maxRawBytes` (the manifest's declared size).
 */
export function openSeal(file: string, secret: Buffer, id: string, maxRawBytes: number): OpenedSeal {
  const name = file;
  const fd = fs.openSync(file, 'r');
  const header = Buffer.alloc(HEADER_BYTES);
  let pos = 0;
  const read = (buf: Buffer): number => {
    let got = 0;
    while (got < buf.length) {
      const n = fs.readSync(fd, buf, got, buf.length - got, pos);
      if (n === 0) break;
      got += n;
      pos += n;
    }
    return got;
  };
  try {
    if (read(header) !== HEADER_BYTES || !header.subarray(0, 8).equals(MAGIC)) throw invalid(name, 'is not an Owlet backup (bad header)');
    if (header[8] !== 1) throw invalid(name, `has format version ${header[8]}, which this Owlet does not know`);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  const codec = codecFromId(header[9]!);
  const kind = header[10] === 1 ? 'full' : header[10] === 2 ? 'incremental' : null;
  if (!kind) {
    fs.closeSync(fd);
    throw invalid(name, 'has an unknown kind');
  }
  const key = fileKey(secret, header.subarray(12, 44), id);
  function* chunks(): Generator<Buffer> {
    try {
      let raw = 0;
      for (let index = 0; ; index++) {
        const head = Buffer.alloc(5);
        const n = read(head);
        if (n === 0) throw invalid(name, `is truncated: it ends after chunk ${index} without its final chunk`);
        if (n < 5) throw invalid(name, `is truncated inside chunk ${index}`);
        const len = head.readUInt32BE(0);
        const flags = head[4]!;
        if (len > MAX_CHUNK + 1024 || (flags & ~(FINAL | STORED)) !== 0) throw invalid(name, `has a malformed chunk ${index}`);
        const body = Buffer.alloc(len + TAG);
        if (read(body) !== body.length) throw invalid(name, `is truncated inside chunk ${index}`);
        const { nonce, aad } = nonceAad(header, index, flags);
        const d = crypto.createDecipheriv('aes-256-gcm', key, nonce);
        d.setAAD(aad);
        d.setAuthTag(body.subarray(len));
        let packed: Buffer;
        try {
          packed = Buffer.concat([d.update(body.subarray(0, len)), d.final()]);
        } catch {
          throw invalid(name, `fails authentication at chunk ${index}: it was changed, damaged, taken from another backup, or written with another key`);
        }
        const plain = flags & STORED ? packed : packed.length ? decompress(codec, packed, Math.min(MAX_CHUNK, maxRawBytes - raw)) : packed;
        raw += plain.length;
        if (raw > maxRawBytes) throw invalid(name, `inflates past its declared size (${maxRawBytes} bytes); refused`);
        yield plain;
        if (flags & FINAL) {
          if (read(Buffer.alloc(1)) !== 0) throw invalid(name, 'has data after its final chunk');
          return;
        }
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  return { codec, kind, chunks };
}
