import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { isPitlaneError } from '../../../src/errors.js';
import { analyzeImageArchive } from '../../../src/image/index.js';
import { TarScanner, type TarHeader } from '../../../src/image/tar-scanner.js';
import { DIVE_TEST_EFFICIENCY_LAYERS, imageArchive, layerTar, packTar, streamOf } from './archive-builder.js';

const file = (name: string, body: Buffer) => ({ header: { name, size: body.length }, body });

async function archiveWithLayer(layer: Buffer, name = 'l/layer.tar'): Promise<Buffer> {
  return packTar([
    file(name, layer),
    file('c.json', Buffer.from('{"history":[]}')),
    file('manifest.json', Buffer.from(JSON.stringify([{ Config: 'c.json', RepoTags: [], Layers: [name] }]))),
  ]);
}

describe('corrupt and truncated archives', () => {
  it('rejects bytes that are not an archive', async () => {
    const junk = Buffer.from('this is not a tar archive at all '.repeat(40));
    await expect(analyzeImageArchive(streamOf(junk))).rejects.toMatchObject({ status: 422, code: 'IMAGE_ARCHIVE_INVALID', message: expect.stringContaining('not a valid tar') });
  });

  it('rejects an empty stream', async () => {
    await expect(analyzeImageArchive(Readable.from([]))).rejects.toMatchObject({ status: 422, code: 'IMAGE_ARCHIVE_INVALID' });
  });

  it('rejects a tar without manifest.json or index.json', async () => {
    const buf = await packTar([file('hello.txt', Buffer.from('hi'))]);
    await expect(analyzeImageArchive(streamOf(buf))).rejects.toMatchObject({ code: 'IMAGE_ARCHIVE_INVALID', message: expect.stringMatching(/neither manifest\.json nor index\.json/) });
  });

  it('reports an archive cut inside a layer as truncated', async () => {
    const full = await imageArchive({ layers: DIVE_TEST_EFFICIENCY_LAYERS });
    for (const cut of [700, 3000, Math.floor(full.length / 2)]) {
      await expect(analyzeImageArchive(streamOf(full.subarray(0, cut)))).rejects.toMatchObject({ status: 422, code: 'IMAGE_ARCHIVE_TRUNCATED' });
    }
  });

  it('reports an archive cut between members (manifest missing) clearly', async () => {
    const layer = await layerTar([{ path: 'a', size: 10 }]);
    const buf = await packTar([file('l/layer.tar', layer)]);
    await expect(analyzeImageArchive(streamOf(buf))).rejects.toMatchObject({ code: 'IMAGE_ARCHIVE_INVALID', message: expect.stringContaining('truncated') });
  });

  it('reports a truncated gzip layer', async () => {
    const gz = zlib.gzipSync(await layerTar([{ path: 'a', size: 5000 }, { path: 'b', size: 5000 }]));
    const buf = await archiveWithLayer(gz.subarray(0, gz.length - 40), 'blobs/sha256/' + 'a'.repeat(64));
    await expect(analyzeImageArchive(streamOf(buf))).rejects.toMatchObject({ status: 422, code: expect.stringMatching(/IMAGE_ARCHIVE_(TRUNCATED|INVALID)/) });
  });

  it('reports corrupt gzip data', async () => {
    const gz = zlib.gzipSync(await layerTar([{ path: 'a', size: 5000 }]));
    gz.fill(0x41, 20, 60);
    const buf = await archiveWithLayer(gz, 'blobs/sha256/' + 'b'.repeat(64));
    await expect(analyzeImageArchive(streamOf(buf))).rejects.toMatchObject({ status: 422, code: expect.stringMatching(/^IMAGE_ARCHIVE_/) });
  });

  it('names the layer whose tar header checksum is wrong', async () => {
    const layer = await layerTar([{ path: 'a', size: 10 }, { path: 'b', size: 10 }]);
    layer[1024 + 3] = layer[1024 + 3]! ^ 0xff; // second header, name field
    const buf = await archiveWithLayer(layer, 'abc/layer.tar');
    await expect(analyzeImageArchive(streamOf(buf))).rejects.toMatchObject({
      code: 'IMAGE_ARCHIVE_INVALID',
      message: expect.stringMatching(/layer abc\/layer\.tar .*checksum at byte 1024/),
    });
  });

  it('rejects invalid JSON in manifest.json', async () => {
    const layer = await layerTar([{ path: 'a', size: 1 }]);
    const buf = await packTar([file('l/layer.tar', layer), file('manifest.json', Buffer.from('[{"Config": '))]);
    await expect(analyzeImageArchive(streamOf(buf))).rejects.toMatchObject({ code: 'IMAGE_ARCHIVE_INVALID', details: [expect.objectContaining({ path: 'manifest.json' })] });
  });

  it('rejects a manifest that references a layer missing from the archive', async () => {
    const buf = await packTar([
      file('c.json', Buffer.from('{}')),
      file('manifest.json', Buffer.from(JSON.stringify([{ Config: 'c.json', Layers: ['gone/layer.tar'] }]))),
    ]);
    await expect(analyzeImageArchive(streamOf(buf))).rejects.toMatchObject({ code: 'IMAGE_ARCHIVE_INVALID', message: expect.stringContaining('gone/layer.tar') });
  });

  it('turns a failing source stream into 502 IMAGE_SOURCE_FAILED', async () => {
    const full = await imageArchive({ layers: DIVE_TEST_EFFICIENCY_LAYERS });
    const failing = new Readable({
      read() {
        this.push(full.subarray(0, 2048));
        this.destroy(new Error('connection reset by engine'));
      },
    });
    await expect(analyzeImageArchive(failing)).rejects.toMatchObject({ status: 502, code: 'IMAGE_SOURCE_FAILED', message: expect.stringContaining('connection reset') });
  });

  it('reports a source that closes early or errors, also under a gzip-compressed archive', async () => {
    const plain = await imageArchive({ layers: DIVE_TEST_EFFICIENCY_LAYERS, layout: 'docker25', compression: 'gzip' });
    for (const buf of [plain, zlib.gzipSync(plain)]) {
      for (const how of ['close', 'error'] as const) {
        const src = new Readable({
          read() {
            this.push(buf.subarray(0, 1500));
            if (how === 'error') this.destroy(new Error('socket hang up'));
            else this.destroy();
          },
        });
        const err = await analyzeImageArchive(src).catch((e: unknown) => e);
        expect(isPitlaneError(err)).toBe(true);
        expect(err).toMatchObject({ status: 502, code: 'IMAGE_SOURCE_FAILED' });
      }
    }
  });

  it('never crashes on random corruption: always a report or a PitlaneError', async () => {
    const base = await imageArchive({ layers: DIVE_TEST_EFFICIENCY_LAYERS, layout: 'docker25', compression: 'gzip' });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat({ max: base.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 20 }),
        fc.option(fc.nat({ max: base.length }), { nil: undefined }),
        async (flips, cut) => {
          const buf = Buffer.from(base);
          for (const [at, v] of flips) buf[at] = v;
          try {
            await analyzeImageArchive(streamOf(cut === undefined ? buf : buf.subarray(0, cut), 4096));
          } catch (err) {
            expect(isPitlaneError(err)).toBe(true);
            expect([400, 422, 502]).toContain((err as { status: number }).status);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('unsafe paths', () => {
  for (const bad of ['../etc/passwd', 'a/../../b', '/etc/shadow']) {
    it(`rejects layer entry '${bad}'`, async () => {
      const layer = await packTar([file('ok.txt', Buffer.from('x')), file(bad, Buffer.from('evil'))]);
      const buf = await archiveWithLayer(layer);
      await expect(analyzeImageArchive(streamOf(buf))).rejects.toMatchObject({
        status: 422,
        code: 'IMAGE_ARCHIVE_UNSAFE_PATH',
        details: [expect.objectContaining({ path: bad })],
      });
    });
  }

  it('accepts ./-prefixed names, like many tools write', async () => {
    const layer = await packTar([
      { header: { name: './', type: 'directory' } },
      { header: { name: './etc/', type: 'directory' } },
      file('./etc/hosts', Buffer.from('127.0.0.1 localhost\n')),
    ]);
    const r = await analyzeImageArchive(streamOf(await archiveWithLayer(layer)));
    expect(r.layers[0]!.entries).toBe(2);
    expect(r.size_bytes).toBe(20);
  });

  it('rejects a manifest layer path that escapes the archive', async () => {
    const buf = await packTar([
      file('c.json', Buffer.from('{}')),
      file('manifest.json', Buffer.from(JSON.stringify([{ Config: 'c.json', Layers: ['../../outside.tar'] }]))),
    ]);
    await expect(analyzeImageArchive(streamOf(buf))).rejects.toMatchObject({ code: 'IMAGE_ARCHIVE_UNSAFE_PATH' });
  });

  it('rejects an OCI digest that is not a digest', async () => {
    const buf = await packTar([file('index.json', Buffer.from(JSON.stringify({ manifests: [{ digest: 'sha256:../../x' }] })))]);
    await expect(analyzeImageArchive(streamOf(buf))).rejects.toMatchObject({ code: 'IMAGE_ARCHIVE_INVALID', message: expect.stringContaining('not a valid digest') });
  });

  it('rejects absurdly long paths', async () => {
    const layer = await packTar([file(`${'d/'.repeat(3000)}f`, Buffer.from('x'))]);
    await expect(analyzeImageArchive(streamOf(await archiveWithLayer(layer)))).rejects.toMatchObject({ code: 'IMAGE_ARCHIVE_UNSAFE_PATH' });
  });
});

describe('limits', () => {
  it('stops at thousands of layers with IMAGE_ARCHIVE_TOO_LARGE, without reading further', async () => {
    const layer = await layerTar([{ path: 'x', size: 1 }]);
    const members = [];
    for (let i = 0; i < 3000; i++) members.push(file(`${String(i).padStart(6, '0')}/layer.tar`, layer));
    const buf = await packTar(members);
    const before = process.memoryUsage().heapUsed;
    const err = await analyzeImageArchive(streamOf(buf)).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 422, code: 'IMAGE_ARCHIVE_TOO_LARGE', message: expect.stringContaining('more than 1000 layers') });
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('rejects a manifest listing more layers than allowed', async () => {
    const layer = await layerTar([{ path: 'x', size: 1 }]);
    const buf = await packTar([
      file('l/layer.tar', layer),
      file('c.json', Buffer.from('{}')),
      file('manifest.json', Buffer.from(JSON.stringify([{ Config: 'c.json', Layers: Array(5000).fill('l/layer.tar') }]))),
    ]);
    await expect(analyzeImageArchive(streamOf(buf))).rejects.toMatchObject({ code: 'IMAGE_ARCHIVE_TOO_LARGE', message: expect.stringContaining('5000 layers') });
  });

  it('enforces maxLayers, maxEntries and maxJsonBytes options', async () => {
    const buf = await imageArchive({ layers: DIVE_TEST_EFFICIENCY_LAYERS });
    await expect(analyzeImageArchive(streamOf(buf), { maxLayers: 2 })).rejects.toMatchObject({ code: 'IMAGE_ARCHIVE_TOO_LARGE' });
    await expect(analyzeImageArchive(streamOf(buf), { maxEntries: 3 })).rejects.toMatchObject({ code: 'IMAGE_ARCHIVE_TOO_LARGE', message: expect.stringContaining('more than 3 files') });
    await expect(analyzeImageArchive(streamOf(buf), { maxJsonBytes: 50 })).rejects.toMatchObject({ code: 'IMAGE_ARCHIVE_INVALID', message: expect.stringContaining('exceeds the limit') });
  });
});

describe('TarScanner', () => {
  const scan = (buf: Buffer, chunk: number): TarHeader[] => {
    const seen: TarHeader[] = [];
    const s = new TarScanner({ onEntry: (h) => (seen.push(h), null) }, { label: 'test' });
    for (let i = 0; i < buf.length; i += chunk) s.write(buf.subarray(i, i + chunk));
    s.end();
    return seen;
  };

  it('reads PAX long names and long link names, sizes and types', async () => {
    const long = `${'very-long-directory-name/'.repeat(12)}file.txt`;
    const buf = await packTar([
      file(long, Buffer.alloc(1234)),
      { header: { name: 'link', type: 'symlink', linkname: `/${'target/'.repeat(30)}x` } },
      { header: { name: 'dir/', type: 'directory', mode: 0o1777 } },
    ]);
    for (const chunk of [1, 7, 512, 100_000]) {
      const seen = scan(buf, chunk);
      expect(seen.map((h) => [h.name, h.type, h.size])).toEqual([
        [long, 'file', 1234],
        ['link', 'symlink', 0],
        ['dir/', 'directory', 0],
      ]);
      expect(seen[1]!.linkname).toBe(`/${'target/'.repeat(30)}x`);
      expect(seen[2]!.mode & 0o7777).toBe(0o1777);
    }
  });

  it('reads base-256 encoded sizes', () => {
    const h = Buffer.alloc(512);
    h.write('big', 0);
    h.write('0000644\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h[124] = 0x80; // base-256 size: 600 bytes
    h.writeUInt16BE(600, 134);
    h.write('00000000000\0', 136);
    h[156] = 0x30;
    h.write('ustar\0', 257);
    h.write('00', 263);
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    const buf = Buffer.concat([h, Buffer.alloc(1024), Buffer.alloc(1024)]);
    expect(scan(buf, 100).map((x) => [x.name, x.size])).toEqual([['big', 600]]);
  });

  it('reports where a stream ends inside an entry', async () => {
    const buf = await packTar([file('a', Buffer.alloc(2000))]);
    expect(() => scan(buf.subarray(0, 1000), 512)).toThrow(/ends inside entry 'a'/);
    expect(() => scan(buf.subarray(0, 300), 512)).toThrow(/inside a tar header/);
  });
});
