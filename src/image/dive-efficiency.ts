/**
 * dive's efficiency algorithm, reproduced exactly (pure logic, no I/O).
 *
 * Sources: wagoodman/dive `dive/filetree/efficiency.go` (`Efficiency`), `dive/filetree/file_tree.go`
 * (`AddPath`, `Stack`, `StackTreeRange`, `GetNode`), `dive/filetree/file_node.go` (`Path`,
 * `IsWhiteout`, `IsLeaf`, children-first visiting in name order), `dive/image/docker/image_archive.go`
 * (`processLayerTar`: layer size = sum of tar entry sizes) and `dive/image/analysis.go`
 * (`Analyze`: size, user size, wasted bytes, wasted user percent), at v0.13.
 *
 * What dive does, and therefore what this does:
 * 1. Each layer tar becomes a tree by adding every entry's cleaned path in tar order. Directories
 *    that have no tar entry of their own are created with an empty payload (size 0, not a
 *    directory); names starting with `.wh..wh..` (the opaque-whiteout marker) are never added.
 * 2. For each layer in order, every leaf of its tree is visited children-first in byte order of
 *    names. The key is the path with a leaf's `.wh.` prefix removed. A whiteout leaf's size is the
 *    sum of the sizes of the subtree it deletes in the stack of the layers below - but only when
 *    that node's payload says "directory"; otherwise 0. Other leaves count their own size.
 *    Per path: `CumulativeSize` (sum), the minimum seen, the occurrence count; a path becomes
 *    inefficient at its second occurrence.
 * 3. `efficiency = sum(min) / sum(cumulative)`, 1 when the denominator is 0.
 * 4. `wasted_bytes = sum(cumulative)` over inefficient paths - every copy, the kept one included.
 * 5. `user_size_bytes` = sizes of all layers but the first; `wasted_user_percent = wasted / user`
 *    (a ratio, not multiplied by 100; NaN or Infinity when the user size is 0, as in Go).
 *
 * dive's quirks kept on purpose so figures match: opaque whiteouts are ignored; the stack used
 * for whiteout sizes is "copy of layer 0, then layers 0..i-1 stacked" and stacking replaces a
 * directory's payload with the upper layer's (possibly empty) one; a whiteout whose target is
 * missing below makes dive abort the rest of that layer's walk (the path keeps a minimum of -1).
 */
import type { LayerIndex } from './layer-index.js';

const WH = '.wh.';
const WHWH = '.wh..wh..';

/** A node of a dive file tree. */
export class DiveNode {
  /** Child nodes by name, `null` for a leaf. */
  children: Map<string, DiveNode> | null = null;
  /** Payload size in bytes (0 for an implicit directory). */
  size = 0;
  /** Payload `IsDir` (false for an implicit directory, as in dive). */
  isDir = false;
  /** Index of the tar entry that set the payload, -1 for an implicit node. */
  entry = -1;
  constructor(
    /** File name (one path component). */
    readonly name: string,
  ) {}
}

/** One path that occurs in two or more layers (dive's `EfficiencyData`). */
export interface DiveInefficiency {
  /** Absolute path, e.g. `/etc/nginx/nginx.conf`. */
  path: string;
  /** Occurrences across layers (dive's `len(Nodes)`). */
  count: number;
  /** Sum of the sizes of all occurrences in bytes (dive's `CumulativeSize`). */
  cumulativeSize: number;
  /** Smallest occurrence in bytes (dive's `minDiscoveredSize`). */
  minSize: number;
}

/** Result of {@link diveEfficiency}. */
export interface DiveEfficiencyResult {
  /** `sum(min) / sum(cumulative)` over all paths, 0..1 (1 for an empty image). */
  efficiency: number;
  /** Inefficient paths sorted by cumulative size ascending, ties in discovery order (dive's order). */
  inefficiencies: DiveInefficiency[];
  /** Layers whose walk dive aborts (a whiteout of a path missing below) and the path. */
  abortedLayers: Array<{ layer: number; path: string }>;
}

/** Options of {@link diveEfficiency}. */
export interface DiveEfficiencyOptions {
  /** Called with each layer's tree after it was walked (used to export dive's `fileList`). */
  onLayerTree?: (layer: number, root: DiveNode) => void;
}

/** Go's string order (UTF-8 byte order, i.e. code point order) for JS (UTF-16) strings. */
export function goStringCompare(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x !== y) {
      if (x >= 0xd800 && y >= 0xd800) {
        x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
        y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
      }
      return x - y;
    }
  }
  return a.length - b.length;
}

/** dive's `FileTree.AddPath` on a tree rooted at `root`. */
export function diveAddPath(root: DiveNode, path: string, size: number, isDir: boolean, entry: number): void {
  let node = root;
  let start = 0;
  const len = path.length;
  while (start <= len) {
    let end = path.indexOf('/', start);
    if (end < 0) end = len;
    const name = path.slice(start, end);
    start = end + 1;
    if (name === '') {
      if (end === len) break;
      continue;
    }
    let child = node.children?.get(name);
    if (child === undefined) {
      if (name.startsWith(WHWH)) return;
      child = new DiveNode(name);
      (node.children ??= new Map()).set(name, child);
    }
    node = child;
    if (end === len) {
      node.size = size;
      node.isDir = isDir;
      node.entry = entry;
    }
  }
}

/** Builds dive's tree of one layer (`processLayerTar`): `AddPath` for every entry, in tar order. */
export function buildDiveLayerTree(layer: LayerIndex): DiveNode {
  const root = new DiveNode('');
  const n = layer.length;
  const paths = layer.paths;
  // Tar entries come grouped by directory: remember the last parent directory so most entries
  // cost one child lookup instead of one per path component (same result as AddPath from root).
  let lastDir = '';
  let lastDirNode: DiveNode | null = null;
  for (let i = 0; i < n; i++) {
    const path = paths[i]!;
    const slash = path.lastIndexOf('/');
    if (lastDirNode !== null && slash === lastDir.length && path.startsWith(lastDir)) {
      const name = path.slice(slash + 1);
      let child = lastDirNode.children?.get(name);
      if (child === undefined) {
        if (name.startsWith(WHWH)) continue;
        child = new DiveNode(name);
        (lastDirNode.children ??= new Map()).set(name, child);
      }
      child.size = layer.size(i);
      child.isDir = layer.isDir(i);
      child.entry = i;
      continue;
    }
    diveAddPath(root, path, layer.size(i), layer.isDir(i), i);
    if (slash > 0) {
      const dir = path.slice(0, slash);
      const node = getNode(root, dir);
      lastDir = dir;
      lastDirNode = node;
    } else {
      lastDirNode = null;
    }
  }
  return root;
}

function sortedChildren(node: DiveNode): DiveNode[] {
  const kids = [...node.children!.values()];
  if (kids.length > 1) kids.sort((a, b) => goStringCompare(a.name, b.name));
  return kids;
}

/**
 * dive's `VisitDepthChildFirst` from `root` (root itself not visited). `visit(node, path)` gets the
 * node's dive path (leaf `.wh.` prefix stripped); returning `false` aborts the walk.
 */
export function diveVisitChildFirst(root: DiveNode, visit: (node: DiveNode, path: string) => boolean, leavesOnly: boolean): boolean {
  const walk = (node: DiveNode, prefix: string): boolean => {
    if (node.children !== null) {
      for (const child of sortedChildren(node)) {
        if (!walk(child, `${prefix}/${child.name}`)) return false;
      }
      if (leavesOnly && node.children.size > 0) return true;
    }
    if (node === root) return true;
    const path = node.name.startsWith(WH) ? prefix.slice(0, prefix.length - node.name.length) + node.name.slice(WH.length) : prefix;
    return visit(node, path);
  };
  return walk(root, '');
}

function getNode(root: DiveNode, path: string): DiveNode | null {
  let node = root;
  for (const name of path.split('/')) {
    if (name === '') continue;
    const child = node.children?.get(name);
    if (child === undefined) return null;
    node = child;
  }
  return node;
}

/** Children of `node` in the order dive visits them (only sorted when the order can matter). */
function orderedChildren(node: DiveNode, always: boolean): Iterable<DiveNode> {
  const kids = node.children!;
  if (kids.size < 2) return kids.values();
  if (!always) {
    let whiteout = false;
    for (const k of kids.keys()) {
      if (k.startsWith(WH)) {
        whiteout = true;
        break;
      }
    }
    if (!whiteout) return kids.values();
  }
  return [...kids.values()].sort((a, b) => goStringCompare(a.name, b.name));
}

/**
 * dive's `FileTree.Stack(upper)` onto `target`, done as one parallel walk instead of an
 * `AddPath`/`RemovePath` from the root per node: children first, whiteouts delete the named
 * sibling, every other node is created if missing and then gets the upper payload (an implicit
 * directory's empty payload included). Siblings are visited in name order only where a
 * whiteout makes the order matter; the result is the same as dive's.
 */
function stackInto(target: DiveNode, upper: DiveNode): void {
  if (upper.children !== null && upper.children.size > 0) {
    for (const child of orderedChildren(upper, false)) {
      if (child.name.startsWith(WH)) {
        target.children?.delete(child.name.slice(WH.length));
        continue;
      }
      let t = target.children?.get(child.name);
      if (t === undefined) {
        t = new DiveNode(child.name);
        (target.children ??= new Map()).set(child.name, t);
      }
      stackInto(t, child);
      t.size = child.size;
      t.isDir = child.isDir;
    }
  }
}

function subtreeSize(node: DiveNode): number {
  let sum = node.size;
  if (node.children !== null) for (const child of node.children.values()) sum += subtreeSize(child);
  return sum;
}

/** Computes dive's efficiency score and inefficient paths for `layers` (bottom to top). */
export function diveEfficiency(layers: readonly LayerIndex[], options: DiveEfficiencyOptions = {}): DiveEfficiencyResult {
  interface Data {
    key: string;
    count: number;
    cumulativeSize: number;
    minSize: number;
  }
  // Keyed by the normalised path without its leading '/', so the index's own strings are the keys.
  const byPath = new Map<string, Data>();
  const inefficient: Data[] = [];
  const abortedLayers: Array<{ layer: number; path: string }> = [];

  let lastWhiteoutLayer = -1;
  layers.forEach((l, i) => {
    if (l.whiteouts > 0) lastWhiteoutLayer = i;
  });
  // StackTreeRange(trees, 0, i-1) starts from a copy of layer 0 and stacks layers 0..i-1 on it.
  const stacked: DiveNode | null = lastWhiteoutLayer >= 0 && layers.length > 0 ? buildDiveLayerTree(layers[0]!) : null;

  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i]!;
    const paths = layer.paths;
    const tree = buildDiveLayerTree(layer);
    let aborted = false;

    const visitLeaf = (node: DiveNode, path: string): boolean => {
      const whiteout = node.name.startsWith(WH);
      const key = whiteout ? path.slice(0, path.length - node.name.length) + node.name.slice(WH.length) : path;
      let data = byPath.get(key);
      if (data === undefined) {
        data = { key, count: 0, cumulativeSize: 0, minSize: -1 };
        byPath.set(key, data);
      }
      let size: number;
      if (whiteout) {
        const previous = stacked === null ? null : getNode(stacked, key);
        if (previous === null) {
          abortedLayers.push({ layer: i, path: `/${key}` });
          return false;
        }
        size = previous.isDir ? subtreeSize(previous) : 0;
      } else {
        size = node.size;
      }
      data.cumulativeSize += size;
      if (data.minSize < 0 || size < data.minSize) data.minSize = size;
      data.count++;
      if (data.count === 2) inefficient.push(data);
      return true;
    };

    // dive's VisitDepthChildFirst over leaves, in name order; a failing visit aborts the layer.
    const walk = (node: DiveNode, path: string): void => {
      for (const child of orderedChildren(node, true)) {
        const childPath = child.entry >= 0 ? paths[child.entry]! : path === '' ? child.name : `${path}/${child.name}`;
        if (child.children !== null && child.children.size > 0) walk(child, childPath);
        else if (!visitLeaf(child, childPath)) aborted = true;
        if (aborted) return;
      }
    };
    if (tree.children !== null) walk(tree, '');

    options.onLayerTree?.(i, tree);
    if (stacked !== null && i < lastWhiteoutLayer) stackInto(stacked, tree);
  }

  let minimum = 0;
  let discovered = 0;
  for (const d of byPath.values()) {
    minimum += d.minSize;
    discovered += d.cumulativeSize;
  }
  const efficiency = discovered === 0 ? 1 : minimum / discovered;
  inefficient.sort((a, b) => a.cumulativeSize - b.cumulativeSize);
  return {
    efficiency,
    inefficiencies: inefficient.map((d) => ({ path: `/${d.key}`, count: d.count, cumulativeSize: d.cumulativeSize, minSize: d.minSize })),
    abortedLayers,
  };
}

/** dive's image-level figures (`dive/image/analysis.go Analyze`). */
export interface DiveFigures {
  /** Sum of all layer sizes in bytes (dive `SizeBytes`). */
  sizeBytes: number;
  /** Sum of the sizes of every layer but the first, in bytes (dive `UserSizeByes`). */
  userSizeBytes: number;
  /** Sum of `cumulativeSize` over inefficient paths, in bytes (dive `WastedBytes`). */
  wastedBytes: number;
  /** `wastedBytes / userSizeBytes` as a ratio (dive `WastedUserPercent`); NaN/Infinity when the user size is 0. */
  wastedUserPercent: number;
}

/** Computes {@link DiveFigures} from layer sizes (in manifest order) and the inefficiencies. */
export function diveFigures(layerSizes: readonly number[], inefficiencies: readonly DiveInefficiency[]): DiveFigures {
  let sizeBytes = 0;
  let userSizeBytes = 0;
  layerSizes.forEach((s, i) => {
    sizeBytes += s;
    if (i !== 0) userSizeBytes += s;
  });
  let wastedBytes = 0;
  for (const f of inefficiencies) wastedBytes += f.cumulativeSize;
  return { sizeBytes, userSizeBytes, wastedBytes, wastedUserPercent: wastedBytes / userSizeBytes };
}
