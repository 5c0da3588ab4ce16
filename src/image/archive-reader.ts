/**
 * I/O: one streaming pass over a `docker save` / OCI archive. Every layer (plain tar, gzip or
 * zstd) is parsed on the fly into a compact {@link LayerIndex}; small JSON members (manifests,
 * configs, index) are kept; everything else is skipped. Nothing else is buffered: memory is the
 * indexes plus at most one input chunk per decompressor. The archive may itself be gzip- or
 * zstd-compressed (`docker save | gzip`).
 */
import { createHash, type Hash } from 'node:crypto';
import { Readable, type Transform } from 'node:stream';
import { PitlaneError, isPitlaneError } from '../errors.js';
import { normalizeMemberPath } from './archive-layout.js';
import { SNIFF_BYTES, createDecompressor, sniffBlob } from './compression.js';
import { archiveError } from './errors.js';
import { LayerIndex, layerIndexer, type IndexBudget } from './layer-index.js';
import { TarScanner, type TarHeader, type TarSink } from './tar-scanner.js';

/** Limits of one archive read; defaults in {@link DEFAULT_ARCHIVE_LIMITS}. */
export interface ArchiveLimits {
  /** Most layer blobs accepted in the archive (default 1,000; Docker's overlay2 stops at 128). */
  maxLayers: number;
  /** Most entries accepted across all layers (default 2,000,000, about 200 MB of index). */
  maxEntries: number;
  /** Largest JSON member kept (manifest, config, index), in bytes (default 16 MiB). */
  maxJsonBytes: number;
  /** Total bytes of JSON members kept (default 64 MiB). */
  maxTotalJsonBytes: number;
  /** Most members of the outer archive (default 100,000). */
  maxMembers: number;
}

/** Default {@link ArchiveLimits}. */
export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  maxLayers: 1000,
  maxEntries: 2_000_000,
  maxJsonBytes: 16 * 1024 * 1024,
  maxTotalJsonBytes: 64 * 1024 * 1024,
  maxMembers: 100_000,
};

/** One layer blob found in the archive. */
export interface IndexedBlob {
  /** Archive member path. */
  path: string;
  /** The file index. */
  index: LayerIndex;
  /** How the blob was compressed. */
  compression: 'none' | 'gzip' | 'zstd';
  /** Bytes of the blob as stored in the archive. */
  archiveBytes: number;
  /** `sha256:<hex>` of the uncompressed tar (the diff id), when `verifyDigests` was on. */
  diffId: string | null;
}

/** What one pass over the archive found. */
export interface ArchiveContents {
  /** Layer blobs by member path. */
  blobs: Map<string, IndexedBlob>;
  /** JSON members by path, unparsed. */
  json: Map<string, Buffer>;
  /** Members that looked like layers or JSON but were not kept, with the reason. */
  skipped: Map<string, string>;
  /** Symlinked members (`<id>/layer.tar -> ../<id2>/layer.tar`), resolved to member paths. */
  links: Map<string, string>;
  /** Compression of the archive itself. */
  archiveCompression: 'none' | 'gzip' | 'zstd';
  /** Bytes of the (decompressed) archive read. */
  bytesRead: number;
}

/** Options of {@link readImageArchive}. */
export interface ReadArchiveOptions extends Partial<ArchiveLimits> {
  /** Hash every uncompressed layer (sha256) so it can be checked against `rootfs.diff_ids` (costs ~0.4 s of CPU per GB). */
  verifyDigests?: boolean;
}

interface PendingWork {
  waits: Promise<void>[];
}

/** Reads the whole archive stream once; see the module comment. Destroys `source` on failure. */
export async function readImageArchive(source: Readable, options: ReadArchiveOptions = {}): Promise<ArchiveContents> {
  const limits: ArchiveLimits = { ...DEFAULT_ARCHIVE_LIMITS, ...stripUndefined(options) };
  const contents: ArchiveContents = {
    blobs: new Map(),
    json: new Map(),
    skipped: new Map(),
    links: new Map(),
    archiveCompression: 'none',
    bytesRead: 0,
  };
  const work: PendingWork = { waits: [] };
  const active = new Set<Transform>();
  const budget: IndexBudget = { entriesLeft: limits.maxEntries, maxEntries: limits.maxEntries };
  let members = 0;
  let layerCount = 0;
  let jsonBytes = 0;

  const onMember = (h: TarHeader): TarSink | null => {
    if (++members > limits.maxMembers) {
      throw archiveError('IMAGE_ARCHIVE_TOO_LARGE', `the archive has more than ${limits.maxMembers} members (limit maxMembers)`);
    }
    const name = normalizeMemberPath(h.name, `archive member '${h.name}'`);
    if (h.type === 'symlink' || h.type === 'hardlink') {
      const base = h.type === 'symlink' ? name.split('/').slice(0, -1).join('/') : '';
      const target = normalizeMemberPath(resolveRelative(base, h.linkname), `link target of '${name}'`);
      contents.links.set(name, target);
      return null;
    }
    if (h.type !== 'file') return null;
    const isBlob = name.startsWith('blobs/');
    const isLayerName = /(^|\/)layer\.tar$|\.tar$|\.tar\.gz$|\.tgz$|\.tar\.zst$/.test(name);
    const isJsonName = !name.includes('/') && (name.endsWith('.json') || name.startsWith('sha256:'));
    if (!isBlob && !isLayerName && !isJsonName) return null;

    const keepJson = (): TarSink | null => {
      if (h.size > limits.maxJsonBytes || jsonBytes + h.size > limits.maxTotalJsonBytes) {
        contents.skipped.set(name, `JSON member of ${h.size} bytes exceeds the limit (maxJsonBytes ${limits.maxJsonBytes}, maxTotalJsonBytes ${limits.maxTotalJsonBytes})`);
        return null;
      }
      jsonBytes += h.size;
      return jsonSink(name, h.size, contents);
    };
    if (isJsonName && !isBlob) return keepJson();

    return sniffingSink(h.size, (kind) => {
      if (kind === 'json') return keepJson();
      if (kind === 'unknown') {
        contents.skipped.set(name, 'not a tar, gzip or zstd stream');
        return null;
      }
      if (++layerCount > limits.maxLayers) {
        throw archiveError('IMAGE_ARCHIVE_TOO_LARGE', `the archive has more than ${limits.maxLayers} layers (limit maxLayers)`, [
          { path: name, message: `layer number ${layerCount}` },
        ]);
      }
      const label = `layer ${name}`;
      const blob: IndexedBlob = {
        path: name,
        index: new LayerIndex(),
        compression: kind === 'tar' ? 'none' : kind,
        archiveBytes: h.size,
        diffId: null,
      };
      contents.blobs.set(name, blob);
      const scanner = new TarScanner(layerIndexer(blob.index, label, budget), { label });
      const hash = options.verifyDigests ? createHash('sha256') : null;
      if (kind === 'tar') return plainLayerSink(scanner, hash, blob);
      const z = createDecompressor(kind, label);
      active.add(z);
      return compressedLayerSink(z, scanner, hash, blob, label, work, () => active.delete(z));
    });
  };

  const outer = new TarScanner({ onEntry: onMember }, { label: 'archive' });
  const onChunk = (chunk: Buffer): Promise<void> | null => {
    outer.write(chunk);
    contents.bytesRead += chunk.length;
    if (work.waits.length === 0) return null;
    const waits = work.waits;
    work.waits = [];
    return Promise.all(waits).then(() => undefined);
  };
  // Keep an 'error' listener for the whole read: an error between two phases must not go unhandled.
  const noteSourceError = (): void => undefined;
  source.on('error', noteSourceError);
  try {
    const { head, ended } = await readHead(source, SNIFF_BYTES);
    const kind = sniffBlob(head.subarray(0, SNIFF_BYTES));
    if (kind === 'gzip' || kind === 'zstd') {
      contents.archiveCompression = kind;
      const z = createDecompressor(kind, 'the archive');
      active.add(z);
      const premature = (): void => {
        if (!source.readableEnded) z.destroy(sourceError(source.errored ?? new Error('the stream closed before its end')));
      };
      source.on('error', (err) => z.destroy(sourceError(err)));
      source.once('close', premature);
      z.write(head);
      // 'end' may already have been emitted while the source sat paused after its head was read,
      // or the source may already be gone.
      if (ended || source.readableEnded) z.end();
      else if (source.destroyed) premature();
      else source.pipe(z);
      await pump(z, onChunk, (err) => decompressionError(err, 'the archive'));
      active.delete(z);
    } else {
      if (head.length > 0) await onChunk(head);
      if (!ended) await pump(source, onChunk, sourceError);
    }
    outer.end();
    while (work.waits.length > 0) {
      const waits = work.waits;
      work.waits = [];
      await Promise.all(waits);
    }
    if (contents.bytesRead === 0) {
      throw archiveError('IMAGE_ARCHIVE_INVALID', 'the archive is empty', [{ path: 'archive', message: '0 bytes read' }]);
    }
    return contents;
  } catch (err) {
    for (const z of active) z.destroy();
    source.destroy();
    // Let rejected waits settle silently; the first error is the one reported.
    for (const w of work.waits) w.catch(() => undefined);
    throw toPitlaneError(err);
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function resolveRelative(base: string, link: string): string {
  if (link.startsWith('/')) return link;
  const parts = base === '' ? [] : base.split('/');
  for (const p of link.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') {
      if (parts.length === 0) return `../${link}`; // escapes the archive: rejected by the caller
      parts.pop();
    } else parts.push(p);
  }
  return parts.join('/');
}

/** Reads at least `n` bytes (or up to the end) from `source`, leaving it paused. */
function readHead(source: Readable, n: number): Promise<{ head: Buffer; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let len = 0;
    const onData = (c: Buffer | string): void => {
      const b = typeof c === 'string' ? Buffer.from(c) : c;
      chunks.push(b);
      len += b.length;
      if (len >= n) {
        source.pause();
        cleanup();
        resolve({ head: Buffer.concat(chunks), ended: false });
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve({ head: Buffer.concat(chunks), ended: true });
    };
    const onError = (err: unknown): void => {
      cleanup();
      reject(sourceError(err));
    };
    const onClose = (): void => {
      if (!source.readableEnded) onError(source.errored ?? new Error('the stream closed before its end'));
    };
    const cleanup = (): void => {
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onError);
      source.off('close', onClose);
    };
    source.on('data', onData);
    source.once('end', onEnd);
    source.once('error', onError);
    source.once('close', onClose);
    if (source.readableEnded) onEnd();
    else if (source.destroyed) onClose();
  });
}

/**
 * Feeds every chunk of `readable` to `onChunk` in flowing mode (chunks are passed through, never
 * concatenated), pausing while the promise `onChunk` returns is pending. Errors of the stream are
 * mapped with `mapError`.
 */
function pump(readable: Readable, onChunk: (chunk: Buffer) => Promise<void> | null, mapError: (err: unknown) => PitlaneError): Promise<void> {
  return new Promise((resolve, reject) => {
    let failed = false;
    let inFlight: Promise<void> | null = null;
    const fail = (err: unknown): void => {
      if (failed) return;
      failed = true;
      readable.off('data', onData);
      readable.pause();
      reject(err);
    };
    const onData = (c: Buffer | string): void => {
      if (failed) return;
      let pending: Promise<void> | null;
      try {
        pending = onChunk(typeof c === 'string' ? Buffer.from(c) : c);
      } catch (err) {
        fail(err);
        return;
      }
      if (pending !== null) {
        readable.pause();
        const p: Promise<void> = pending.then(() => {
          if (inFlight === p) inFlight = null;
          if (!failed) readable.resume();
        });
        inFlight = p;
        p.catch(fail);
      }
    };
    // 'end' can be emitted while the stream is paused with an empty buffer: finish the work in flight first.
    const onEnd = (): void => {
      if (failed) return;
      if (inFlight === null) resolve();
      else inFlight.then(() => (failed ? undefined : resolve()), fail);
    };
    const onClose = (): void => {
      if (!readable.readableEnded) fail(mapError(readable.errored ?? new Error('the stream closed before its end')));
    };
    readable.on('data', onData);
    readable.once('end', onEnd);
    readable.once('error', (err) => fail(mapError(err)));
    readable.once('close', onClose);
    if (readable.readableEnded) {
      readable.off('data', onData);
      resolve();
      return;
    }
    if (readable.destroyed) {
      onClose();
      return;
    }
    readable.resume();
  });
}

function jsonSink(name: string, size: number, contents: ArchiveContents): TarSink {
  const buf = Buffer.allocUnsafe(size);
  let at = 0;
  return {
    write(chunk) {
      chunk.copy(buf, at);
      at += chunk.length;
    },
    end() {
      contents.json.set(name, buf.subarray(0, at));
    },
  };
}

/** Buffers up to 512 bytes, asks `decide` what the member is, then forwards everything to the sink it returns. */
function sniffingSink(size: number, decide: (kind: ReturnType<typeof sniffBlob>) => TarSink | null): TarSink {
  const need = Math.min(SNIFF_BYTES, size);
  const head: Buffer[] = [];
  let headLen = 0;
  let target: TarSink | null | undefined;
  const flush = (): void => {
    const first = head.length === 1 ? head[0]! : Buffer.concat(head);
    target = decide(sniffBlob(first));
    if (target && first.length > 0) target.write(first);
  };
  return {
    write(chunk) {
      if (target !== undefined) {
        if (target) target.write(chunk);
        return;
      }
      const take = Math.min(need - headLen, chunk.length);
      head.push(Buffer.from(chunk.subarray(0, take)));
      headLen += take;
      if (headLen >= need) {
        flush();
        const t = target as unknown as TarSink | null;
        if (t && take < chunk.length) t.write(chunk.subarray(take));
      }
    },
    end() {
      if (target === undefined) flush();
      const t = target as TarSink | null | undefined;
      if (t) t.end();
    },
  };
}

function plainLayerSink(scanner: TarScanner, hash: Hash | null, blob: IndexedBlob): TarSink {
  return {
    write(chunk) {
      hash?.update(chunk);
      scanner.write(chunk);
    },
    end() {
      scanner.end();
      if (hash) blob.diffId = `sha256:${hash.digest('hex')}`;
    },
  };
}

function compressedLayerSink(
  z: Transform,
  scanner: TarScanner,
  hash: Hash | null,
  blob: IndexedBlob,
  label: string,
  work: PendingWork,
  release: () => void,
): TarSink {
  let failure: unknown = null;
  const done = new Promise<void>((resolve, reject) => {
    z.on('data', (chunk: Buffer) => {
      if (failure) return;
      try {
        hash?.update(chunk);
        scanner.write(chunk);
      } catch (err) {
        failure = err;
        z.destroy(err as Error);
      }
    });
    z.on('end', () => {
      try {
        scanner.end();
        if (hash) blob.diffId = `sha256:${hash.digest('hex')}`;
        resolve();
      } catch (err) {
        reject(err);
      }
    });
    z.on('error', (err) => {
      failure ??= decompressionError(err, label);
      reject(failure);
    });
    z.on('close', () => {
      release();
      if (!z.readableEnded) reject(failure ?? archiveError('IMAGE_ARCHIVE_INVALID', `${label} could not be decompressed`));
    });
  });
  done.catch(() => undefined); // observed through work.waits
  return {
    write(chunk) {
      if (failure) throw failure; // stop reading a layer that is already known to be bad
      if (!z.write(chunk)) {
        work.waits.push(
          new Promise<void>((resolve, reject) => {
            const onDrain = (): void => {
              z.off('close', onClose);
              resolve();
            };
            const onClose = (): void => {
              z.off('drain', onDrain);
              done.then(resolve, reject);
            };
            z.once('drain', onDrain);
            z.once('close', onClose);
          }),
        );
      }
    },
    end() {
      z.end();
      work.waits.push(done);
    },
  };
}

function decompressionError(err: unknown, label: string): PitlaneError {
  if (isPitlaneError(err)) return err;
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'Z_BUF_ERROR' || /unexpected end/i.test(e?.message ?? '')) {
    return archiveError('IMAGE_ARCHIVE_TRUNCATED', `${label} is truncated: its compressed stream ends early`, [{ path: label, message: e?.message ?? String(err) }]);
  }
  return archiveError('IMAGE_ARCHIVE_INVALID', `${label} is corrupt: ${e?.message ?? String(err)}`, [{ path: label, message: e?.message ?? String(err) }]);
}

function sourceError(err: unknown): PitlaneError {
  if (isPitlaneError(err)) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new PitlaneError(502, 'IMAGE_SOURCE_FAILED', `reading the image stream failed: ${msg}`, [{ message: msg }]);
}

function toPitlaneError(err: unknown): PitlaneError {
  if (isPitlaneError(err)) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new PitlaneError(422, 'IMAGE_ARCHIVE_INVALID', `the image archive could not be read: ${msg}`, [{ message: msg }]);
}
