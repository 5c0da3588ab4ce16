/**
 * Test helper: builds `docker save` archives in memory with tar-stream, in the legacy layout
 * (`<id>/layer.tar` + `manifest.json`, as Docker 20.10 writes them), the Docker >= 25 layout
 * (`blobs/sha256/...` + `index.json` + `manifest.json`) and the pure OCI layout (`index.json` only).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import tar from 'tar-stream';

/** A tar-stream entry header (name required). */
export type TarHeaderArg = Partial<tar.Header> & { name: string };

/** One tar entry of a layer. `size` makes a zero-filled body of that many bytes. */
export interface Entry {
  path: string;
  size?: number;
  content?: string | Buffer;
  type?: 'file' | 'directory' | 'symlink' | 'link';
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
}

/** A whole image. */
export interface ImageSpec {
  layers: Entry[][];
  /** Config history; default one `created_by` per layer. */
  history?: Array<{ created_by?: string; empty_layer?: boolean; created?: string }>;
  layout?: 'legacy' | 'docker25' | 'oci';
  /** Layer compression (legacy layout is always uncompressed, like docker save). */
  compression?: 'none' | 'gzip' | 'zstd';
  /** Put the JSON files first instead of after the layers. */
  jsonFirst?: boolean;
  repoTags?: string[];
  /** Extra config fields. */
  config?: Record<string, unknown>;
  /** Override diff ids written in the config. */
  diffIds?: string[];
}

/** Packs entries into a tar buffer. */
export async function packTar(entries: Array<{ header: TarHeaderArg; body?: Buffer }>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c: unknown) => {
      chunks.push(c as Buffer);
    });
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => {
      pack.entry(e.header, e.body ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** A layer tar from entries (directories get a trailing `/`, like Docker writes them). */
export async function layerTar(entries: Entry[]): Promise<Buffer> {
  return packTar(
    entries.map((e) => {
      const type = e.type ?? 'file';
      const body = type === 'file' ? (e.content !== undefined ? Buffer.from(e.content) : Buffer.alloc(e.size ?? 0)) : Buffer.alloc(0);
      return {
        header: {
          name: type === 'directory' && !e.path.endsWith('/') ? `${e.path}/` : e.path,
          type,
          size: body.length,
          mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
          uid: e.uid ?? 0,
          gid: e.gid ?? 0,
          ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
          mtime: new Date(0),
        },
        body,
      };
    }),
  );
}

export function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

function compress(buf: Buffer, kind: 'none' | 'gzip' | 'zstd'): Buffer {
  if (kind === 'gzip') return zlib.gzipSync(buf);
  if (kind === 'zstd') {
    const z = (zlib as unknown as { zstdCompressSync?: (b: Buffer) => Buffer }).zstdCompressSync;
    if (z) return z(buf);
    // A zstd frame header followed by junk: enough to be sniffed as zstd on a Node without zstd.
    return Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), buf]);
  }
  return buf;
}

/** Builds a whole image archive. */
export async function imageArchive(spec: ImageSpec): Promise<Buffer> {
  const layout = spec.layout ?? 'legacy';
  const compression = layout === 'legacy' ? 'none' : (spec.compression ?? 'gzip');
  const tars = await Promise.all(spec.layers.map((l) => layerTar(l)));
  const diffIds = spec.diffIds ?? tars.map((t) => `sha256:${sha256(t)}`);
  const history = spec.history ?? spec.layers.map((_, i) => ({ created_by: `/bin/sh -c echo layer ${i}`, created: '2026-01-01T00:00:00Z' }));
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created: '2026-01-01T00:00:00Z',
      config: { Env: ['PATH=/usr/bin:/bin'], Cmd: ['sh'] },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history,
      ...spec.config,
    }),
  );
  const configHex = sha256(config);
  const repoTags = spec.repoTags ?? ['example/app:1.0'];
  const file = (name: string, body: Buffer) => ({ header: { name, type: 'file' as const, size: body.length, mode: 0o644, mtime: new Date(0) }, body });
  const dir = (name: string) => ({ header: { name, type: 'directory' as const, mode: 0o755, mtime: new Date(0) } });

  const layerMembers: Array<{ header: TarHeaderArg; body?: Buffer }> = [];
  const jsonMembers: Array<{ header: TarHeaderArg; body?: Buffer }> = [];
  if (layout === 'legacy') {
    const layerPaths: string[] = [];
    tars.forEach((t, i) => {
      const id = sha256(Buffer.concat([Buffer.from(String(i)), t]));
      layerMembers.push(dir(`${id}/`));
      layerMembers.push(file(`${id}/VERSION`, Buffer.from('1.0')));
      layerMembers.push(file(`${id}/json`, Buffer.from(JSON.stringify({ id }))));
      layerMembers.push(file(`${id}/layer.tar`, t));
      layerPaths.push(`${id}/layer.tar`);
    });
    jsonMembers.push(file(`${configHex}.json`, config));
    jsonMembers.push(file('manifest.json', Buffer.from(JSON.stringify([{ Config: `${configHex}.json`, RepoTags: repoTags, Layers: layerPaths }]))));
    jsonMembers.push(file('repositories', Buffer.from('{}')));
  } else {
    const mediaType = { none: 'application/vnd.oci.image.layer.v1.tar', gzip: 'application/vnd.oci.image.layer.v1.tar+gzip', zstd: 'application/vnd.oci.image.layer.v1.tar+zstd' }[compression];
    const blobs = tars.map((t) => compress(t, compression));
    const layerDescs = blobs.map((b) => ({ mediaType, digest: `sha256:${sha256(b)}`, size: b.length }));
    layerMembers.push(dir('blobs/'), dir('blobs/sha256/'));
    blobs.forEach((b) => layerMembers.push(file(`blobs/sha256/${sha256(b)}`, b)));
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${configHex}`, size: config.length },
        layers: layerDescs,
      }),
    );
    const manifestHex = sha256(manifest);
    jsonMembers.push(file(`blobs/sha256/${configHex}`, config));
    jsonMembers.push(file(`blobs/sha256/${manifestHex}`, manifest));
    jsonMembers.push(file('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}')));
    jsonMembers.push(
      file(
        'index.json',
        Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: 'application/vnd.oci.image.index.v1+json',
            manifests: [
              {
                mediaType: 'application/vnd.oci.image.manifest.v1+json',
                digest: `sha256:${manifestHex}`,
                size: manifest.length,
                annotations: { 'io.containerd.image.name': `docker.io/${repoTags[0]}`, 'org.opencontainers.image.ref.name': repoTags[0]?.split(':')[1] ?? 'latest' },
              },
            ],
          }),
        ),
      ),
    );
    if (layout === 'docker25') {
      jsonMembers.push(
        file(
          'manifest.json',
          Buffer.from(JSON.stringify([{ Config: `blobs/sha256/${configHex}`, RepoTags: repoTags, Layers: blobs.map((b) => `blobs/sha256/${sha256(b)}`) }])),
        ),
      );
    }
  }
  return packTar(spec.jsonFirst ? [...jsonMembers, ...layerMembers] : [...layerMembers, ...jsonMembers]);
}

/** A readable over `buf` in chunks of `chunkSize` bytes (or of the sizes given in turn). */
export function streamOf(buf: Buffer, chunkSize: number | number[] = 64 * 1024): Readable {
  const sizes = Array.isArray(chunkSize) ? chunkSize : [chunkSize];
  return Readable.from(
    (function* () {
      let pos = 0;
      let k = 0;
      while (pos < buf.length) {
        const n = Math.max(1, sizes[k++ % sizes.length]!);
        yield buf.subarray(pos, pos + n);
        pos += n;
      }
    })(),
  );
}

/** dive's TestEfficiency layers (`dive/filetree/efficiency_test.go`), directories implicit as in the test's trees. */
export const DIVE_TEST_EFFICIENCY_LAYERS: Entry[][] = [
  [
    { path: 'etc/nginx/nginx.conf', size: 2000 },
    { path: 'etc/nginx/public', size: 3000 },
  ],
  [
    { path: 'etc/nginx/nginx.conf', size: 5000 },
    { path: 'etc/athing', size: 10000 },
  ],
  [{ path: 'etc/.wh.nginx', size: 0 }],
];

/**
 * The layers `docker build` (legacy builder) makes from dive's `.data/Dockerfile.test-image`
 * (busybox + ADD/cp/chmod/mv/rm), with dive's README.md (6,405 bytes) and `.scripts/` (2,187
 * bytes), and a busybox base layer of 1,154,361 bytes: the image behind dive's
 * `image_archive_analysis_test.go` figures.
 */
export function diveTestImageLayers(): Entry[][] {
  const f = (path: string, size = 6405): Entry => ({ path, size });
  const d = (path: string): Entry => ({ path, type: 'directory' });
  return [
    [d('bin'), f('bin/busybox', 1154361), d('etc'), d('root'), d('tmp'), d('home'), d('var')],
    [f('somefile.txt')],
    [d('root'), d('root/example'), d('root/example/really'), d('root/example/really/nested')],
    [d('root'), d('root/example'), f('root/example/somefile1.txt')],
    [d('root'), d('root/example'), f('root/example/somefile1.txt')],
    [d('root'), d('root/example'), f('root/example/somefile2.txt')],
    [d('root'), d('root/example'), f('root/example/somefile3.txt')],
    [d('root'), d('root/example'), f('root/example/.wh.somefile3.txt', 0), f('root/saved.txt')],
    [d('root'), f('root/.saved.txt')],
    [d('root'), f('root/.wh.example', 0)],
    [d('root'), d('root/.data'), f('root/.data/tag.sh', 917), f('root/.data/test.sh', 1270)],
    [d('tmp'), f('tmp/saved.again1.txt')],
    [d('root'), d('root/.data'), f('root/.data/saved.again2.txt')],
    [d('root'), f('root/saved.txt')],
  ];
}
