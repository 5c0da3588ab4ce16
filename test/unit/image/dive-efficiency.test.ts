import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { diveEfficiency } from '../../../src/image/dive-efficiency.js';
import { LayerIndex } from '../../../src/image/layer-index.js';
import { overlayAnalysis } from '../../../src/image/overlay.js';
import { referenceDiveEfficiency } from './dive-reference.js';

type RawEntry = { path: string; kind: 'file' | 'dir'; size: number };

function toIndex(entries: RawEntry[]): LayerIndex {
  const ix = new LayerIndex();
  for (const e of entries) {
    ix.add(e.path, {
      type: e.kind === 'dir' ? 'directory' : 'file',
      typeflag: e.kind === 'dir' ? 0x35 : 0x30,
      mode: 0o644,
      uid: 0,
      gid: 0,
      realSize: e.kind === 'dir' ? 0 : e.size,
      linkname: '',
    });
  }
  return ix;
}

// Few names, so paths collide across layers; '-x' sorts before '.wh.-x', 'b' after '.wh.b'.
const name = fc.constantFrom('a', 'b', 'c', '-x', 'etc', 'nginx');
const segment = fc.oneof(
  { weight: 6, arbitrary: name },
  { weight: 2, arbitrary: name.map((n) => `.wh.${n}`) },
  { weight: 1, arbitrary: fc.constant('.wh..wh..opq') },
);
const entry: fc.Arbitrary<RawEntry> = fc.record({
  path: fc.tuple(fc.array(name, { maxLength: 2 }), segment).map(([dirs, last]) => [...dirs, last].join('/')),
  kind: fc.constantFrom<'file' | 'dir'>('file', 'file', 'dir'),
  size: fc.integer({ min: 0, max: 5000 }),
}).map((e) => (e.path.split('/').pop()!.startsWith('.wh.') ? { ...e, kind: 'file' as const, size: 0 } : e));
const image = fc.array(fc.array(entry, { maxLength: 12 }), { minLength: 1, maxLength: 6 });

describe('optimised dive efficiency against a literal port of dive', () => {
  it('gives identical score, inefficient paths (order included) and aborted layers on random images', () => {
    fc.assert(
      fc.property(image, (layers) => {
        const ix = layers.map(toIndex);
        const fast = diveEfficiency(ix);
        const ref = referenceDiveEfficiency(ix);
        expect(fast.efficiency).toBe(ref.efficiency);
        expect(fast.inefficiencies).toEqual(ref.inefficiencies);
        expect(fast.abortedLayers).toEqual(ref.abortedLayers);
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps reclaimable = all file bytes - visible bytes on random images', () => {
    fc.assert(
      fc.property(image, (layers) => {
        const r = overlayAnalysis(layers.map(toIndex));
        expect(r.reclaimableBytes).toBe(r.totalFileBytes - r.visibleBytes);
        expect(r.layers.reduce((n, l) => n + l.reclaimableBytes, 0)).toBe(r.reclaimableBytes);
      }),
      { numRuns: 1000 },
    );
  });

  it('handles a large layer quickly', () => {
    const a: RawEntry[] = [];
    const b: RawEntry[] = [];
    for (let i = 0; i < 100_000; i++) {
      a.push({ path: `usr/share/doc/pkg-${i % 2000}/file-${i}`, kind: 'file', size: 100 });
      if (i % 3 === 0) b.push({ path: `usr/share/doc/pkg-${i % 2000}/file-${i}`, kind: 'file', size: 50 });
      if (i % 7 === 0 && i + 2000 < 100_000) b.push({ path: `usr/share/doc/pkg-${(i + 2000) % 2000}/.wh.file-${i + 2000}`, kind: 'file', size: 0 });
    }
    const layers = [toIndex(a), toIndex(b)];
    const t0 = performance.now();
    const fast = diveEfficiency(layers);
    const ms = performance.now() - t0;
    expect(fast.abortedLayers).toEqual([]);
    expect(fast.inefficiencies.length).toBeGreaterThan(40_000);
    expect(ms).toBeLessThan(15_000);
    const ref = referenceDiveEfficiency(layers);
    expect(fast.efficiency).toBe(ref.efficiency);
    expect(fast.inefficiencies).toEqual(ref.inefficiencies);
  });
});
