/** Infrastructure targets. */
export type { InfrastructureTarget, ContainerSpec, ReplicaState, ManagedContainer, BuildOptions } from './target.js';
export * from './docker/index.js';
export { composeRuntimeEnvironment, withRuntimeEnvironment, type RuntimeEnvironmentProvider, type RuntimeEnvironmentRequest } from './runtime-environment.js';
