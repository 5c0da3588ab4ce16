/**
 * Pure resolution of an image archive's layout: from the small JSON files of a `docker save`
 * (or OCI image-layout) tar, work out which config and which layer blobs, in which order, make
 * up the image.
 *
 * - Legacy `docker save` (Docker <= 24, e.g. the 20.10 engine): `manifest.json` is
 *   `[{Config: "<hex>.json", RepoTags: [...], Layers: ["<id>/layer.tar", ...]}]`.
 * - Docker >= 25 writes an OCI layout (`index.json`, `oci-layout`, `blobs/sha256/<hex>`) and also
 *   a `manifest.json` whose paths point into `blobs/`. Like dive, `manifest.json` wins when present.
 * - A pure OCI layout (no `manifest.json`) is followed from `index.json` through nested image
 *   indexes (choosing the platform) to an image manifest.
 */
import { archiveError } from './errors.js';

/** The parts of an image config (OCI image-spec `config.md`) the report uses. */
export interface ImageConfigJson {
  architecture?: string;
  os?: string;
  created?: string;
  config?: {
    Env?: string[] | null;
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    User?: string;
    Labels?: Record<string, string> | null;
    ExposedPorts?: Record<string, object> | null;
    Volumes?: Record<string, object> | null;
  } | null;
  rootfs?: { type?: string; diff_ids?: string[] };
  history?: Array<{ created?: string; created_by?: string; comment?: string; empty_layer?: boolean; author?: string }>;
}

/** One layer as the manifest lists it. */
export interface ResolvedLayerRef {
  /** Path of the layer blob inside the archive, e.g. `abc.../layer.tar` or `blobs/sha256/<hex>`. */
  path: string;
  /** OCI media type when the manifest gives one. */
  mediaType: string | null;
  /** Blob digest (`sha256:<hex>`) for OCI layouts, `null` for legacy `layer.tar` paths. */
  blobDigest: string | null;
}

/** The resolved image inside an archive. */
export interface ResolvedImage {
  /** `legacy` for `<id>/layer.tar` archives, `oci` when layers live under `blobs/`. */
  layout: 'legacy' | 'oci';
  /** Which file described the image. */
  manifestSource: 'manifest.json' | 'index.json';
  /** Archive path of the config JSON. */
  configPath: string;
  /** `sha256:<hex>` of the config (the image id), when derivable from its path. */
  configDigest: string | null;
  /** Parsed config. */
  config: ImageConfigJson;
  /** `RepoTags` from `manifest.json` or reference annotations from `index.json`. */
  repoTags: string[];
  /** Layers bottom to top. */
  layers: ResolvedLayerRef[];
}

/** How to pick one image when the archive holds several. */
export interface ImageSelection {
  /** A repo tag (`name:tag`) or OCI reference annotation to pick; default the first image. */
  image?: string;
  /** `os/arch[/variant]` to pick from a multi-platform OCI index; default this host's platform, else the first. */
  platform?: string;
}

const DIGEST_RE = /^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;

/** Archive path of a blob digest (`sha256:ab..` -> `blobs/sha256/ab..`); throws on a malformed digest. */
export function blobPath(digest: unknown, field: string): string {
  if (typeof digest !== 'string') throw invalid(`${field} is not a digest string`, field);
  const m = DIGEST_RE.exec(digest);
  if (!m) throw invalid(`${field} '${digest}' is not a valid digest`, field);
  return `blobs/${m[1]}/${m[2]}`;
}

/**
 * Normalises a member path of the outer archive (`./manifest.json` -> `manifest.json`) and
 * rejects absolute paths and `..` (422 `IMAGE_ARCHIVE_UNSAFE_PATH`).
 */
export function normalizeMemberPath(name: string, field: string): string {
  if (name.startsWith('/') || name.split('/').includes('..')) {
    throw archiveError('IMAGE_ARCHIVE_UNSAFE_PATH', `${field} refers to an unsafe path '${name}'`, [
      { path: field, message: "archive member paths must be relative and must not contain '..'" },
    ]);
  }
  return name
    .split('/')
    .filter((p) => p !== '' && p !== '.')
    .join('/');
}

/** Resolves the image from the archive's JSON files. `readJson(path)` returns a member's parsed JSON or `undefined`. */
export function resolveImage(readJson: (path: string) => unknown, selection: ImageSelection = {}): ResolvedImage {
  const manifest = readJson('manifest.json');
  if (manifest !== undefined) return fromDockerManifest(manifest, readJson, selection);
  const index = readJson('index.json');
  if (index !== undefined) return fromOciIndex(index, readJson, selection);
  throw archiveError(
    'IMAGE_ARCHIVE_INVALID',
    'the archive has neither manifest.json nor index.json: it is not a docker save / OCI image archive, or it is truncated',
    [{ path: 'manifest.json', message: 'missing' }],
  );
}

function fromDockerManifest(manifest: unknown, readJson: (path: string) => unknown, selection: ImageSelection): ResolvedImage {
  if (!Array.isArray(manifest) || manifest.length === 0) {
    throw invalid('manifest.json must be a non-empty array of images', 'manifest.json');
  }
  let idx = 0;
  if (selection.image !== undefined) {
    const wanted = withDefaultTag(selection.image);
    idx = manifest.findIndex((m) => Array.isArray((m as { RepoTags?: unknown }).RepoTags) && (m as { RepoTags: unknown[] }).RepoTags.some((t) => typeof t === 'string' && withDefaultTag(t) === wanted));
    if (idx < 0) throw invalid(`the archive holds no image tagged '${selection.image}'`, 'manifest.json');
  }
  const entry = manifest[idx] as { Config?: unknown; RepoTags?: unknown; Layers?: unknown };
  const field = `manifest.json[${idx}]`;
  if (typeof entry !== 'object' || entry === null) throw invalid(`${field} is not an object`, field);
  if (typeof entry.Config !== 'string') throw invalid(`${field}.Config is missing`, `${field}.Config`);
  if (!Array.isArray(entry.Layers) || !entry.Layers.every((l) => typeof l === 'string')) {
    throw invalid(`${field}.Layers must be an array of paths`, `${field}.Layers`);
  }
  const configPath = normalizeMemberPath(entry.Config, `${field}.Config`);
  const config = readConfig(readJson, configPath, `${field}.Config`);
  const layers = (entry.Layers as string[]).map((l, i) => {
    const path = normalizeMemberPath(l, `${field}.Layers[${i}]`);
    const m = /^blobs\/([a-z0-9]+)\/([a-zA-Z0-9=_-]+)$/.exec(path);
    return { path, mediaType: null, blobDigest: m ? `${m[1]}:${m[2]}` : null };
  });
  const repoTags = Array.isArray(entry.RepoTags) ? entry.RepoTags.filter((t): t is string => typeof t === 'string') : [];
  return {
    layout: layers.some((l) => l.path.startsWith('blobs/')) || configPath.startsWith('blobs/') ? 'oci' : 'legacy',
    manifestSource: 'manifest.json',
    configPath,
    configDigest: digestFromPath(configPath),
    config,
    repoTags,
    layers,
  };
}

interface Descriptor {
  mediaType?: string;
  digest?: string;
  annotations?: Record<string, string>;
  platform?: { os?: string; architecture?: string; variant?: string };
}

const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);

function fromOciIndex(index: unknown, readJson: (path: string) => unknown, selection: ImageSelection): ResolvedImage {
  let current: unknown = index;
  let field = 'index.json';
  let repoTags: string[] = [];
  for (let depth = 0; depth < 8; depth++) {
    const obj = current as { manifests?: unknown; layers?: unknown; config?: unknown; mediaType?: string };
    if (typeof obj !== 'object' || obj === null) throw invalid(`${field} is not a JSON object`, field);
    if (Array.isArray(obj.manifests)) {
      const descriptors = obj.manifests as Descriptor[];
      const picked = pickDescriptor(descriptors, selection, field);
      const ref = picked.d.annotations?.['io.containerd.image.name'] ?? picked.d.annotations?.['org.opencontainers.image.ref.name'];
      if (ref && repoTags.length === 0) repoTags = [ref];
      field = `${field}.manifests[${picked.i}]`;
      const path = blobPath(picked.d.digest, `${field}.digest`);
      current = readJson(path);
      if (current === undefined) throw invalid(`${field} points to ${path}, which is missing from the archive`, field);
      field = path;
      continue;
    }
    if (obj.config !== undefined || Array.isArray(obj.layers)) {
      const config = obj.config as Descriptor | undefined;
      const configPath = blobPath(config?.digest, `${field}.config.digest`);
      if (!Array.isArray(obj.layers)) throw invalid(`${field}.layers must be an array`, `${field}.layers`);
      const layers = (obj.layers as Descriptor[]).map((l, i) => ({
        path: blobPath(l?.digest, `${field}.layers[${i}].digest`),
        mediaType: typeof l?.mediaType === 'string' ? l.mediaType : null,
        blobDigest: l.digest!,
      }));
      return {
        layout: 'oci',
        manifestSource: 'index.json',
        configPath,
        configDigest: config!.digest!,
        config: readConfig(readJson, configPath, `${field}.config`),
        repoTags,
        layers,
      };
    }
    throw invalid(`${field} is neither an image index nor an image manifest`, field);
  }
  throw invalid('image indexes are nested more than 8 deep', 'index.json');
}

function pickDescriptor(descriptors: Descriptor[], selection: ImageSelection, field: string): { d: Descriptor; i: number } {
  const candidates = descriptors
    .map((d, i) => ({ d, i }))
    .filter(({ d }) => typeof d === 'object' && d !== null)
    .filter(({ d }) => d.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest' && d.platform?.os !== 'unknown');
  if (candidates.length === 0) throw invalid(`${field}.manifests lists no image`, `${field}.manifests`);
  if (selection.image !== undefined) {
    const wanted = withDefaultTag(selection.image);
    const hit = candidates.find(({ d }) => {
      const a = d.annotations ?? {};
      const names = [a['io.containerd.image.name'], a['org.opencontainers.image.ref.name']].filter((x): x is string => typeof x === 'string');
      return names.some((n) => n === selection.image || withDefaultTag(n) === wanted);
    });
    if (hit) return hit;
  }
  if (candidates.some(({ d }) => d.platform)) {
    const want = selection.platform ?? hostPlatform();
    const [os, arch, variant] = want.split('/');
    const hit =
      candidates.find(({ d }) => d.platform?.os === os && d.platform?.architecture === arch && (variant === undefined || d.platform?.variant === variant)) ??
      (selection.platform === undefined ? undefined : null);
    if (hit === null) throw invalid(`${field} has no image for platform ${selection.platform}`, `${field}.manifests`);
    if (hit) return hit;
  }
  return candidates[0]!;
}

function hostPlatform(): string {
  const arch = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', ia32: '386' }[process.arch as string] ?? process.arch;
  return `linux/${arch}`;
}

function readConfig(readJson: (path: string) => unknown, path: string, field: string): ImageConfigJson {
  const config = readJson(path);
  if (config === undefined) {
    throw invalid(`the image config ${path} (from ${field}) is missing from the archive`, field);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw invalid(`the image config ${path} is not a JSON object`, path);
  const c = config as ImageConfigJson;
  if (c.history !== undefined && !Array.isArray(c.history)) throw invalid(`${path}: history must be an array`, `${path}.history`);
  if (c.rootfs?.diff_ids !== undefined && !Array.isArray(c.rootfs.diff_ids)) throw invalid(`${path}: rootfs.diff_ids must be an array`, `${path}.rootfs.diff_ids`);
  return c;
}

function digestFromPath(path: string): string | null {
  let m = /^blobs\/([a-z0-9]+)\/([a-f0-9]{64})$/.exec(path);
  if (m) return `${m[1]}:${m[2]}`;
  m = /^([a-f0-9]{64})\.json$/.exec(path);
  if (m) return `sha256:${m[1]}`;
  m = /^sha256:([a-f0-9]{64})$/.exec(path);
  if (m) return `sha256:${m[1]}`;
  return null;
}

function withDefaultTag(ref: string): string {
  const lastSlash = ref.lastIndexOf('/');
  return ref.indexOf(':', lastSlash + 1) >= 0 || ref.includes('@') ? ref : `${ref}:latest`;
}

function invalid(message: string, path: string) {
  return archiveError('IMAGE_ARCHIVE_INVALID', message, [{ path, message }]);
}
