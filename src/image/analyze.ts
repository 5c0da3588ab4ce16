/**
 * `analyzeImageArchive`: the I/O entry point of the image report. One streaming pass over the
 * archive (`archive-reader.ts`), then pure resolution (`archive-layout.ts`) and computation
 * (`report.ts`).
 */
import type { Readable } from 'node:stream';
import { resolveImage } from './archive-layout.js';
import { readImageArchive, type ArchiveContents, type IndexedBlob } from './archive-reader.js';
import { archiveError } from './errors.js';
import { buildImageReport, type ReportLayerInput } from './report.js';
import type { AnalyzeImageOptions, ImageReport } from './types.js';

/**
 * Reads a `docker save` stream (e.g. dockerode's `image.get()`) or an image archive file stream
 * and returns the {@link ImageReport}.
 *
 * - Layouts: legacy `manifest.json` + `<id>/layer.tar` (Docker <= 24) and OCI
 *   `index.json` + `blobs/sha256/...` (Docker >= 25, or any OCI image-layout tar); layers plain,
 *   gzip or zstd (zstd needs Node >= 22.15); the whole archive may be gzip/zstd-compressed.
 * - Streaming: each layer is parsed as it arrives into a compact file index (path, size, type);
 *   no layer is ever held in memory, and the manifest may come after the layers.
 * - Figures: dive's `efficiency`, `wasted_bytes`, `user_size_bytes`, `wasted_user_percent` computed
 *   exactly as dive v0.13 (`filetree/efficiency.go`, `image/analysis.go`), plus Pitlane's
 *   `reclaimable_bytes` (see `overlay.ts` for the difference).
 *
 * Errors (all `PitlaneError`): 422 `IMAGE_ARCHIVE_INVALID` (not a tar, bad JSON, missing
 * manifest/config/layer), 422 `IMAGE_ARCHIVE_TRUNCATED`, 422 `IMAGE_ARCHIVE_UNSAFE_PATH`
 * (absolute or `..` paths), 422 `IMAGE_ARCHIVE_TOO_LARGE` (over `maxLayers`, `maxEntries`,
 * `maxMembers`), 422 `IMAGE_LAYER_UNSUPPORTED` (zstd on old Node), 422
 * `IMAGE_LAYER_DIGEST_MISMATCH` (with `verifyDigests`), 502 `IMAGE_SOURCE_FAILED` (the stream errored).
 *
 * @param stream the archive bytes.
 * @param options limits, image/platform selection, and what to include (see {@link AnalyzeImageOptions}).
 */
export async function analyzeImageArchive(stream: Readable, options: AnalyzeImageOptions = {}): Promise<ImageReport> {
  const contents = await readImageArchive(stream, options);
  return reportFromContents(contents, options);
}

/** The pure half of {@link analyzeImageArchive}: turns what the archive pass found into the report. */
export function reportFromContents(contents: ArchiveContents, options: AnalyzeImageOptions = {}): ImageReport {
  const parsed = new Map<string, unknown>();
  const readJson = (path: string): unknown => {
    if (parsed.has(path)) return parsed.get(path);
    const target = followLinks(contents, path);
    const buf = contents.json.get(target);
    if (buf === undefined) {
      const why = contents.skipped.get(target);
      if (why !== undefined) throw archiveError('IMAGE_ARCHIVE_INVALID', `${path} could not be used: ${why}`, [{ path, message: why }]);
      return undefined;
    }
    let value: unknown;
    try {
      value = JSON.parse(buf.toString('utf8'));
    } catch (err) {
      throw archiveError('IMAGE_ARCHIVE_INVALID', `${path} is not valid JSON: ${(err as Error).message}`, [{ path, message: (err as Error).message }]);
    }
    parsed.set(path, value);
    return value;
  };

  const image = resolveImage(readJson, options);
  const maxLayers = options.maxLayers ?? 1000;
  if (image.layers.length > maxLayers) {
    throw archiveError('IMAGE_ARCHIVE_TOO_LARGE', `the image has ${image.layers.length} layers (limit maxLayers ${maxLayers})`, [
      { path: image.manifestSource, message: `${image.layers.length} layers` },
    ]);
  }
  const diffIds = image.config.rootfs?.diff_ids ?? [];
  const notes: string[] = [];
  const layers: ReportLayerInput[] = image.layers.map((ref, i) => {
    const blob = findBlob(contents, ref.path, `${image.manifestSource} layer ${i}`);
    if (options.verifyDigests && blob.diffId !== null && typeof diffIds[i] === 'string' && diffIds[i] !== blob.diffId) {
      throw archiveError('IMAGE_LAYER_DIGEST_MISMATCH', `layer ${i} (${ref.path}) has diff id ${blob.diffId}, but the config says ${diffIds[i]}: the archive is corrupt`, [
        { path: `rootfs.diff_ids[${i}]`, message: `expected ${diffIds[i]}, got ${blob.diffId}` },
      ]);
    }
    const m = /^blobs\/[a-z0-9]+\/(.+)$/.exec(blob.path);
    return {
      index: blob.index,
      id: m ? m[1]! : blob.path.split('/')[0]!,
      blobPath: blob.path,
      blobDigest: ref.blobDigest,
      compression: blob.compression,
      archiveBytes: blob.archiveBytes,
      diffId: blob.diffId,
    };
  });
  if (options.verifyDigests) notes.push('layer digests verified against rootfs.diff_ids');
  if (diffIds.length > 0 && diffIds.length !== layers.length) {
    notes.push(`the config lists ${diffIds.length} diff ids for ${layers.length} layers`);
  }

  return buildImageReport(
    {
      layout: image.layout,
      manifestSource: image.manifestSource,
      archiveCompression: contents.archiveCompression,
      configDigest: image.configDigest,
      repoTags: image.repoTags,
      config: image.config,
    },
    layers,
    {
      fileLists: options.fileLists,
      fileListLimit: options.fileListLimit,
      diveFileList: options.diveFileList,
      topInefficientFiles: options.topInefficientFiles,
      notes,
    },
  );
}

function followLinks(contents: ArchiveContents, path: string): string {
  let p = path;
  for (let hops = 0; hops < 8; hops++) {
    const next = contents.links.get(p);
    if (next === undefined) return p;
    p = next;
  }
  return p;
}

function findBlob(contents: ArchiveContents, path: string, field: string): IndexedBlob {
  const target = followLinks(contents, path);
  const blob = contents.blobs.get(target);
  if (blob !== undefined) return blob;
  const why = contents.skipped.get(target);
  if (why !== undefined) {
    throw archiveError('IMAGE_ARCHIVE_INVALID', `${field} (${path}) is not a layer: ${why}`, [{ path: field, message: why }]);
  }
  throw archiveError('IMAGE_ARCHIVE_INVALID', `${field} (${path}) is missing from the archive (truncated or incomplete archive?)`, [
    { path: field, message: `${path} not found` },
  ]);
}
