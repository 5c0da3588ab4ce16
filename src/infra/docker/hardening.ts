/**
 * The security baseline of every container Pitlane creates on the Docker engine (job replicas,
 * runs, wheel builders, structure-test containers), and a guard that enforces it — and per-call
 * timeouts — at the one place every Engine API request passes through (the modem's `dial`).
 *
 * Baseline: never privileged; no host network, PID, IPC, UTS, user or cgroup namespace;
 * `no-new-privileges`; every capability dropped except {@link CONTAINER_CAPABILITIES}; memory, CPU
 * and process limits always set; no device; no bind mount of the Docker socket (or of a directory
 * that holds it), whatever path or symlink leads there.
 */
import { realpathSync } from 'node:fs';
import { posix } from 'node:path';
import type Docker from 'dockerode';

/**
 * Capabilities a Pitlane container keeps; all others are dropped (`CapDrop: ['ALL']`).
 *
 * Kept: what root inside an ordinary image needs to install packages and drop to another user
 * (`apt-get` chowns, changes uid/gid, writes root-owned files; dpkg sets setuid bits and file
 * capabilities), signal its children, and bind a port below 1024.
 * Dropped compared with Docker's defaults: `AUDIT_WRITE`, `MKNOD` (no device nodes), `NET_RAW`
 * (no raw sockets, ARP/ICMP spoofing), `SETPCAP` and `SYS_CHROOT`.
 */
export const CONTAINER_CAPABILITIES: readonly string[] = [
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETUID',
];

/** Resource limits every container gets. */
export interface ContainerLimits {
  /** Memory limit in bytes (Docker's minimum is 6 MiB). */
  memoryBytes: number;
  /** CPU limit in cores (0.5 = half a core; Docker's minimum is 0.01). */
  cpuCores: number;
  /** Maximum number of processes. */
  pidsLimit: number;
}

/** The security and limit fields of a HostConfig that {@link hardenedHostConfig} sets. */
export interface HardenedHostConfig {
  Privileged: false;
  CapDrop: string[];
  CapAdd: string[];
  SecurityOpt: string[];
  IpcMode: 'private';
  Memory: number;
  NanoCpus: number;
  PidsLimit: number;
}

/**
 * The HostConfig fields every Pitlane container starts from; callers add networking, mounts,
 * restart policy and logging.
 * @param limits memory (bytes), CPU (cores) and process limits; CPU is rounded to whole nanocores.
 * @returns a fresh object (safe to spread and extend).
 */
export function hardenedHostConfig(limits: ContainerLimits): HardenedHostConfig {
  return {
    Privileged: false,
    CapDrop: ['ALL'],
    CapAdd: [...CONTAINER_CAPABILITIES],
    SecurityOpt: ['no-new-privileges'],
    IpcMode: 'private',
    Memory: limits.memoryBytes,
    NanoCpus: Math.round(limits.cpuCores * 1e9),
    PidsLimit: limits.pidsLimit,
  };
}

/** Where the Docker socket usually lives; the guard also adds the socket the client talks to. */
export const DOCKER_SOCKET_PATHS: readonly string[] = ['/var/run/docker.sock', '/run/docker.sock'];

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return posix.normalize(path);
  }
}

/**
 * True when bind-mounting host path `source` would expose a Docker (or containerd) socket: the
 * path is a socket of that name, or a directory that holds one of `socketPaths`. Symlinks are
 * resolved on both sides when the paths exist.
 * @param source absolute host path (as given to Docker).
 * @param socketPaths socket paths to protect (default {@link DOCKER_SOCKET_PATHS}).
 */
export function exposesDockerSocket(source: string, socketPaths: readonly string[] = DOCKER_SOCKET_PATHS): boolean {
  const candidates = [posix.normalize(source), realOrSelf(source)];
  for (const candidate of candidates) {
    const base = posix.basename(candidate);
    if (base === 'docker.sock' || base === 'containerd.sock' || base === 'dockershim.sock') return true;
    for (const socket of socketPaths) {
      for (const protectedPath of [posix.normalize(socket), realOrSelf(socket)]) {
        if (candidate === '/' || protectedPath === candidate || protectedPath.startsWith(`${candidate.replace(/\/+$/, '')}/`)) return true;
      }
    }
  }
  return false;
}

const HOST_NAMESPACE_FIELDS = ['NetworkMode', 'PidMode', 'IpcMode', 'UTSMode', 'UsernsMode', 'CgroupnsMode'] as const;

/**
 * Checks a `POST /containers/create` HostConfig against the baseline (pure apart from resolving
 * bind-mount symlinks).
 * @returns one sentence per violation; empty when the HostConfig is acceptable.
 */
export function hostConfigProblems(hostConfig: Record<string, unknown> | undefined, socketPaths: readonly string[] = DOCKER_SOCKET_PATHS): string[] {
  if (!hostConfig) return ['no HostConfig: limits and security options are missing'];
  const problems: string[] = [];
  if (hostConfig.Privileged === true) problems.push('Privileged must be false');
  for (const field of HOST_NAMESPACE_FIELDS) {
    const value = hostConfig[field];
    if (typeof value === 'string' && (value === 'host' || value.startsWith('container:'))) problems.push(`${field} "${value}" shares a namespace`);
  }
  const securityOpt = Array.isArray(hostConfig.SecurityOpt) ? (hostConfig.SecurityOpt as string[]) : [];
  if (!securityOpt.some((o) => o === 'no-new-privileges' || o === 'no-new-privileges:true' || o === 'no-new-privileges=true')) {
    problems.push('SecurityOpt must contain no-new-privileges');
  }
  for (const option of securityOpt) {
    if (/unconfined|label[:=]disable/i.test(option)) problems.push(`SecurityOpt "${option}" weakens confinement`);
  }
  const capDrop = Array.isArray(hostConfig.CapDrop) ? (hostConfig.CapDrop as string[]) : [];
  if (!capDrop.some((c) => c.toUpperCase() === 'ALL')) problems.push('CapDrop must be ["ALL"]');
  const allowed = new Set(CONTAINER_CAPABILITIES);
  for (const cap of Array.isArray(hostConfig.CapAdd) ? (hostConfig.CapAdd as string[]) : []) {
    const name = cap.toUpperCase().replace(/^CAP_/, '');
    if (!allowed.has(name)) problems.push(`CapAdd "${cap}" is not allowed`);
  }
  if (!(typeof hostConfig.Memory === 'number' && hostConfig.Memory > 0)) problems.push('Memory must be set');
  if (!(typeof hostConfig.NanoCpus === 'number' && hostConfig.NanoCpus > 0)) problems.push('NanoCpus must be set');
  if (!(typeof hostConfig.PidsLimit === 'number' && hostConfig.PidsLimit > 0)) problems.push('PidsLimit must be set');
  if (Array.isArray(hostConfig.Devices) && hostConfig.Devices.length > 0) problems.push('Devices must be empty');
  const sources: string[] = [];
  for (const bind of Array.isArray(hostConfig.Binds) ? (hostConfig.Binds as string[]) : []) {
    const source = bind.split(':')[0] ?? '';
    if (source.startsWith('/')) sources.push(source);
  }
  for (const mount of Array.isArray(hostConfig.Mounts) ? (hostConfig.Mounts as { Type?: string; Source?: string }[]) : []) {
    if (mount.Type === 'bind' && typeof mount.Source === 'string') sources.push(mount.Source);
  }
  for (const source of sources) {
    if (exposesDockerSocket(source, socketPaths)) problems.push(`bind mount of ${source} would expose the Docker socket`);
  }
  return problems;
}

/** Timeouts of Engine API requests. */
export interface EngineTimeouts {
  /** Longest a non-streaming request (inspect, create, start, remove, list, tag...) may take, in ms. */
  requestMs: number;
}

/** The part of docker-modem's `dial` options the guard reads. */
export interface DialOptions {
  path: string;
  method: string;
  options?: Record<string, unknown>;
  isStream?: boolean;
  hijack?: boolean;
  file?: unknown;
  abortSignal?: AbortSignal;
  [key: string]: unknown;
}

/**
 * The time limit of one Engine API request (pure), or null for requests whose length the caller
 * bounds itself: streams (logs, attach, build, pull, export, archive uploads) and `wait`, which
 * lasts as long as the container runs. `stop`/`restart` get the container's grace period on top.
 */
export function engineCallTimeoutMs(options: DialOptions, timeouts: EngineTimeouts): number | null {
  if (options.isStream || options.hijack || options.file !== undefined) return null;
  const path = options.path.split('?')[0] ?? '';
  if (/\/containers\/[^/]+\/wait$/.test(path)) return null;
  if (/\/containers\/[^/]+\/(stop|restart)$/.test(path)) {
    const grace = Number((options.options as { t?: unknown } | undefined)?.t ?? 10);
    return timeouts.requestMs + (Number.isFinite(grace) && grace > 0 ? grace * 1000 : 10_000);
  }
  return timeouts.requestMs;
}

/** Error of an Engine API request that did not finish in time. */
export class EngineTimeoutError extends Error {
  readonly code = 'ENGINE_TIMEOUT';
  constructor(method: string, path: string, ms: number) {
    super(`the Docker engine did not answer ${method} ${path.split('?')[0]} within ${Math.round(ms / 100) / 10} s`);
    this.name = 'EngineTimeoutError';
  }
}

/** Error of a container creation the guard refused. */
export class ContainerPolicyError extends Error {
  readonly code = 'CONTAINER_POLICY';
  constructor(readonly problems: string[]) {
    super(`Pitlane refused to create a container that breaks its security baseline: ${problems.join('; ')}`);
    this.name = 'ContainerPolicyError';
  }
}

type DialCallback = (error: Error | null, data?: unknown) => void;

/**
 * Installs the guard on a dockerode client (once; later calls do nothing):
 * - every `POST /containers/create` is checked with {@link hostConfigProblems} and refused with a
 *   {@link ContainerPolicyError} before it reaches the engine, as is one mounting a named volume
 *   that is a bind of a host path ({@link volumeBindsHostPath});
 * - every request gets the time limit of {@link engineCallTimeoutMs} (an AbortSignal; the caller's
 *   own signal still works) and fails with {@link EngineTimeoutError} when it passes.
 * @param socketPaths Docker sockets to protect besides the client's own socket path.
 */
export function guardEngine(docker: Docker, timeouts: EngineTimeouts, socketPaths: readonly string[] = DOCKER_SOCKET_PATHS): void {
  const modem = docker.modem as unknown as { dial: (options: DialOptions, callback: DialCallback) => unknown; socketPath?: unknown; __pitlaneGuard?: boolean };
  if (modem.__pitlaneGuard) return;
  modem.__pitlaneGuard = true;
  const protectedSockets = [...socketPaths, ...(typeof modem.socketPath === 'string' ? [modem.socketPath] : [])];
  const dial = modem.dial.bind(modem);
  const timed = (options: DialOptions, callback: DialCallback): unknown => {
    const ms = engineCallTimeoutMs(options, timeouts);
    if (ms === null) return dial(options, callback);
    const timer = AbortSignal.timeout(ms);
    const signal = options.abortSignal ? AbortSignal.any([options.abortSignal, timer]) : timer;
    return dial({ ...options, abortSignal: signal }, (error, data) => {
      if (error && timer.aborted && !options.abortSignal?.aborted) callback(new EngineTimeoutError(options.method, options.path, ms));
      else callback(error, data);
    });
  };
  modem.dial = (options: DialOptions, callback: DialCallback): unknown => {
    if (options.method === 'POST' && /^\/containers\/create(\?|$)/.test(options.path)) {
      const body = options.options as { HostConfig?: Record<string, unknown>; _body?: { HostConfig?: Record<string, unknown> } } | undefined;
      const hostConfig = body?._body?.HostConfig ?? body?.HostConfig;
      const problems = hostConfigProblems(hostConfig, protectedSockets);
      if (problems.length > 0) {
        process.nextTick(() => callback(new ContainerPolicyError(problems)));
        return undefined;
      }
      const volumes = namedVolumesOf(hostConfig);
      if (volumes.length > 0) {
        // A named volume can be a bind of a host directory in disguise (local driver, o=bind).
        void Promise.all(volumes.map((name) => docker.getVolume(name).inspect().then((info) => ({ name, info }), () => undefined)))
          .then((found) => {
            const bound = found.filter((f): f is { name: string; info: Docker.VolumeInspectInfo } => f !== undefined && volumeBindsHostPath(f.info));
            if (bound.length > 0) callback(new ContainerPolicyError(bound.map((f) => `volume ${f.name} is a bind mount of a host path`)));
            else timed(options, callback);
          });
        return undefined;
      }
    }
    return timed(options, callback);
  };
}

/** Names of the named volumes a HostConfig mounts (`Mounts` of type volume, `Binds` whose source is a name). */
export function namedVolumesOf(hostConfig: Record<string, unknown> | undefined): string[] {
  const names = new Set<string>();
  for (const mount of Array.isArray(hostConfig?.Mounts) ? (hostConfig.Mounts as { Type?: string; Source?: string }[]) : []) {
    if (mount.Type === 'volume' && typeof mount.Source === 'string' && mount.Source !== '') names.add(mount.Source);
  }
  for (const bind of Array.isArray(hostConfig?.Binds) ? (hostConfig.Binds as string[]) : []) {
    const source = bind.split(':')[0] ?? '';
    if (source !== '' && !source.startsWith('/')) names.add(source);
  }
  return [...names];
}

/**
 * True when a volume (`GET /volumes/{name}`) is really a host path or device: the local driver
 * with `o=bind`/`rbind` or `type=none` (how `docker volume create -o type=none -o o=bind -o
 * device=/srv` is written), or a `device` that is a host path (`/dev/sdb1`). tmpfs and network
 * file systems (nfs, cifs) are not. Such volumes are refused like the host paths they stand for.
 */
export function volumeBindsHostPath(info: { Options?: Record<string, string> | null }): boolean {
  const options = info.Options ?? {};
  if (/(^|,)\s*r?bind\s*(,|$)/.test(options.o ?? '') || options.type === 'none') return true;
  const device = options.device ?? '';
  return device.startsWith('/') && !device.startsWith('//') && !['tmpfs', 'nfs', 'nfs4', 'cifs'].includes(options.type ?? '');
}
