/**
 * The real union filesystem, layer by layer (pure logic): what each layer adds, modifies and
 * removes, and Pitlane's `reclaimable_bytes`.
 *
 * Layers are applied as the OCI image spec (`layer.md`, "Applying Changesets") and overlayfs do:
 * an opaque whiteout `DIR/.wh..wh..opq` hides everything the lower layers had under `DIR`; a
 * whiteout `DIR/.wh.NAME` deletes `DIR/NAME` and its subtree from the lower layers; whiteouts
 * never affect entries of their own layer; a non-directory replaces whatever was at its path
 * (a directory included, with its subtree); a directory over a directory merges.
 *
 * `reclaimable_bytes` = the bytes of every file copy that is not visible in the final image -
 * each superseded copy (overwritten, `chmod`-ed, `mv`-ed away) and each file deleted by a later
 * layer, directory deletions included - each copy counted once. It equals
 * `sum(all file bytes in all layers) - sum(bytes visible in the final filesystem)`, i.e. what
 * squashing the image (or a better Dockerfile) would really save.
 *
 * How it differs from dive's `wasted_bytes`: dive sums every occurrence of a path seen in two or
 * more layers, the copy that is kept included, so a 10 MB file written once and replaced once
 * by a 1 MB file is 11 MB "wasted" for dive but 10 MB reclaimable here; and dive does not count
 * files removed by deleting their directory (`rm -rf dir`: one whiteout of the directory, one
 * occurrence per path), which are reclaimable here. Hard links are counted at 0 bytes, as in the tar.
 */
import { EntryKind, OPAQUE_WHITEOUT, WHITEOUT_PREFIX, DOUBLE_WHITEOUT_PREFIX, type LayerIndex } from './layer-index.js';

/** A node of the merged filesystem. */
class FsNode {
  children: Map<string, FsNode> | null = null;
  constructor(
    readonly name: string,
    readonly parent: FsNode | null,
    public size: number,
    public layer: number,
    public isDir: boolean,
  ) {
    if (isDir) this.children = new Map();
  }
}

/** Per-layer changes against the layers below. */
export interface LayerChanges {
  /** Non-directory entries whose path did not exist below. */
  added: number;
  /** Non-directory entries whose path already existed below (overwrite, chmod, chown, touch). */
  modified: number;
  /** Non-directory paths of lower layers that this layer deletes (whiteouts, opaque directories, replacement by another type). */
  removed: number;
  /** Bytes of this layer's own entries that are not visible in the final image. */
  reclaimableBytes: number;
  /** The paths (absolute), when lists were requested; each list capped at `listLimit`. */
  lists?: { added: string[]; modified: string[]; removed: string[]; truncated: boolean };
}

/** Result of {@link overlayAnalysis}. */
export interface OverlayResult {
  /** One entry per layer, bottom to top. */
  layers: LayerChanges[];
  /** Sum of every non-directory entry's size over all layers, in bytes. */
  totalFileBytes: number;
  /** Bytes visible in the final filesystem. */
  visibleBytes: number;
  /** Bytes of copies replaced by a later copy at the same path (or replaced by another type). */
  supersededBytes: number;
  /** Bytes of files deleted by whiteouts or opaque directories. */
  deletedBytes: number;
  /** `supersededBytes + deletedBytes`. */
  reclaimableBytes: number;
  /** Non-directory entries visible in the final filesystem. */
  visibleFiles: number;
}

/** Options of {@link overlayAnalysis}. */
export interface OverlayOptions {
  /** Collect the added/modified/removed path lists. */
  lists?: boolean;
  /** Most paths kept per list per layer (default 10,000). */
  listLimit?: number;
}

/** Applies `layers` bottom to top; see the module comment. */
export function overlayAnalysis(layers: readonly LayerIndex[], options: OverlayOptions = {}): OverlayResult {
  const root = new FsNode('', null, 0, -1, true);
  const listLimit = options.listLimit ?? 10_000;
  const result: OverlayResult = {
    layers: [],
    totalFileBytes: 0,
    visibleBytes: 0,
    supersededBytes: 0,
    deletedBytes: 0,
    reclaimableBytes: 0,
    visibleFiles: 0,
  };
  const perLayerReclaim = new Array<number>(layers.length).fill(0);

  layers.forEach((layer, li) => {
    const changes: LayerChanges = { added: 0, modified: 0, removed: 0, reclaimableBytes: 0 };
    const lists = options.lists ? { added: [] as string[], modified: [] as string[], removed: [] as string[], truncated: false } : null;
    const note = (list: string[] | undefined, path: string): void => {
      if (!lists || !list) return;
      if (list.length < listLimit) list.push(`/${path}`);
      else lists.truncated = true;
    };

    /** Removes `node` (and its subtree) from the merged tree, accounting its files as deleted or superseded. */
    const drop = (node: FsNode, path: string, how: 'deleted' | 'superseded', countRemoved: boolean): void => {
      const visit = (n: FsNode, p: string): void => {
        if (n.isDir) {
          for (const [name, child] of n.children!) visit(child, `${p}/${name}`);
        } else {
          if (how === 'deleted') result.deletedBytes += n.size;
          else result.supersededBytes += n.size;
          if (n.layer >= 0) perLayerReclaim[n.layer]! += n.size;
          if (countRemoved && n.layer < li) {
            changes.removed++;
            note(lists?.removed, p);
          }
        }
      };
      visit(node, path);
      node.parent!.children!.delete(node.name);
    };

    const lookup = (path: string): FsNode | null => {
      let node = root;
      for (const name of path.split('/')) {
        const child = node.children?.get(name);
        if (child === undefined) return null;
        node = child;
      }
      return node;
    };

    // 1. Whiteouts (they apply to the layers below only, so before this layer's own entries).
    const n = layer.length;
    if (layer.whiteouts > 0) {
      for (let i = 0; i < n; i++) {
        const path = layer.paths[i]!;
        const slash = path.lastIndexOf('/');
        const base = path.slice(slash + 1);
        if (!base.startsWith(WHITEOUT_PREFIX)) continue;
        const dir = slash < 0 ? '' : path.slice(0, slash);
        if (base === OPAQUE_WHITEOUT) {
          const target = dir === '' ? root : lookup(dir);
          if (target?.isDir) {
            for (const [name, child] of [...target.children!]) drop(child, dir === '' ? name : `${dir}/${name}`, 'deleted', true);
          }
          continue;
        }
        if (base.startsWith(DOUBLE_WHITEOUT_PREFIX.slice(0, -1))) continue; // other AUFS metadata (.wh..wh.plnk ...)
        const targetPath = (dir === '' ? '' : `${dir}/`) + base.slice(WHITEOUT_PREFIX.length);
        const target = lookup(targetPath);
        if (target !== null && target.layer < li) drop(target, targetPath, 'deleted', true);
      }
    }

    // 2. This layer's entries, in tar order.
    for (let i = 0; i < n; i++) {
      const path = layer.paths[i]!;
      const slash = path.lastIndexOf('/');
      if (path.startsWith(WHITEOUT_PREFIX, slash + 1)) continue;
      const kind = layer.kind(i);
      const isDir = kind === EntryKind.Directory;
      const size = isDir ? 0 : layer.size(i);
      if (!isDir) result.totalFileBytes += size;

      // Walk / create the parent directories; a non-directory in the way is replaced.
      let parent = root;
      let start = 0;
      while (true) {
        const end = path.indexOf('/', start);
        if (end < 0) break;
        const name = path.slice(start, end);
        let child = parent.children!.get(name);
        if (child !== undefined && !child.isDir) {
          drop(child, path.slice(0, end), 'superseded', true);
          child = undefined;
        }
        if (child === undefined) {
          child = new FsNode(name, parent, 0, li, true);
          parent.children!.set(name, child);
        }
        parent = child;
        start = end + 1;
      }
      const name = path.slice(start);
      const existing = parent.children!.get(name);
      if (isDir) {
        if (existing?.isDir) continue; // merge
        if (existing !== undefined) drop(existing, path, 'superseded', true);
        parent.children!.set(name, new FsNode(name, parent, 0, li, true));
        continue;
      }
      if (existing === undefined) {
        changes.added++;
        note(lists?.added, path);
      } else {
        const sameLayer = !existing.isDir && existing.layer === li;
        if (!sameLayer) {
          changes.modified++;
          note(lists?.modified, path);
        }
        drop(existing, path, 'superseded', existing.isDir);
      }
      parent.children!.set(name, new FsNode(name, parent, size, li, false));
    }

    if (lists) changes.lists = lists;
    result.layers.push(changes);
  });

  // Visible files.
  const count = (node: FsNode): void => {
    for (const child of node.children!.values()) {
      if (child.isDir) count(child);
      else {
        result.visibleBytes += child.size;
        result.visibleFiles++;
      }
    }
  };
  count(root);
  result.reclaimableBytes = result.supersededBytes + result.deletedBytes;
  result.layers.forEach((l, i) => (l.reclaimableBytes = perLayerReclaim[i]!));
  return result;
}
