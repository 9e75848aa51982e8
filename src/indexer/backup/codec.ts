import zlib from 'node:zlib';
import { owletError, OwletError } from '../../shared/errors.js';

/**
 * Compression of backup chunks, always before encryption (ciphertext does not compress). zstd
 * through Node's own zlib where the runtime has it (Node >= 22.15, Electron's newer Node), else
 * brotli at a fast quality, also Node's own: no third-party codec to keep up to date. The codec
 * is recorded in each backup, so a backup taken under Electron (zstd) and restored by a plain
 * Node 20 `owlet` gets a clear error rather than garbage.
 */
export type Codec = 'zstd' | 'brotli';

type ZstdZlib = {
  zstdCompressSync?: (b: Buffer, o?: object) => Buffer;
  zstdDecompressSync?: (b: Buffer, o?: object) => Buffer;
  constants: Record<string, number>;
};
const z = zlib as unknown as ZstdZlib;

export const CODEC_IDS: Record<Codec, number> = { zstd: 1, brotli: 2 };

export function codecFromId(n: number): Codec {
  const c = (Object.keys(CODEC_IDS) as Codec[]).find((k) => CODEC_IDS[k] === n);
  if (!c) throw owletError('OWL_ERR_BACKUP_INVALID', { reason: `the backup uses an unknown compression (${n}); it was made by a newer Owlet` });
  return c;
}

export function hasZstd(): boolean {
  return typeof z.zstdCompressSync === 'function' && typeof z.zstdDecompressSync === 'function';
}

export function defaultCodec(): Codec {
  return hasZstd() ? 'zstd' : 'brotli';
}

export function compress(codec: Codec, data: Buffer): Buffer {
  if (codec === 'zstd') {
    if (!hasZstd()) throw owletError('OWL_ERR_BACKUP_FAILED', { reason: 'this runtime has no zstd' });
    return z.zstdCompressSync!(data, { params: { [z.constants.ZSTD_c_compressionLevel ?? 100]: 3 } });
  }
  return zlib.brotliCompressSync(data, {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 3, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length, [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT },
  });
}

/** Decompresses one chunk, refusing to produce more than `maxBytes` (the bound a bomb hits). */
export function decompress(codec: Codec, data: Buffer, maxBytes: number): Buffer {
  try {
    if (codec === 'zstd') {
      if (!hasZstd()) throw owletError('OWL_ERR_BACKUP_INVALID', { reason: 'this backup is compressed with zstd, which this runtime lacks; restore it with the Owlet app (or Node 22.15 or newer)' });
      return z.zstdDecompressSync!(data, { maxOutputLength: maxBytes });
    }
    return zlib.brotliDecompressSync(data, { maxOutputLength: maxBytes });
  } catch (e) {
    if (e instanceof OwletError) throw e;
    const code = (e as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || /larger than|too large/i.test((e as Error).message)) {
      throw owletError('OWL_ERR_BACKUP_INVALID', { reason: `a backup chunk inflates past its declared size (${maxBytes} bytes); refused` });
    }
    throw owletError('OWL_ERR_BACKUP_INVALID', { reason: `a backup chunk does not decompress: ${(e as Error).message}` });
  }
}
