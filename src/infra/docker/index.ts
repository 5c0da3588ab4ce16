/** The docker infrastructure target. */
export { DockerTarget, type DockerTargetOptions } from './docker-target.js';
export { LineSplitter, demultiplex, demultiplexLines, lineWritable, type OutputFrame } from './log-lines.js';
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
} from './hardening.js';
