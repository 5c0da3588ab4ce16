/**
 * From a manifest to the container specification of its replicas (pure logic).
 */
import type { ContainerSpec } from '../infra/index.js';
import type { JobManifest } from '../manifest/types.js';
import { PitlaneError } from '../errors.js';

/** Server-side limits that apply to every job. */
export interface ResourcePolicy {
  defaultMemoryBytes: number;
  maxMemoryBytes: number;
  defaultCpuCores: number;
  maxCpuCores: number;
  pidsLimit: number;
}

/** The header Pitlane uses to trace requests, injected as REQUEST_TRACING_HEADER. */
export const REQUEST_ID_HEADER = 'X-Request-Id';

/**
 * Checks the manifest's resources against the policy.
 * @throws PitlaneError 400 naming `resources.memory_max` / `resources.cpu_max` when over the maximum.
 */
export function checkResources(manifest: JobManifest, policy: ResourcePolicy): void {
  const details = [];
  const memory = manifest.resources.memory_max_bytes;
  if (memory !== null && memory > policy.maxMemoryBytes) {
    details.push({ path: 'resources.memory_max', message: `must be at most ${policy.maxMemoryBytes} bytes (server maximum)` });
  }
  if (memory !== null && memory < 6 * 1024 * 1024) {
    details.push({ path: 'resources.memory_max', message: 'must be at least 6Mi (Docker minimum)' });
  }
  const cpu = manifest.resources.cpu_max_cores;
  if (cpu !== null && cpu > policy.maxCpuCores) {
    details.push({ path: 'resources.cpu_max', message: `must be at most ${policy.maxCpuCores} cores (server maximum)` });
  }
  if (details.length > 0) throw new PitlaneError(400, 'MANIFEST_INVALID', 'resources exceed the server limits', details);
}

/**
 * The specification of every replica of a job version.
 * @param deployedAtMs deployment time (ms since epoch), injected as JOB_DEPLOYMENT_TIMESTAMP in seconds.
 */
export function buildContainerSpec(input: {
  manifest: JobManifest;
  deploymentId: string;
  image: string;
  policy: ResourcePolicy;
  pubUrl: string;
  deployedAtMs: number;
  /** Port the server listens on when the job type decides it (wrapper types: 7000); else the manifest's. */
  port?: number;
}): ContainerSpec {
  const { manifest, policy } = input;
  return {
    jobName: manifest.name,
    jobVersion: manifest.version,
    deploymentId: input.deploymentId,
    image: input.image,
    port: input.port ?? manifest.jobtype_extra.user_module_port,
    env: {
      ...manifest.runtime_env,
      JOB_NAME: manifest.name,
      JOB_VERSION: manifest.version,
      JOB_DEPLOYMENT_TIMESTAMP: String(Math.floor(input.deployedAtMs / 1000)),
      PUB_URL: input.pubUrl,
      AUTH_TOKEN: '',
      REQUEST_TRACING_HEADER: REQUEST_ID_HEADER,
    },
    memoryBytes: manifest.resources.memory_max_bytes ?? policy.defaultMemoryBytes,
    cpuCores: manifest.resources.cpu_max_cores ?? policy.defaultCpuCores,
    pidsLimit: policy.pidsLimit,
  };
}

/** The tag Pitlane gives a job version's image. */
export function jobImageTag(name: string, version: string): string {
  return `pitlane-job/${name}:${version.replace(/\+/g, '_')}`;
}
