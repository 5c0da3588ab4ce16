import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import zlib from 'node:zlib';
import { analyzeImageArchive, formatImageReport, toDiveExport, type ImageReport } from '../../../src/image/index.js';
import { zstdSupported } from '../../../src/image/compression.js';
import { instructionFromCreatedBy } from '../../../src/image/history.js';
import { DIVE_TEST_EFFICIENCY_LAYERS, diveTestImageLayers, imageArchive, layerTar, packTar, sha256, streamOf, type Entry, type ImageSpec } from './archive-builder.js';

async function analyze(spec: ImageSpec, chunk: number | number[] = 64 * 1024, options = {}): Promise<ImageReport> {
  return analyzeImageArchive(streamOf(await imageArchive(spec), chunk), options);
}

describe('dive TestEfficiency (dive/filetree/efficiency_test.go)', () => {
  for (const layout of ['legacy', 'docker25', 'oci'] as const) {
    for (const compression of layout === 'legacy' ? (['none'] as const) : (['none', 'gzip'] as const)) {
      it(`scores 0.75 with one inefficient path of 7,000 bytes (${layout}, ${compression})`, async () => {
        const r = await analyze({ layers: DIVE_TEST_EFFICIENCY_LAYERS, layout, compression });
        expect(r.efficiency).toBe(0.75);
        expect(r.inefficient_files).toEqual([{ path: '/etc/nginx/nginx.conf', count: 2, size_bytes: 7000 }]);
        expect(r.inefficient_file_count).toBe(1);
        expect(r.wasted_bytes).toBe(7000);
        expect(r.size_bytes).toBe(20000);
        expect(r.user_size_bytes).toBe(15000);
        expect(r.wasted_user_percent).toBe(7000 / 15000);
        expect(r.layers.map((l) => l.size_bytes)).toEqual([5000, 15000, 0]);
        expect(r.layout).toBe(layout === 'legacy' ? 'legacy' : 'oci');
        expect(r.manifest_source).toBe(layout === 'oci' ? 'index.json' : 'manifest.json');
        expect(r.layers.every((l) => l.compression === compression)).toBe(true);
      });
    }
  }

  it('gives the same figures whatever the chunking of the stream (1-byte to 64 KiB chunks)', async () => {
    const buf = await imageArchive({ layers: DIVE_TEST_EFFICIENCY_LAYERS, layout: 'docker25', compression: 'gzip' });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 8 }), async (sizes) => {
        const r = await analyzeImageArchive(streamOf(buf, sizes));
        expect(r.efficiency).toBe(0.75);
        expect(r.wasted_bytes).toBe(7000);
      }),
      { numRuns: 25 },
    );
    const r = await analyzeImageArchive(streamOf(buf.subarray(0, buf.length), 1));
    expect(r.efficiency).toBe(0.75);
  });

  it('reads the manifest whether it comes after the layers (docker save) or before them', async () => {
    const after = await analyze({ layers: DIVE_TEST_EFFICIENCY_LAYERS, jsonFirst: false });
    const before = await analyze({ layers: DIVE_TEST_EFFICIENCY_LAYERS, jsonFirst: true });
    expect(before.efficiency).toBe(after.efficiency);
    expect(before.wasted_bytes).toBe(after.wasted_bytes);
  });

  it('scores an empty/0-byte image 1.0 with no matches (TestEfficiency_ScratchImage)', async () => {
    const r = await analyze({ layers: [[{ path: 'nothing.txt', size: 0 }]] });
    expect(r.efficiency).toBe(1);
    expect(r.inefficient_files).toEqual([]);
    expect(r.wasted_bytes).toBe(0);
    expect(Number.isNaN(r.wasted_user_percent)).toBe(true); // 0/0 in Go is NaN too
  });

  it('counts the subtree of a deleted directory when the directory has its own tar entry', async () => {
    const layers: Entry[][] = [
      [
        { path: 'etc', type: 'directory' },
        { path: 'etc/nginx', type: 'directory' },
        { path: 'etc/nginx/nginx.conf', size: 2000 },
        { path: 'etc/nginx/public', size: 3000 },
      ],
      [
        { path: 'etc', type: 'directory' },
        { path: 'etc/nginx', type: 'directory' },
        { path: 'etc/nginx/nginx.conf', size: 5000 },
        { path: 'etc/athing', size: 10000 },
      ],
      [{ path: 'etc', type: 'directory' }, { path: 'etc/.wh.nginx' }],
    ];
    const r = await analyze({ layers });
    // whiteout of /etc/nginx sizes the stacked dir: 5000 + 3000; it is its only occurrence.
    expect(r.efficiency).toBe((2000 + 3000 + 10000 + 8000) / (7000 + 3000 + 10000 + 8000));
    expect(r.inefficient_files).toEqual([{ path: '/etc/nginx/nginx.conf', count: 2, size_bytes: 7000 }]);
  });
});

describe("dive's image_archive_analysis_test figures (.data/Dockerfile.test-image rebuilt layer by layer)", () => {
  it('reproduces efficiency, sizes, wasted bytes, wasted percent and the fileReference list', async () => {
    for (const layout of ['legacy', 'oci'] as const) {
      const r = await analyze({ layers: diveTestImageLayers(), layout });
      expect(r.efficiency).toBe(0.9844212134184309);
      expect(r.size_bytes).toBe(1220598);
      expect(r.user_size_bytes).toBe(66237);
      expect(r.wasted_bytes).toBe(32025);
      expect(r.wasted_user_percent).toBe(0.4834911001404049);
      expect(toDiveExport(r).image.fileReference).toEqual([
        { count: 2, sizeBytes: 12810, file: '/root/saved.txt' },
        { count: 2, sizeBytes: 12810, file: '/root/example/somefile1.txt' },
        { count: 2, sizeBytes: 6405, file: '/root/example/somefile3.txt' },
      ]);
      expect(toDiveExport(r).image.inefficientBytes).toBe(32025);
    }
  });

  it('does not list files removed only by deleting their directory (somefile2), but counts them as reclaimable', async () => {
    const r = await analyze({ layers: diveTestImageLayers() });
    expect(r.inefficient_files.map((f) => f.path)).not.toContain('/root/example/somefile2.txt');
    // superseded: somefile1 (chmod), saved.txt (chmod +x); deleted: somefile3 (mv), somefile1 + somefile2 (rm -rf)
    expect(r.reclaimable).toMatchObject({ superseded_bytes: 2 * 6405, deleted_bytes: 3 * 6405 });
    expect(r.reclaimable_bytes).toBe(5 * 6405);
    expect(r.layers[9]).toMatchObject({ files_removed: 2, files_added: 0 });
    expect(r.layers[7]).toMatchObject({ files_added: 1, files_removed: 1 });
    expect(r.layers[4]).toMatchObject({ files_modified: 1, reclaimable_bytes: 6405 });
  });
});

describe('reclaimable_bytes vs dive wasted_bytes', () => {
  it('counts a superseded copy once, where dive counts every copy including the kept one', async () => {
    const r = await analyze({
      layers: [[{ path: 'app/data.bin', size: 10_000 }], [{ path: 'app/data.bin', size: 1_000 }]],
    });
    expect(r.wasted_bytes).toBe(11_000);
    expect(r.reclaimable_bytes).toBe(10_000);
    expect(r.reclaimable.visible_bytes).toBe(1_000);
    expect(r.layers[1]).toMatchObject({ files_modified: 1, files_added: 0 });
    expect(r.layers[0]!.reclaimable_bytes).toBe(10_000);
  });

  it('counts a file deleted in a later layer: dive counts it (whiteout occurrence of 0 bytes), reclaimable counts it once', async () => {
    const r = await analyze({
      layers: [[{ path: 'bin/sh', size: 100 }], [{ path: 'tmp/big.tar', size: 50_000 }], [{ path: 'tmp/.wh.big.tar' }]],
    });
    expect(r.inefficient_files).toEqual([{ path: '/tmp/big.tar', count: 2, size_bytes: 50_000 }]);
    expect(r.wasted_bytes).toBe(50_000);
    expect(r.efficiency).toBe((100 + 0) / (100 + 50_000));
    expect(r.reclaimable_bytes).toBe(50_000);
    expect(r.layers[2]).toMatchObject({ files_removed: 1 });
  });

  it('counts a whole deleted directory tree as reclaimable, which dive does not count', async () => {
    const r = await analyze({
      layers: [
        [{ path: 'bin/sh', size: 100 }],
        [
          { path: 'build', type: 'directory' },
          { path: 'build/a.o', size: 4000 },
          { path: 'build/b.o', size: 6000 },
        ],
        [{ path: '.wh.build' }],
      ],
    });
    expect(r.wasted_bytes).toBe(0);
    expect(r.inefficient_files).toEqual([]);
    expect(r.reclaimable_bytes).toBe(10_000);
    expect(r.layers[2]).toMatchObject({ files_removed: 2 });
  });

  it('handles opaque whiteouts: dive ignores them, the overlay hides everything below', async () => {
    const r = await analyze({
      layers: [
        [
          { path: 'srv', type: 'directory' },
          { path: 'srv/old1', size: 300 },
          { path: 'srv/old2', size: 700 },
        ],
        [
          { path: 'srv', type: 'directory' },
          { path: 'srv/.wh..wh..opq' },
          { path: 'srv/new', size: 50 },
        ],
      ],
      layout: 'oci',
      compression: 'gzip',
    });
    expect(r.wasted_bytes).toBe(0);
    expect(r.efficiency).toBe(1);
    expect(r.reclaimable).toMatchObject({ deleted_bytes: 1000, visible_bytes: 50, visible_files: 1 });
    expect(r.layers[1]).toMatchObject({ files_added: 1, files_removed: 2 });
    expect(r.notes.join(' ')).toMatch(/opaque whiteouts/);
  });

  it('lists added, modified and removed paths on request', async () => {
    const r = await analyze(
      {
        layers: [
          [
            { path: 'a', size: 1 },
            { path: 'b', size: 2 },
          ],
          [{ path: 'a', size: 3 }, { path: '.wh.b' }, { path: 'c', size: 4 }],
        ],
      },
      4096,
      { fileLists: true },
    );
    expect(r.layers[1]!.files).toEqual({ added: ['/c'], modified: ['/a'], removed: ['/b'], truncated: false });
    const plain = await analyze({ layers: [[{ path: 'a', size: 1 }]] });
    expect(plain.layers[0]!.files).toBeUndefined();
  });

  it('replaces a directory by a file and a file by a directory', async () => {
    const r = await analyze({
      layers: [
        [
          { path: 'x', type: 'directory' },
          { path: 'x/one', size: 10 },
          { path: 'y', size: 20 },
        ],
        [
          { path: 'x', size: 5 },
          { path: 'y', type: 'directory' },
          { path: 'y/two', size: 7 },
        ],
      ],
    });
    expect(r.reclaimable).toMatchObject({ superseded_bytes: 30, visible_bytes: 12 });
  });
});

describe('layers, history and formats', () => {
  it('matches history entries to layers skipping empty_layer entries, and reports (missing) beyond', async () => {
    const r = await analyze({
      layers: [[{ path: 'a', size: 1 }], [{ path: 'b', size: 1 }], [{ path: 'c', size: 1 }]],
      history: [
        { created_by: '/bin/sh -c #(nop) ADD file:abc in / ' },
        { created_by: '/bin/sh -c #(nop)  CMD ["sh"]', empty_layer: true },
        { created_by: '|1 VERSION=2 /bin/sh -c apt-get update' },
        { created_by: '/bin/sh -c #(nop)  ENV A=b', empty_layer: true },
      ],
    });
    expect(r.layers.map((l) => l.command)).toEqual(['#(nop) ADD file:abc in / ', '|1 VERSION=2 /bin/sh -c apt-get update', '(missing)']);
    expect(r.layers.map((l) => l.instruction)).toEqual(['ADD file:abc in /', 'RUN apt-get update', null]);
    expect(r.layers.map((l) => l.history_index)).toEqual([0, 2, null]);
  });

  it('cleans BuildKit history entries', () => {
    expect(instructionFromCreatedBy('RUN /bin/sh -c dd if=/dev/zero of=/x # buildkit')).toBe('RUN dd if=/dev/zero of=/x');
    expect(instructionFromCreatedBy('COPY app /app # buildkit')).toBe('COPY app /app');
  });

  it('reports digests from rootfs.diff_ids and verifies them on request', async () => {
    const tars = await Promise.all(DIVE_TEST_EFFICIENCY_LAYERS.map(layerTar));
    const r = await analyze({ layers: DIVE_TEST_EFFICIENCY_LAYERS, layout: 'oci', compression: 'gzip' }, 65536, { verifyDigests: true });
    expect(r.layers.map((l) => l.digest)).toEqual(tars.map((t) => `sha256:${sha256(t)}`));
    expect(r.layers.every((l) => l.blob_digest?.startsWith('sha256:'))).toBe(true);
    await expect(
      analyze({ layers: DIVE_TEST_EFFICIENCY_LAYERS, diffIds: tars.map(() => `sha256:${'0'.repeat(64)}`) }, 65536, { verifyDigests: true }),
    ).rejects.toMatchObject({ status: 422, code: 'IMAGE_LAYER_DIGEST_MISMATCH' });
  });

  it('reads a gzip-compressed docker save stream', async () => {
    const buf = zlib.gzipSync(await imageArchive({ layers: DIVE_TEST_EFFICIENCY_LAYERS }));
    const r = await analyzeImageArchive(streamOf(buf, 777));
    expect(r.archive_compression).toBe('gzip');
    expect(r.efficiency).toBe(0.75);
  });

  it('recognises an uncompressed layer blob whose first file name starts with { or [ as a tar', async () => {
    const r = await analyze({ layers: [[{ path: '{weird}.json', size: 3 }, { path: '[x]', size: 4 }]], layout: 'oci', compression: 'none' });
    expect(r.size_bytes).toBe(7);
  });

  it('follows symlinked legacy layer.tar members', async () => {
    const t = await layerTar([{ path: 'f', size: 10 }]);
    const config = Buffer.from(JSON.stringify({ rootfs: { diff_ids: [] }, history: [] }));
    const file = (name: string, body: Buffer) => ({ header: { name, size: body.length }, body });
    const buf = await packTar([
      file('aaa/layer.tar', t),
      { header: { name: 'bbb/layer.tar', type: 'symlink', linkname: '../aaa/layer.tar' } },
      file('cfg.json', config),
      file('manifest.json', Buffer.from(JSON.stringify([{ Config: 'cfg.json', RepoTags: null, Layers: ['aaa/layer.tar', 'bbb/layer.tar'] }]))),
    ]);
    const r = await analyzeImageArchive(streamOf(buf));
    expect(r.layers).toHaveLength(2);
    expect(r.inefficient_files).toEqual([{ path: '/f', count: 2, size_bytes: 20 }]);
  });

  it('picks the image by tag from a multi-image manifest.json', async () => {
    const t1 = await layerTar([{ path: 'one', size: 1 }]);
    const t2 = await layerTar([{ path: 'two', size: 2 }]);
    const cfg = Buffer.from('{"history":[]}');
    const file = (name: string, body: Buffer) => ({ header: { name, size: body.length }, body });
    const buf = await packTar([
      file('l1/layer.tar', t1),
      file('l2/layer.tar', t2),
      file('c.json', cfg),
      file('manifest.json', Buffer.from(JSON.stringify([
        { Config: 'c.json', RepoTags: ['one:1'], Layers: ['l1/layer.tar'] },
        { Config: 'c.json', RepoTags: ['two'], Layers: ['l2/layer.tar'] },
      ]))),
    ]);
    expect((await analyzeImageArchive(streamOf(buf))).size_bytes).toBe(1);
    expect((await analyzeImageArchive(streamOf(buf), { image: 'two:latest' })).size_bytes).toBe(2);
    await expect(analyzeImageArchive(streamOf(buf), { image: 'three' })).rejects.toMatchObject({ code: 'IMAGE_ARCHIVE_INVALID' });
  });

  it('formats a table and dive export JSON', async () => {
    const r = await analyze({ layers: DIVE_TEST_EFFICIENCY_LAYERS }, 65536, { diveFileList: true });
    const table = formatImageReport(r);
    expect(table).toContain('efficiency:         75.00 %');
    expect(table).toContain('wastedBytes:        7000 bytes (7.0 kB)');
    expect(table).toContain('userWastedPercent:  46.67 %');
    expect(table).toMatch(/2\s+7\.0 kB\s+\/etc\/nginx\/nginx\.conf/);
    expect(table).toContain('reclaimableBytes:   10000 bytes');
    const json = JSON.parse(formatImageReport(r, 'json'));
    expect(Object.keys(json)).toEqual(['layer', 'image', 'pitlane']);
    expect(json.image).toEqual({ sizeBytes: 20000, inefficientBytes: 7000, efficiencyScore: 0.75, fileReference: [{ count: 2, sizeBytes: 7000, file: '/etc/nginx/nginx.conf' }] });
    expect(json.layer[0]).toMatchObject({ index: 0, sizeBytes: 5000, command: 'echo layer 0' });
    // dive's fileList: every node children-first; implicit directories have an empty payload
    expect(json.layer[0].fileList.map((f: { path: string }) => f.path)).toEqual(['etc/nginx/nginx.conf', 'etc/nginx/public', '', '']);
    expect(json.layer[0].fileList[0]).toEqual({ path: 'etc/nginx/nginx.conf', typeFlag: 48, linkName: '', size: 2000, fileMode: 0o644, uid: 0, gid: 0, isDir: false });
  });

  it('keeps only the top N inefficient files, largest first', async () => {
    const layers: Entry[][] = [[], []];
    for (let i = 1; i <= 30; i++) {
      layers[0]!.push({ path: `f${i}`, size: i });
      layers[1]!.push({ path: `f${i}`, size: i });
    }
    const r = await analyze({ layers }, 65536, { topInefficientFiles: 5 });
    expect(r.inefficient_file_count).toBe(30);
    expect(r.inefficient_files.map((f) => f.size_bytes)).toEqual([60, 58, 56, 54, 52]);
  });
});

describe('zstd layers', () => {
  // One test for both kinds of Node (no skipped test): Node 20 has no zstd, Node 24 has.
  it('are decompressed where Node has zstd, and fail with a clear error where it has not', async () => {
    if (!zstdSupported()) {
      await expect(analyze({ layers: DIVE_TEST_EFFICIENCY_LAYERS, layout: 'oci', compression: 'zstd' })).rejects.toMatchObject({
        status: 422,
        code: 'IMAGE_LAYER_UNSUPPORTED',
        message: expect.stringContaining('zstd layers need Node >= 22.15'),
      });
      return;
    }
    const r = await analyze({ layers: DIVE_TEST_EFFICIENCY_LAYERS, layout: 'oci', compression: 'zstd' });
    expect(r.efficiency).toBe(0.75);
    expect(r.layers[0]!.compression).toBe('zstd');
  });
});
