/**
 * The compact per-layer file index: what a layer tar contains (path, size, type, mode, owner)
 * without any file content. One index costs roughly 100 bytes per entry, so an image is read
 * in one pass and the figures are computed afterwards, once `manifest.json` (which `docker save`
 * writes after the layers) and the image config are known.
 */
import { archiveError } from './errors.js';
import type { TarEntryType, TarHeader, TarScannerHandler, TarSink } from './tar-scanner.js';

/** Entry kinds stored in {@link LayerIndex.types}. */
export const EntryKind = {
  File: 0,
  Hardlink: 1,
  Symlink: 2,
  CharDevice: 3,
  BlockDevice: 4,
  Directory: 5,
  Fifo: 6,
  Other: 7,
} as const;
/** Numeric entry kind, see {@link EntryKind}. */
export type EntryKind = (typeof EntryKind)[keyof typeof EntryKind];

const KIND_OF: Record<TarEntryType, EntryKind> = {
  file: EntryKind.File,
  hardlink: EntryKind.Hardlink,
  symlink: EntryKind.Symlink,
  'char-device': EntryKind.CharDevice,
  'block-device': EntryKind.BlockDevice,
  directory: EntryKind.Directory,
  fifo: EntryKind.Fifo,
  other: EntryKind.Other,
};

/** Whiteout file-name prefix (OCI image spec, layer.md "Whiteouts"). */
export const WHITEOUT_PREFIX = '.wh.';
/** Opaque-whiteout marker file name. */
export const OPAQUE_WHITEOUT = '.wh..wh..opq';
/** Prefix of AUFS metadata names (`.wh..wh.plnk`, `.wh..wh.aufs`, the opaque marker) that dive never adds to a tree. */
export const DOUBLE_WHITEOUT_PREFIX = '.wh..wh..';

/** Longest layer entry path accepted (Linux `PATH_MAX`). */
export const MAX_PATH_LENGTH = 4096;

/** One entry read back from a {@link LayerIndex}. */
export interface LayerEntry {
  /** Normalised path without leading `/`, e.g. `etc/nginx/nginx.conf`. */
  path: string;
  /** Logical size in bytes from the tar header (0 for directories, links, whiteouts). */
  size: number;
  /** Entry kind. */
  kind: EntryKind;
  /** Mode bits from the header (`0o644`...). */
  mode: number;
  /** Owner uid. */
  uid: number;
  /** Owner gid. */
  gid: number;
  /** Raw tar type-flag byte (dive's `typeFlag`), e.g. 48 (`'0'`). */
  typeflag: number;
  /** Link target, `''` unless a link. */
  linkname: string;
}

/** Growable typed column. */
class Column<T extends Uint8Array | Uint32Array | Float64Array> {
  data: T;
  constructor(
    private readonly make: (n: number) => T,
    initial = 256,
  ) {
    this.data = make(initial);
  }
  set(i: number, v: number): void {
    if (i >= this.data.length) {
      const next = this.make(this.data.length * 2);
      next.set(this.data as never);
      this.data = next;
    }
    this.data[i] = v;
  }
}

/**
 * The files of one layer in tar order. Paths are normalised (see {@link normalizeLayerPath}).
 * Sizes are Go `Header.Size` values, as dive reads them.
 */
export class LayerIndex {
  /** Normalised paths, in tar order. */
  readonly paths: string[] = [];
  private readonly sizes = new Column((n) => new Float64Array(n));
  private readonly kinds = new Column((n) => new Uint8Array(n));
  private readonly typeflags = new Column((n) => new Uint8Array(n));
  private readonly modes = new Column((n) => new Uint32Array(n));
  private readonly uids = new Column((n) => new Uint32Array(n));
  private readonly gids = new Column((n) => new Uint32Array(n));
  private readonly links = new Map<number, string>();
  /** dive's layer size: the sum of every entry's size in bytes (whiteouts and directories add 0). */
  totalSize = 0;
  /** Entries whose name starts with `.wh.` (regular whiteouts and opaque markers). */
  whiteouts = 0;

  /** Number of entries. */
  get length(): number {
    return this.paths.length;
  }

  /** Appends one entry. */
  add(path: string, header: Pick<TarHeader, 'type' | 'typeflag' | 'mode' | 'uid' | 'gid' | 'realSize' | 'linkname'>): void {
    const i = this.paths.length;
    this.paths.push(path);
    this.sizes.set(i, header.realSize);
    this.kinds.set(i, KIND_OF[header.type]);
    this.typeflags.set(i, header.typeflag);
    this.modes.set(i, header.mode >>> 0);
    this.uids.set(i, header.uid >>> 0);
    this.gids.set(i, header.gid >>> 0);
    if (header.linkname) this.links.set(i, header.linkname);
    this.totalSize += header.realSize;
    const slash = path.lastIndexOf('/');
    if (path.startsWith(WHITEOUT_PREFIX, slash + 1)) this.whiteouts++;
  }

  /** Size in bytes of entry `i`. */
  size(i: number): number {
    return this.sizes.data[i]!;
  }
  /** Kind of entry `i`. */
  kind(i: number): EntryKind {
    return this.kinds.data[i] as EntryKind;
  }
  /** True when entry `i` is a directory (Go's `FileInfo().IsDir()`). */
  isDir(i: number): boolean {
    return this.kinds.data[i] === EntryKind.Directory;
  }
  /** Full record of entry `i`. */
  entry(i: number): LayerEntry {
    return {
      path: this.paths[i]!,
      size: this.sizes.data[i]!,
      kind: this.kinds.data[i] as EntryKind,
      mode: this.modes.data[i]!,
      uid: this.uids.data[i]!,
      gid: this.gids.data[i]!,
      typeflag: this.typeflags.data[i]!,
      linkname: this.links.get(i) ?? '',
    };
  }
}

/**
 * Normalises a layer entry name the way Go's `path.Clean` does for relative names (drops `.`
 * and empty components and a trailing `/`), returning `''` for the root entry (`./`).
 * Throws `IMAGE_ARCHIVE_UNSAFE_PATH` (422) for an absolute name or any `..` component:
 * such a layer could write outside the container root when extracted.
 */
export function normalizeLayerPath(name: string, label: string): string {
  if (name.startsWith('/')) {
    throw archiveError('IMAGE_ARCHIVE_UNSAFE_PATH', `${label} contains an absolute path '${name}'`, [
      { path: name, message: 'layer entries must be relative to the image root' },
    ]);
  }
  if (name.length > MAX_PATH_LENGTH) {
    throw archiveError('IMAGE_ARCHIVE_UNSAFE_PATH', `${label} contains a path longer than ${MAX_PATH_LENGTH} characters`, [
      { path: name.slice(0, 200) + '...', message: `path of ${name.length} characters` },
    ]);
  }
  if (name.indexOf('\0') >= 0) {
    throw archiveError('IMAGE_ARCHIVE_UNSAFE_PATH', `${label} contains a path with a NUL byte`, [{ path: name, message: 'NUL in path' }]);
  }
  // Fast path: already clean (no "./", "//", trailing "/", "..").
  if (!name.includes('//') && !name.endsWith('/') && !name.startsWith('./') && name !== '.' && !name.includes('/./') && !name.endsWith('/.') && !hasDotDot(name)) {
    return name;
  }
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      throw archiveError('IMAGE_ARCHIVE_UNSAFE_PATH', `${label} contains a path with '..': '${name}'`, [
        { path: name, message: "layer entries must not contain '..' components" },
      ]);
    }
    parts.push(part);
  }
  return parts.join('/');
}

function hasDotDot(name: string): boolean {
  if (name === '..' || name.startsWith('../') || name.endsWith('/..')) return true;
  return name.includes('/../');
}

/** Limits applied while indexing, shared by every layer of one archive. */
export interface IndexBudget {
  /** Entries still allowed across all layers. */
  entriesLeft: number;
  /** The configured total, for the error message. */
  maxEntries: number;
}

/**
 * A tar handler that records every entry of a layer into `index` and skips the bodies.
 * Throws `IMAGE_ARCHIVE_TOO_LARGE` when the shared entry budget runs out.
 */
export function layerIndexer(index: LayerIndex, label: string, budget: IndexBudget): TarScannerHandler {
  return {
    onEntry(header: TarHeader): TarSink | null {
      const path = normalizeLayerPath(header.name, label);
      if (path === '') return null; // the "." root entry; dive skips it too
      if (--budget.entriesLeft < 0) {
        throw archiveError('IMAGE_ARCHIVE_TOO_LARGE', `the image has more than ${budget.maxEntries} files across its layers (limit maxEntries)`, [
          { path: label, message: `limit reached at '${path}'` },
        ]);
      }
      index.add(path, header);
      return null;
    },
  };
}
