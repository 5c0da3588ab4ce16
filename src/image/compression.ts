/**
 * Layer compression: sniffing the first bytes of a blob (the order dive uses: gzip, zstd,
 * plain tar, JSON) and creating a streaming decompressor. zstd uses Node's own
 * `zlib.createZstdDecompress` (Node >= 22.15 / 23.8); on older Node a zstd layer is a clear
 * `IMAGE_LAYER_UNSUPPORTED` error rather than a crash. No package is needed for either.
 */
import zlib from 'node:zlib';
import type { Transform } from 'node:stream';
import { archiveError } from './errors.js';

/** What a blob's first bytes say it is. */
export type BlobKind = 'gzip' | 'zstd' | 'tar' | 'json' | 'unknown';

/** Bytes needed by {@link sniffBlob} to decide (a whole tar header). */
export const SNIFF_BYTES = 512;

/**
 * Classifies a blob from its first bytes (`head` may be shorter than 512 bytes only when the
 * whole blob is shorter). An all-zero block (an empty tar) and a block with the `ustar` magic
 * or a valid v7 header checksum are `tar`.
 */
export function sniffBlob(head: Buffer): BlobKind {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  if (head.length === 0) return 'tar';
  if (head.length >= 512) {
    if (head.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
    if (head.subarray(0, 512).every((b) => b === 0)) return 'tar';
    if (v7ChecksumOk(head)) return 'tar';
  } else if (head.every((b) => b === 0)) {
    return 'tar';
  }
  let i = 0;
  while (i < head.length && (head[i] === 0x20 || head[i] === 0x0a || head[i] === 0x0d || head[i] === 0x09)) i++;
  if (head[i] === 0x7b /* { */ || head[i] === 0x5b /* [ */) return 'json';
  return 'unknown';
}

function v7ChecksumOk(block: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
  const stored = parseInt(block.toString('latin1', 148, 156).replace(/[\0 ]+/g, ' ').trim(), 8);
  return stored === sum;
}

/** True when this Node can decompress zstd (`zlib.createZstdDecompress` exists). */
export function zstdSupported(): boolean {
  return typeof (zlib as unknown as { createZstdDecompress?: unknown }).createZstdDecompress === 'function';
}

/**
 * A streaming decompressor for `kind` (`gzip` or `zstd`). Throws `IMAGE_LAYER_UNSUPPORTED` (422)
 * for zstd on a Node without zstd support.
 */
export function createDecompressor(kind: 'gzip' | 'zstd', label: string): Transform {
  if (kind === 'gzip') return zlib.createGunzip({ chunkSize: 64 * 1024 });
  const make = (zlib as unknown as { createZstdDecompress?: (o?: object) => Transform }).createZstdDecompress;
  if (typeof make !== 'function') {
    throw archiveError('IMAGE_LAYER_UNSUPPORTED', `zstd layers need Node >= 22.15 (this is Node ${process.version}); ${label} is zstd-compressed`, [
      { path: label, message: 'zstd-compressed layer; run Pitlane on Node >= 22.15 or re-save the image with gzip layers' },
    ]);
  }
  return make({ chunkSize: 64 * 1024 });
}
