import fs from 'node:fs';
import { UpdateRefusal } from './refusal.js';

/** Room left besides the update itself, so an update never fills the disk the index lives on. */
export const DISK_RESERVE_BYTES = 64 * 1024 * 1024;

export type FreeBytes = (dir: string) => number;

export const statfsFree: FreeBytes = (dir) => {
  const s = fs.statfsSync(dir);
  return Number(s.bavail) * Number(s.bsize);
};

/**
 * Refuses before any byte is downloaded when the package, its unpacked tree and the reserve do not
 * fit. Without `unpackedSize` in the manifest the tree is estimated at four times the package.
 */
export function assertDiskSpace(dir: string, size: number, unpackedSize: number | undefined, free: FreeBytes = statfsFree): void {
  const need = size + (unpackedSize ?? size * 4) + DISK_RESERVE_BYTES;
  const have = free(dir);
  if (have < need) {
    throw new UpdateRefusal('disk-space', `the update needs ${Math.ceil(need / 1048576)} MB free in ${dir}, only ${Math.floor(have / 1048576)} MB are`, { need, have });
  }
}
