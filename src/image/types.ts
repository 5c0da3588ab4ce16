/**
 * Shapes of the image report (`pitlane inspect`, `GET /api/v1/images/{ref}/report`, and the
 * report stored with every build). Field names are snake_case; dive's figures keep dive's names
 * (`efficiency`, `wasted_bytes`, `user_size_bytes`, `wasted_user_percent`) so they can be compared
 * with `dive --ci` / `dive --json` output. All sizes are bytes (integers); ratios are 0..1 floats.
 */
import type { ReadArchiveOptions } from './archive-reader.js';
import type { ImageSelection } from './archive-layout.js';

/** One inefficient path (dive's `EfficiencyData` / export `fileReference`). */
export interface InefficientFile {
  /** Absolute path in the image, e.g. `/etc/nginx/nginx.conf`. */
  path: string;
  /** Number of layers in which the path occurs (dive `count`). */
  count: number;
  /** Sum of the sizes of all occurrences, in bytes (dive `CumulativeSize`, "Wasted Space"). */
  size_bytes: number;
}

/** One file of a layer as dive exports it (`filetree.FileInfo`, JSON export `fileList`). */
export interface DiveFileInfo {
  /** Path as stored in the tar, cleaned, without leading `/` (`''` for a directory with no entry of its own). */
  path: string;
  /** Tar type flag byte, e.g. 48 (`'0'`, file), 53 (`'5'`, directory), 50 (`'2'`, symlink); 0 for an implicit directory. */
  typeFlag: number;
  /** Link target for links, otherwise `''`. */
  linkName: string;
  /** Size in bytes. */
  size: number;
  /** Go `os.FileMode` value (permission bits plus type bits such as `1<<31` for directories). */
  fileMode: number;
  /** Owner uid. */
  uid: number;
  /** Owner gid. */
  gid: number;
  /** Whether the payload is a directory (false for implicit directories, as in dive). */
  isDir: boolean;
}

/** The report of one layer. */
export interface LayerReport {
  /** 0-based position, bottom to top. */
  index: number;
  /** Layer id: the `<id>` directory of a legacy archive, or the blob's hex digest in an OCI archive. */
  id: string;
  /** Diff id (`sha256:` of the uncompressed tar) from the config's `rootfs.diff_ids`, or computed; `null` if unknown. */
  digest: string | null;
  /** Digest of the stored blob (OCI layouts), `null` for legacy `layer.tar` members. */
  blob_digest: string | null;
  /** Member path of the layer inside the archive. */
  blob_path: string;
  /** Compression of the stored layer. */
  compression: 'none' | 'gzip' | 'zstd';
  /** Bytes the layer occupies in the archive (compressed size for compressed layers). */
  archive_size_bytes: number;
  /** dive's layer size: sum of the tar entries' sizes, in bytes. */
  size_bytes: number;
  /** Number of tar entries (directories and whiteouts included, the `./` root entry excluded). */
  entries: number;
  /** dive's command: the history `created_by` with a leading `/bin/sh -c ` removed, `(missing)` when no history entry matches. */
  command: string;
  /** The Dockerfile instruction, cleaned (`RUN apt-get ...`, `COPY file:... in /`), `null` when no history entry matches. */
  instruction: string | null;
  /** Raw `created_by` of the matched history entry, `null` when none. */
  created_by: string | null;
  /** `created` timestamp of the matched history entry (RFC 3339), `null` when none. */
  created: string | null;
  /** Index in the config's `history` array of the matched entry (entries with `empty_layer` are skipped), `null` when none. */
  history_index: number | null;
  /** Non-directory entries whose path did not exist in the layers below. */
  files_added: number;
  /** Non-directory entries whose path already existed below (overwritten, chmod-ed, touched). */
  files_modified: number;
  /** Non-directory paths from the layers below that this layer deletes. */
  files_removed: number;
  /** Bytes of this layer's entries that are not visible in the final image (Pitlane). */
  reclaimable_bytes: number;
  /** Absolute paths behind the three counts; present when `fileLists` was requested. Each list is capped. */
  files?: { added: string[]; modified: string[]; removed: string[]; truncated: boolean };
  /** dive's per-layer `fileList` (every tree node, children first); present when `diveFileList` was requested. */
  file_list?: DiveFileInfo[];
}

/** The image report. */
export interface ImageReport {
  /** Report format version. */
  schema_version: 1;
  /** `legacy` (`<id>/layer.tar`, Docker <= 24) or `oci` (`blobs/sha256/...`, Docker >= 25 or OCI tools). */
  layout: 'legacy' | 'oci';
  /** The file that described the image (`manifest.json` wins over `index.json`, as in dive). */
  manifest_source: 'manifest.json' | 'index.json';
  /** Compression of the archive stream itself (`docker save | gzip` is read too). */
  archive_compression: 'none' | 'gzip' | 'zstd';
  /** Image identity and platform. */
  image: {
    /** Config digest (`sha256:...`, the image id), when derivable. */
    id: string | null;
    /** Repo tags (`name:tag`) recorded in the archive. */
    repo_tags: string[];
    /** `amd64`, `arm64`..., `null` when the config omits it. */
    architecture: string | null;
    /** `linux`..., `null` when the config omits it. */
    os: string | null;
    /** Config `created` timestamp, `null` when absent. */
    created: string | null;
  };
  /** dive `SizeBytes`: sum of all layer sizes, in bytes. */
  size_bytes: number;
  /** dive `UserSizeByes`: sum of the sizes of all layers except the first, in bytes. */
  user_size_bytes: number;
  /** dive's efficiency score, 0..1: sum of each path's smallest copy over the sum of all copies. */
  efficiency: number;
  /** dive `WastedBytes`: sum of all copies (the kept one included) of every path seen in two or more layers, in bytes. */
  wasted_bytes: number;
  /** dive `WastedUserPercent`: `wasted_bytes / user_size_bytes` as a ratio (may exceed 1; NaN or Infinity - `null` in JSON - when the user size is 0). */
  wasted_user_percent: number;
  /**
   * Pitlane: bytes not visible in the final image - every superseded copy and every file deleted
   * in a later layer (directory deletions included), each counted once. Unlike `wasted_bytes` it
   * never counts the copy that is kept. See `overlay.ts`.
   */
  reclaimable_bytes: number;
  /** Breakdown of `reclaimable_bytes` and the final filesystem. */
  reclaimable: {
    /** Bytes of copies replaced by a later copy at the same path. */
    superseded_bytes: number;
    /** Bytes of files deleted by whiteouts or opaque directories. */
    deleted_bytes: number;
    /** Bytes of files visible in the final filesystem. */
    visible_bytes: number;
    /** Non-directory entries visible in the final filesystem. */
    visible_files: number;
  };
  /** The top inefficient paths by `size_bytes`, largest first (dive's order), at most `topInefficientFiles`. */
  inefficient_files: InefficientFile[];
  /** Number of inefficient paths in total (before the top-N cut). */
  inefficient_file_count: number;
  /** Layers bottom to top, in manifest order. */
  layers: LayerReport[];
  /** Remarks about the analysis (dive quirks hit, verification done), human-readable. */
  notes: string[];
}

/** Options of `analyzeImageArchive`. */
export interface AnalyzeImageOptions extends ReadArchiveOptions, ImageSelection {
  /** Include the added/modified/removed path lists per layer (default false: counts only). */
  fileLists?: boolean;
  /** Most paths per list per layer when `fileLists` is on (default 10,000). */
  fileListLimit?: number;
  /** Include dive's per-layer `fileList` (for `formatImageReport(..., 'json')` parity with `dive --json`); default false. */
  diveFileList?: boolean;
  /** How many inefficient paths to keep, largest first (default 100; `Infinity` for all). */
  topInefficientFiles?: number;
}
