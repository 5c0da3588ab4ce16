/**
 * Test oracle: a literal, unoptimised port of dive's efficiency.go / file_tree.go (every node
 * visited through full paths, `Stack` as AddPath/RemovePath per node), used to check the
 * optimised implementation in src/image/dive-efficiency.ts on random layer sets.
 */
import type { LayerIndex } from '../../../src/image/layer-index.js';

const WH = '.wh.';
const WHWH = '.wh..wh..';

/** A node of a dive file tree. */
class DiveNode {
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
interface DiveInefficiency {
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
interface DiveEfficiencyResult {
  /** `sum(min) / sum(cumulative)` over all paths, 0..1 (1 for an empty image). */
  efficiency: number;
  /** Inefficient paths sorted by cumulative size ascending, ties in discovery order (dive's order). */
  inefficiencies: DiveInefficiency[];
  /** Layers whose walk dive aborts (a whiteout of a path missing below) and the path. */
  abortedLayers: Array<{ layer: number; path: string }>;
}

/** Options of {@link diveEfficiency}. */
interface DiveEfficiencyOptions {
  /** Called with each layer's tree after it was walked (used to export dive's `fileList`). */
  onLayerTree?: (layer: number, root: DiveNode) => void;
}

/** Go's string order (UTF-8 byte order, i.e. code point order) for JS (UTF-16) strings. */
function goStringCompare(a: string, b: string): number {
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
function diveAddPath(root: DiveNode, path: string, size: number, isDir: boolean, entry: number): void {
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

/** Builds dive's tree of one layer (`processLayerTar`). */
function buildDiveLayerTree(layer: LayerIndex): DiveNode {
  const root = new DiveNode('');
  const n = layer.length;
  for (let i = 0; i < n; i++) diveAddPath(root, layer.paths[i]!, layer.size(i), layer.isDir(i), i);
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
function diveVisitChildFirst(root: DiveNode, visit: (node: DiveNode, path: string) => boolean, leavesOnly: boolean): boolean {
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

function removePath(root: DiveNode, path: string): void {
  const names = path.split('/').filter((s) => s !== '');
  let node = root;
  let parent: DiveNode | null = null;
  for (const name of names) {
    const child = node.children?.get(name);
    if (child === undefined) return; // dive records a PathError and carries on
    parent = node;
    node = child;
  }
  if (parent !== null) parent.children!.delete(node.name);
}

/** dive's `FileTree.Stack`: grafts `upper` onto `tree` (whiteouts remove, everything else replaces payloads). */
function stack(tree: DiveNode, upper: DiveNode): void {
  diveVisitChildFirst(
    upper,
    (node, path) => {
      if (node.name.startsWith(WH)) removePath(tree, path);
      else diveAddPath(tree, path, node.size, node.isDir, -1);
      return true;
    },
    false,
  );
}

function subtreeSize(node: DiveNode): number {
  let sum = node.size;
  if (node.children !== null) for (const child of node.children.values()) sum += subtreeSize(child);
  return sum;
}

/** Computes dive's efficiency score and inefficient paths for `layers` (bottom to top). */
export function referenceDiveEfficiency(layers: readonly LayerIndex[], options: DiveEfficiencyOptions = {}): DiveEfficiencyResult {
  interface Data {
    path: string;
    count: number;
    cumulativeSize: number;
    minSize: number;
  }
  const byPath = new Map<string, Data>();
  const inefficient: Data[] = [];
  const abortedLayers: Array<{ layer: number; path: string }> = [];

  let lastWhiteoutLayer = -1;
  layers.forEach((l, i) => {
    if (l.whiteouts > 0) lastWhiteoutLayer = i;
  });
  // StackTreeRange(trees, 0, i-1) starts from a copy of layer 0 and stacks layers 0..i-1 on it.
  let stacked: DiveNode | null = lastWhiteoutLayer >= 0 && layers.length > 0 ? buildDiveLayerTree(layers[0]!) : null;

  for (let i = 0; i < layers.length; i++) {
    const tree = buildDiveLayerTree(layers[i]!);
    diveVisitChildFirst(
      tree,
      (node, path) => {
        let data = byPath.get(path);
        if (data === undefined) {
          data = { path, count: 0, cumulativeSize: 0, minSize: -1 };
          byPath.set(path, data);
        }
        let size: number;
        if (node.name.startsWith(WH)) {
          const previous = stacked === null ? null : getNode(stacked, path);
          if (previous === null) {
            abortedLayers.push({ layer: i, path });
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
      },
      true,
    );
    options.onLayerTree?.(i, tree);
    if (stacked !== null && i < lastWhiteoutLayer) stack(stacked, tree);
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
    inefficiencies: inefficient.map((d) => ({ path: d.path, count: d.count, cumulativeSize: d.cumulativeSize, minSize: d.minSize })),
    abortedLayers,
  };
}

