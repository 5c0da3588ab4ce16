/**
 * Validation of a run request into a {@link RunSpec} (pure logic). Every problem is reported as a
 * 400 naming its field; host-path volumes outside the admin's allow-list are a 403 (seed 002's
 * "secure environment": no privileged mode, no host namespaces, no Docker socket, limits always set).
 */
import { posix } from 'node:path';
import { PitlaneError, type ErrorDetail } from '../errors.js';
import { imageRefProblem, MIN_CPU_MAX_CORES, MIN_MEMORY_MAX_BYTES, parseCpuCores, parseQuantityBytes, registryTrusted } from '../manifest/index.js';

/** One mount of a run container. */
export interface RunVolume {
  /** `bind`: a host directory (allow-listed); `volume`: a named Docker volume. */
  type: 'bind' | 'volume';
  source: string;
  /** Absolute path inside the container. */
  target: string;
  readOnly: boolean;
}

/** A validated run. Limits are always set (server defaults fill what the request leaves out). */
export interface RunSpec {
  /** Run a pre-built image, or build the uploaded Dockerfile (and context) first. */
  source: { kind: 'image'; image: string } | { kind: 'dockerfile'; dockerfile: string };
  buildArgs: Record<string, string>;
  /** Command (argv); a string command becomes `["/bin/sh", "-c", command]` like Docker's shell form. */
  command: string[] | null;
  entrypoint: string[] | null;
  env: Record<string, string>;
  volumes: RunVolume[];
  workingDir: string | null;
  /** Seconds the container may run before it is stopped and the run ends `timed_out`. */
  timeoutS: number;
  memoryBytes: number;
  cpuCores: number;
  pidsLimit: number;
  network: 'none' | 'bridge';
  /** Directory whose files are kept as results, default `/data`. */
  resultsDir: string;
}

/** Admin policy for runs. */
export interface RunPolicy {
  defaultMemoryBytes: number;
  maxMemoryBytes: number;
  defaultCpuCores: number;
  maxCpuCores: number;
  pidsLimit: number;
  defaultTimeoutS: number;
  maxTimeoutS: number;
  /** Absolute host directories under which bind mounts are allowed (empty: none). */
  allowedHostPaths: string[];
  /** Registry hosts runs by image may pull from (`parseTrustedRegistries`); empty or absent: any. */
  trustedRegistries?: string[];
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const VOLUME_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/;
/** NUL and the other C0 control characters, which no path or argument may hold. */
const CONTROL = /[\u0000-\u001f\u007f]/;
const FORBIDDEN_HOST_PATHS = ['/var/run/docker.sock', '/run/docker.sock', '/var/run', '/run', '/proc', '/sys', '/dev', '/'];

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/** Parses `SRC:DST[:ro|rw]` or `{source, target, read_only}`. Pure; exported for tests. */
export function parseVolume(value: unknown, path: string, problems: ErrorDetail[]): RunVolume | undefined {
  let source: string | undefined;
  let target: string | undefined;
  let mode = 'rw';
  if (typeof value === 'string') {
    const parts = value.split(':');
    if (parts.length < 2 || parts.length > 3) {
      problems.push({ path, message: `"${value}" is not SOURCE:TARGET[:ro]` });
      return undefined;
    }
    [source, target] = parts;
    mode = parts[2] ?? 'rw';
  } else if (value && typeof value === 'object') {
    const v = value as { source?: unknown; target?: unknown; read_only?: unknown };
    if (typeof v.source === 'string') source = v.source;
    if (typeof v.target === 'string') target = v.target;
    if (v.read_only === true) mode = 'ro';
  } else {
    problems.push({ path, message: 'must be "SOURCE:TARGET[:ro]" or {source, target, read_only}' });
    return undefined;
  }
  if ((source && CONTROL.test(source)) || (target && CONTROL.test(target))) {
    problems.push({ path, message: 'the source and target must not contain control characters' });
    return undefined;
  }
  if (!source) problems.push({ path, message: 'the source is empty' });
  if (!target || !target.startsWith('/')) problems.push({ path, message: 'the target must be an absolute path inside the container' });
  if (mode !== 'ro' && mode !== 'rw') problems.push({ path, message: `mode "${mode}" is not ro or rw` });
  if (!source || !target || !target.startsWith('/') || (mode !== 'ro' && mode !== 'rw')) return undefined;
  if (source.startsWith('/')) return { type: 'bind', source: posix.normalize(source), target: posix.normalize(target), readOnly: mode === 'ro' };
  if (!VOLUME_NAME.test(source)) {
    problems.push({ path, message: `"${source}" is neither an absolute host path nor a volume name` });
    return undefined;
  }
  return { type: 'volume', source, target: posix.normalize(target), readOnly: mode === 'ro' };
}

/** True when host path `path` is inside one of `allowed` (after normalisation). */
export function hostPathAllowed(path: string, allowed: string[]): boolean {
  const normal = posix.normalize(path);
  if (FORBIDDEN_HOST_PATHS.includes(normal) || normal.endsWith('/docker.sock')) return false;
  return allowed.some((root) => {
    const base = posix.normalize(root).replace(/\/+$/, '');
    return base !== '' && (normal === base || normal.startsWith(`${base}/`));
  });
}

function parseCommand(value: unknown, path: string, problems: ErrorDetail[]): string[] | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') {
    if (value.trim() === '') {
      problems.push({ path, message: 'must not be empty' });
      return null;
    }
    if (value.includes('\0')) {
      problems.push({ path, message: 'must not contain a NUL character' });
      return null;
    }
    return ['/bin/sh', '-c', value];
  }
  if (isStringArray(value) && value.length > 0) {
    const bad = value.findIndex((arg) => arg.includes('\0'));
    if (bad !== -1) {
      problems.push({ path: `${path}.${bad}`, message: 'must not contain a NUL character' });
      return null;
    }
    return value;
  }
  problems.push({ path, message: 'must be a string or a non-empty array of strings' });
  return null;
}

function stringMap(value: unknown, path: string, problems: ErrorDetail[], checkNames: boolean): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.push({ path, message: 'must be an object of names to strings' });
    return {};
  }
  const out: Record<string, string> = {};
  for (const [key, raw] of Object.entries(value as Record<string, unknown>)) {
    if (checkNames && !ENV_NAME.test(key)) problems.push({ path: `${path}.${key}`, message: 'is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)' });
    if (typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean') {
      const text = String(raw);
      if (text.includes('\0')) problems.push({ path: `${path}.${key}`, message: 'contains a NUL byte' });
      out[key] = text;
    } else problems.push({ path: `${path}.${key}`, message: 'must be a string, number or boolean' });
  }
  return out;
}

/** The fields a run request may have (JSON body, or multipart fields). */
export const RUN_REQUEST_FIELDS = [
  'image',
  'dockerfile',
  'build_context',
  'build_args',
  'command',
  'entrypoint',
  'env',
  'volumes',
  'working_dir',
  'timeout_s',
  'resources',
  'network',
  'results_dir',
] as const;

/**
 * Validates a run request. `hasUploadedDockerfile` is true when the Dockerfile came as an upload
 * (multipart `file`, or inside the build context).
 * @throws PitlaneError 400 RUN_INVALID with every problem, 403 VOLUME_FORBIDDEN for host paths outside the allow-list.
 */
export function validateRunRequest(body: Record<string, unknown>, policy: RunPolicy, dockerfileText: string | undefined): RunSpec {
  const problems: ErrorDetail[] = [];
  for (const key of Object.keys(body)) {
    if (!(RUN_REQUEST_FIELDS as readonly string[]).includes(key)) problems.push({ path: key, message: `unknown field "${key}"` });
  }
  const image = body.image;
  let source: RunSpec['source'] | undefined;
  if (image !== undefined && dockerfileText !== undefined) {
    problems.push({ path: 'image', message: 'give either an image or a Dockerfile, not both' });
  } else if (image !== undefined) {
    const problem = typeof image !== 'string' ? 'must be a string' : image.length > 512 ? 'must be at most 512 characters long' : imageRefProblem(image);
    if (problem !== undefined) problems.push({ path: 'image', message: `is not an image reference like "busybox:latest": ${problem}` });
    else source = { kind: 'image', image: image as string };
  } else if (dockerfileText !== undefined) {
    source = { kind: 'dockerfile', dockerfile: 'Dockerfile' };
  } else {
    problems.push({ path: 'image', message: 'a run needs an image, a dockerfile, or a build_context' });
  }
  const command = parseCommand(body.command, 'command', problems);
  const entrypoint = parseCommand(body.entrypoint, 'entrypoint', problems);
  const env = stringMap(body.env, 'env', problems, true);
  const buildArgs = stringMap(body.build_args, 'build_args', problems, true);
  const volumes: RunVolume[] = [];
  if (body.volumes !== undefined && body.volumes !== null) {
    if (!Array.isArray(body.volumes)) problems.push({ path: 'volumes', message: 'must be a list' });
    else body.volumes.forEach((v, i) => {
      const volume = parseVolume(v, `volumes.${i}`, problems);
      if (volume) volumes.push(volume);
    });
  }
  let workingDir: string | null = null;
  if (body.working_dir !== undefined) {
    if (typeof body.working_dir !== 'string' || !body.working_dir.startsWith('/') || CONTROL.test(body.working_dir) || body.working_dir.length > 4096) {
      problems.push({ path: 'working_dir', message: 'must be an absolute path without control characters' });
    } else workingDir = body.working_dir;
  }
  let timeoutS = policy.defaultTimeoutS;
  if (body.timeout_s !== undefined) {
    // A number, or its decimal text (multipart fields are text); never a list, boolean or blank.
    const raw = body.timeout_s;
    const t = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isFinite(t) || t <= 0 || t > policy.maxTimeoutS) problems.push({ path: 'timeout_s', message: `must be a number of seconds above 0 and at most ${policy.maxTimeoutS}` });
    else timeoutS = t;
  }
  let memoryBytes = policy.defaultMemoryBytes;
  let cpuCores = policy.defaultCpuCores;
  if (body.resources !== undefined) {
    const resources = body.resources as Record<string, unknown>;
    if (!resources || typeof resources !== 'object' || Array.isArray(resources)) problems.push({ path: 'resources', message: 'must be an object' });
    else {
      for (const key of Object.keys(resources)) if (key !== 'memory_max' && key !== 'cpu_max') problems.push({ path: `resources.${key}`, message: 'unknown field' });
      const memory = resources.memory_max;
      if (memory !== undefined && typeof memory !== 'string' && typeof memory !== 'number') {
        problems.push({ path: 'resources.memory_max', message: 'must be a memory quantity such as "512Mi" or a number of bytes' });
      } else if (memory !== undefined) {
        try {
          memoryBytes = parseQuantityBytes(String(memory));
          if (memoryBytes > policy.maxMemoryBytes) problems.push({ path: 'resources.memory_max', message: `must be at most ${policy.maxMemoryBytes} bytes` });
          if (memoryBytes < MIN_MEMORY_MAX_BYTES) problems.push({ path: 'resources.memory_max', message: 'must be at least 6Mi' });
        } catch (error) {
          problems.push({ path: 'resources.memory_max', message: (error as Error).message });
        }
      }
      const cpu = resources.cpu_max;
      if (cpu !== undefined && typeof cpu !== 'string' && typeof cpu !== 'number') {
        problems.push({ path: 'resources.cpu_max', message: 'must be a CPU quantity such as 0.5 or "500m"' });
      } else if (cpu !== undefined) {
        try {
          cpuCores = parseCpuCores(cpu);
          if (cpuCores > policy.maxCpuCores || cpuCores < MIN_CPU_MAX_CORES) {
            problems.push({ path: 'resources.cpu_max', message: `must be at least ${MIN_CPU_MAX_CORES} and at most ${policy.maxCpuCores}` });
          }
        } catch (error) {
          problems.push({ path: 'resources.cpu_max', message: (error as Error).message });
        }
      }
    }
  }
  let network: RunSpec['network'] = 'bridge';
  if (body.network !== undefined) {
    if (body.network !== 'none' && body.network !== 'bridge') problems.push({ path: 'network', message: 'must be "none" or "bridge"' });
    else network = body.network;
  }
  let resultsDir = '/data';
  if (body.results_dir !== undefined) {
    if (typeof body.results_dir !== 'string' || !body.results_dir.startsWith('/') || posix.normalize(body.results_dir) === '/' || CONTROL.test(body.results_dir) || body.results_dir.length > 4096) {
      problems.push({ path: 'results_dir', message: 'must be an absolute directory other than /' });
    } else resultsDir = posix.normalize(body.results_dir).replace(/\/+$/, '');
  }
  if (problems.length > 0 || !source) {
    throw new PitlaneError(400, 'RUN_INVALID', `the run request is invalid: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, problems);
  }
  if (source.kind === 'image' && !registryTrusted(source.image, policy.trustedRegistries ?? [])) {
    throw new PitlaneError(403, 'REGISTRY_FORBIDDEN', `image ${source.image} does not come from a trusted registry (PITLANE_TRUSTED_REGISTRIES: ${(policy.trustedRegistries ?? []).join(', ')})`, [
      { path: 'image', message: 'not from a trusted registry' },
    ]);
  }
  const forbidden = volumes.filter((v) => v.type === 'bind' && !hostPathAllowed(v.source, policy.allowedHostPaths));
  if (forbidden.length > 0) {
    throw new PitlaneError(
      403,
      'VOLUME_FORBIDDEN',
      `host paths may only be mounted from directories an admin allows (PITLANE_RUN_HOST_PATHS): ${forbidden.map((v) => v.source).join(', ')}`,
      forbidden.map((v) => ({ path: `volumes.${volumes.indexOf(v)}`, message: `host path ${v.source} is not allowed` })),
    );
  }
  return {
    source,
    buildArgs,
    command,
    entrypoint,
    env,
    volumes,
    workingDir,
    timeoutS,
    memoryBytes,
    cpuCores,
    pidsLimit: policy.pidsLimit,
    network,
    resultsDir,
  };
}
