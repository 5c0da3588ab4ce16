/**
 * Environment resolved when a job container is created, not stored with the job.
 *
 * The container spec kept in the database (`jobs.container_spec_json`) holds only what may be
 * stored in clear: the manifest's `runtime_env` and Pitlane's injected variables. Values that must
 * not be stored or logged (runtime secrets; later the job identity's `AUTH_TOKEN`) come from
 * providers that the infrastructure target calls each time it creates a replica: at deployment,
 * and whenever reconciliation recreates a lost container. A value changed afterwards therefore
 * reaches the containers created after the change.
 *
 * The composition root wraps the target with {@link withRuntimeEnvironment}, so the pipeline and
 * the reconciler, which both create replicas through `startReplica`, get it alike. To add a
 * variable source, write a {@link RuntimeEnvironmentProvider} and add it to the list given to
 * {@link composeRuntimeEnvironment} in src/server.ts.
 */
import type { Readable } from 'node:stream';
import type { BuildOptions, ContainerSpec, InfrastructureTarget, ManagedContainer, ReplicaState } from './target.js';

/** The replica being created. */
export interface RuntimeEnvironmentRequest {
  jobName: string;
  jobVersion: string;
  deploymentId: string;
}

/**
 * Resolves extra environment for one replica: variable name → value. Called once per container
 * creation; may read the database. A rejection fails that container's creation (the deployment
 * fails, or reconciliation reports the replica as not recreated), so it must not carry values in
 * its message.
 */
export type RuntimeEnvironmentProvider = (request: RuntimeEnvironmentRequest) => Promise<Record<string, string>>;

/**
 * One provider from several: they run in parallel and their results are merged in list order, so
 * a later provider's variable wins over an earlier one's (e.g. a job token provider listed after
 * the secrets provider decides `AUTH_TOKEN`).
 */
export function composeRuntimeEnvironment(providers: readonly RuntimeEnvironmentProvider[]): RuntimeEnvironmentProvider {
  return async (request) => {
    const parts = await Promise.all(providers.map((provider) => provider(request)));
    return Object.assign({}, ...parts) as Record<string, string>;
  };
}

/**
 * `target` with `provider`'s variables added to every replica it creates: the spec's `env` is
 * overridden by the resolved variables for that one `startReplica` call (the caller's spec object,
 * the one stored with the job, is not changed). Every other operation is passed through.
 */
export function withRuntimeEnvironment(target: InfrastructureTarget, provider: RuntimeEnvironmentProvider): InfrastructureTarget {
  return new EnvironmentResolvingTarget(target, provider);
}

class EnvironmentResolvingTarget implements InfrastructureTarget {
  constructor(
    private readonly inner: InfrastructureTarget,
    private readonly provider: RuntimeEnvironmentProvider,
  ) {}

  async startReplica(spec: ContainerSpec, replicaIndex: number, labels: Record<string, string>, restartOnFailure?: boolean): Promise<string> {
    const resolved = await this.provider({ jobName: spec.jobName, jobVersion: spec.jobVersion, deploymentId: spec.deploymentId });
    return this.inner.startReplica({ ...spec, env: { ...spec.env, ...resolved } }, replicaIndex, labels, restartOnFailure);
  }

  buildImage(context: Readable, options: BuildOptions, onLog: (line: string) => void): Promise<{ imageId: string }> {
    return this.inner.buildImage(context, options, onLog);
  }

  ensureImage(reference: string, onLog: (line: string) => void): Promise<{ imageId: string }> {
    return this.inner.ensureImage(reference, onLog);
  }

  tagImage(imageId: string, tag: string): Promise<void> {
    return this.inner.tagImage(imageId, tag);
  }

  removeImageTag(tag: string): Promise<void> {
    return this.inner.removeImageTag(tag);
  }

  enableRestarts(containerId: string): Promise<void> {
    return this.inner.enableRestarts(containerId);
  }

  inspectReplica(containerId: string, port: number): Promise<ReplicaState> {
    return this.inner.inspectReplica(containerId, port);
  }

  containerLogs(containerId: string, tail: number): Promise<string[]> {
    return this.inner.containerLogs(containerId, tail);
  }

  followLogs(containerId: string, tail: number, onLine: (line: string) => void, signal: AbortSignal): Promise<void> {
    return this.inner.followLogs(containerId, tail, onLine, signal);
  }

  removeContainer(containerId: string, graceSeconds?: number): Promise<void> {
    return this.inner.removeContainer(containerId, graceSeconds);
  }

  listManagedContainers(): Promise<ManagedContainer[]> {
    return this.inner.listManagedContainers();
  }
}
