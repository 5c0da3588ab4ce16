/**
 * Assembles the {@link ImageReport} from the layer indexes and the image config (pure logic):
 * dive's figures (`dive-efficiency.ts`), the real overlay changes and `reclaimable_bytes`
 * (`overlay.ts`) and the history match (`history.ts`).
 */
import type { ImageConfigJson } from './archive-layout.js';
import { diveEfficiency, diveFigures, diveVisitChildFirst, type DiveNode } from './dive-efficiency.js';
import { goFileModeFromTar } from './go-compat.js';
import { matchLayerHistory } from './history.js';
import type { LayerIndex } from './layer-index.js';
import { overlayAnalysis } from './overlay.js';
import type { DiveFileInfo, ImageReport, LayerReport } from './types.js';

/** One layer given to {@link buildImageReport}, in manifest order. */
export interface ReportLayerInput {
  /** The file index. */
  index: LayerIndex;
  /** Layer id (legacy `<id>` directory or blob hex). */
  id: string;
  /** Member path in the archive. */
  blobPath: string;
  /** Blob digest for OCI layouts. */
  blobDigest: string | null;
  /** Stored compression. */
  compression: 'none' | 'gzip' | 'zstd';
  /** Stored size in bytes. */
  archiveBytes: number;
  /** Computed diff id, when digests were verified. */
  diffId: string | null;
}

/** Everything {@link buildImageReport} needs besides the layers. */
export interface ReportImageInput {
  /** `legacy` (`<id>/layer.tar`) or `oci` (`blobs/<alg>/<hex>`). */
  layout: 'legacy' | 'oci';
  /** The file that described the image. */
  manifestSource: 'manifest.json' | 'index.json';
  /** Compression of the archive stream itself. */
  archiveCompression: 'none' | 'gzip' | 'zstd';
  /** `sha256:<hex>` of the image config (the image id), or `null`. */
  configDigest: string | null;
  /** `name:tag` references recorded in the archive. */
  repoTags: string[];
  /** The parsed image config (history, rootfs.diff_ids, platform). */
  config: ImageConfigJson;
}

/** Options of {@link buildImageReport}. */
export interface BuildReportOptions {
  /** Include per-layer path lists. */
  fileLists?: boolean;
  /** Cap per list. */
  fileListLimit?: number;
  /** Include dive's per-layer `fileList`. */
  diveFileList?: boolean;
  /** Inefficient paths kept, largest first (default 100). */
  topInefficientFiles?: number;
  /** Notes to carry into the report. */
  notes?: string[];
}

/** Builds the report; see the module comment. */
export function buildImageReport(image: ReportImageInput, layers: readonly ReportLayerInput[], options: BuildReportOptions = {}): ImageReport {
  const indexes = layers.map((l) => l.index);
  const fileLists: DiveFileInfo[][] = [];
  const dive = diveEfficiency(indexes, {
    onLayerTree: options.diveFileList ? (i, root) => (fileLists[i] = diveFileList(root, indexes[i]!)) : undefined,
  });
  const sizes = indexes.map((ix) => ix.totalSize);
  const figures = diveFigures(sizes, dive.inefficiencies);
  const overlay = overlayAnalysis(indexes, { lists: options.fileLists, listLimit: options.fileListLimit });
  const history = matchLayerHistory(image.config.history, layers.length);
  const diffIds = Array.isArray(image.config.rootfs?.diff_ids) ? image.config.rootfs!.diff_ids! : [];

  const notes = [...(options.notes ?? [])];
  for (const a of dive.abortedLayers) {
    notes.push(
      `dive quirk: layer ${a.layer} deletes ${a.path}, which the layers below do not have in dive's view, so dive stops walking that layer; its remaining files are not counted in efficiency/wasted_bytes (as in dive)`,
    );
  }
  if (layers.some((l) => l.index.paths.some((p) => p.endsWith('/.wh..wh..opq') || p === '.wh..wh..opq'))) {
    notes.push('opaque whiteouts present: dive ignores them in its figures; files_removed and reclaimable_bytes account for them');
  }

  const layerReports: LayerReport[] = layers.map((l, i) => {
    const h = history[i]!;
    const ch = overlay.layers[i]!;
    const report: LayerReport = {
      index: i,
      id: l.id,
      digest: typeof diffIds[i] === 'string' ? diffIds[i]! : l.diffId,
      blob_digest: l.blobDigest,
      blob_path: l.blobPath,
      compression: l.compression,
      archive_size_bytes: l.archiveBytes,
      size_bytes: l.index.totalSize,
      entries: l.index.length,
      command: h.command,
      instruction: h.instruction,
      created_by: h.createdBy,
      created: h.created,
      history_index: h.historyIndex,
      files_added: ch.added,
      files_modified: ch.modified,
      files_removed: ch.removed,
      reclaimable_bytes: ch.reclaimableBytes,
    };
    if (ch.lists) report.files = ch.lists;
    if (options.diveFileList) report.file_list = fileLists[i] ?? [];
    return report;
  });

  const top = options.topInefficientFiles ?? 100;
  const largestFirst = [...dive.inefficiencies].reverse();
  return {
    schema_version: 1,
    layout: image.layout,
    manifest_source: image.manifestSource,
    archive_compression: image.archiveCompression,
    image: {
      id: image.configDigest,
      repo_tags: image.repoTags,
      architecture: typeof image.config.architecture === 'string' ? image.config.architecture : null,
      os: typeof image.config.os === 'string' ? image.config.os : null,
      created: typeof image.config.created === 'string' ? image.config.created : null,
    },
    size_bytes: figures.sizeBytes,
    user_size_bytes: figures.userSizeBytes,
    efficiency: dive.efficiency,
    wasted_bytes: figures.wastedBytes,
    wasted_user_percent: figures.wastedUserPercent,
    reclaimable_bytes: overlay.reclaimableBytes,
    reclaimable: {
      superseded_bytes: overlay.supersededBytes,
      deleted_bytes: overlay.deletedBytes,
      visible_bytes: overlay.visibleBytes,
      visible_files: overlay.visibleFiles,
    },
    inefficient_files: largestFirst.slice(0, top).map((f) => ({ path: f.path, count: f.count, size_bytes: f.cumulativeSize })),
    inefficient_file_count: dive.inefficiencies.length,
    layers: layerReports,
    notes,
  };
}

/** dive's export `fileList` of one layer tree: every node, children first, with its payload. */
function diveFileList(root: DiveNode, index: LayerIndex): DiveFileInfo[] {
  const out: DiveFileInfo[] = [];
  diveVisitChildFirst(
    root,
    (node) => {
      if (node.entry < 0) {
        out.push({ path: '', typeFlag: 0, linkName: '', size: 0, fileMode: 0, uid: 0, gid: 0, isDir: false });
      } else {
        const e = index.entry(node.entry);
        out.push({
          path: e.path,
          typeFlag: e.typeflag,
          linkName: e.linkname,
          size: e.size,
          fileMode: goFileModeFromTar(e.mode, e.typeflag),
          uid: e.uid,
          gid: e.gid,
          isDir: node.isDir,
        });
      }
      return true;
    },
    false,
  );
  return out;
}
