/** Infrastructure targets. */
export type { InfrastructureTarget, ContainerSpec, ReplicaState, ManagedContainer, BuildOptions } from './target.js';
export { DockerTarget, type DockerTargetOptions, LineSplitter, demultiplex, demultiplexLines } from './docker/index.js';
export {
  CONTAINER_CAPABILITIES,
  ContainerPolicyError,
  DOCKER_SOCKET_PATHS,
  EngineTimeoutError,
  engineCallTimeoutMs,
  exposesDockerSocket,
  guardEngine,
  hardenedHostConfig,
  hostConfigProblems,
  namedVolumesOf,
  volumeBindsHostPath,
  type ContainerLimits,
  type EngineTimeouts,
  type HardenedHostConfig,
} from './docker/index.js';
export { composeRuntimeEnvironment, withRuntimeEnvironment, type RuntimeEnvironmentProvider, type RuntimeEnvironmentRequest } from './runtime-environment.js';
