import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { UpdateRefusal } from './refusal.js';

/**
 * One bounded HTTP(S) GET. Every transfer has a byte cap (from the signed manifest for packages,
 * small fixed caps for manifests and signatures), a stall timeout (no byte for `stallMs`) and an
 * overall deadline, so a hostile or broken server can neither fill the disk nor hang the update.
 */
export interface FetchLimits {
  /** Refuse as soon as more than this many bytes arrive (endless-data attack). */
  maxBytes: number;
  /** Abandon when no byte arrives for this long. */
  stallMs: number;
  /** Abandon after this long in total. */
  deadlineMs: number;
  /** When known (the manifest's size): fewer bytes is `truncated`, more is `too-large`. */
  expectedSize?: number;
  signal?: AbortSignal;
  /** Called with the bytes received so far (progress display). */
  onProgress?: (received: number, total: number | undefined) => void;
}

export interface FetchResult {
  size: number;
  /** base64 sha512 of everything received (electron-updater's encoding). */
  sha512: string;
}

const MAX_REDIRECTS = 3;

function get(url: URL, signal: AbortSignal, redirects: number): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      reject(new UpdateRefusal('feed-unreachable', `unsupported feed scheme ${url.protocol} (use http or https)`));
      return;
    }
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.get(url, { signal, headers: { 'accept-encoding': 'identity', 'cache-control': 'no-cache' } }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirects >= MAX_REDIRECTS) {
          reject(new UpdateRefusal('feed-unreachable', `too many redirects fetching ${url.href}`));
          return;
        }
        get(new URL(res.headers.location, url), signal, redirects + 1).then(resolve, reject);
        return;
      }
      if (status !== 200) {
        res.resume();
        reject(new UpdateRefusal('feed-unreachable', `${url.href} answered HTTP ${status}`, { status, url: url.href }));
        return;
      }
      resolve(res);
    });
    req.on('error', (e) => reject(e));
  });
}

/** Streams `url` into `sink` (a file or memory), enforcing the limits and hashing as it goes. */
async function transfer(url: string, limits: FetchLimits, sink: (chunk: Buffer) => void): Promise<FetchResult> {
  const ctl = new AbortController();
  let why: UpdateRefusal | undefined;
  const abort = (r: UpdateRefusal) => {
    why ??= r;
    ctl.abort();
  };
  const onOuter = () => abort(new UpdateRefusal('stalled', 'the download was cancelled'));
  limits.signal?.addEventListener('abort', onOuter, { once: true });
  if (limits.signal?.aborted) onOuter();
  const deadline = setTimeout(() => abort(new UpdateRefusal('stalled', `the download did not finish within ${limits.deadlineMs} ms`)), limits.deadlineMs);
  let stall: NodeJS.Timeout | undefined;
  const armStall = () => {
    if (stall) clearTimeout(stall);
    stall = setTimeout(() => abort(new UpdateRefusal('stalled', `no data for ${limits.stallMs} ms from ${url}`)), limits.stallMs);
  };
  const hash = crypto.createHash('sha512');
  let size = 0;
  try {
    armStall();
    const res = await get(new URL(url), ctl.signal, 0);
    const declared = res.headers['content-length'] !== undefined ? Number(res.headers['content-length']) : undefined;
    if (declared !== undefined && limits.expectedSize !== undefined && declared !== limits.expectedSize) {
      res.destroy();
      throw new UpdateRefusal('size-mismatch', `${url} announces ${declared} bytes, the signed manifest says ${limits.expectedSize}`, { announced: declared, expected: limits.expectedSize });
    }
    if (declared !== undefined && declared > limits.maxBytes) {
      res.destroy();
      throw new UpdateRefusal('too-large', `${url} announces ${declared} bytes, more than the ${limits.maxBytes} allowed`);
    }
    await new Promise<void>((resolve, reject) => {
      res.on('data', (chunk: Buffer) => {
        armStall();
        size += chunk.length;
        if (size > limits.maxBytes) {
          abort(new UpdateRefusal('too-large', `${url} sent more than the ${limits.maxBytes} bytes allowed; cut off`));
          res.destroy();
          return;
        }
        hash.update(chunk);
        try {
          sink(chunk);
        } catch (e) {
          res.destroy();
          reject(e);
          return;
        }
        limits.onProgress?.(size, limits.expectedSize ?? declared);
      });
      res.on('end', () => resolve());
      res.on('aborted', () => reject(new UpdateRefusal('truncated', `the connection closed after ${size} bytes of ${url}`)));
      res.on('error', (e) => reject(e));
      res.on('close', () => {
        if (!res.complete) reject(new UpdateRefusal('truncated', `the connection closed after ${size} bytes of ${url}`));
      });
    });
  } catch (e) {
    if (why) throw why;
    if (e instanceof UpdateRefusal) throw e;
    throw new UpdateRefusal('feed-unreachable', `cannot fetch ${url}: ${(e as Error).message}`, { url });
  } finally {
    clearTimeout(deadline);
    if (stall) clearTimeout(stall);
    limits.signal?.removeEventListener('abort', onOuter);
  }
  if (why) throw why;
  if (limits.expectedSize !== undefined && size < limits.expectedSize) {
    throw new UpdateRefusal('truncated', `received ${size} of ${limits.expectedSize} bytes from ${url}`, { received: size, expected: limits.expectedSize });
  }
  return { size, sha512: hash.digest('base64') };
}

/** Small files (manifest, signature) into memory. */
export async function fetchBytes(url: string, limits: FetchLimits): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await transfer(url, limits, (c) => chunks.push(c));
  return Buffer.concat(chunks);
}

/** A package into `file` (created exclusively, fsynced); removed again on any failure. */
export async function downloadToFile(url: string, file: string, limits: FetchLimits): Promise<FetchResult> {
  const fd = fs.openSync(file, 'wx', 0o600);
  let ok = false;
  try {
    const r = await transfer(url, limits, (c) => {
      let off = 0;
      while (off < c.length) off += fs.writeSync(fd, c, off, c.length - off);
    });
    fs.fsyncSync(fd);
    ok = true;
    return r;
  } finally {
    fs.closeSync(fd);
    if (!ok) fs.rmSync(file, { force: true });
  }
}

/** base64 sha512 of a file on disk (the check electron-updater's adapter repeats before install). */
export async function sha512OfFile(file: string): Promise<string> {
  const h = crypto.createHash('sha512');
  for await (const chunk of fs.createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('base64');
}
