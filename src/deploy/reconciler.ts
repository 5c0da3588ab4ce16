/**
 * Reconciliation: keeps the engine's containers and the database's records in agreement.
 * - a managed container that no record and no live deployment owns is an orphan: removed;
 * - a replica whose container is missing is recreated from the stored container spec;
 * - a job version's status says whether all, some or none of its replicas run.
 * Runs at start-up (before the gateway serves) and then periodically.
 */
import type { ContainerSpec, InfrastructureTarget } from '../infra/index.js';
import type { DeploymentRepository, JobRepository, JobStatus } from '../store/index.js';

/** Dependencies of the {@link Reconciler}. */
export interface ReconcilerOptions {
  jobs: JobRepository;
  deployments: DeploymentRepository;
  target: InfrastructureTarget;
  onJobsChanged: () => Promise<void>;
  /** Told the running state of every replica after each inspection (the gateway stops routing to stopped ones). */
  onReplicaState: (containerId: string, running: boolean) => void;
  log: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void; error(obj: object, msg?: string): void };
}

/** What one pass did, for logs and tests. */
export interface ReconcileSummary {
  removedOrphans: string[];
  recreatedReplicas: string[];
  statusChanges: { job: string; version: string; status: JobStatus }[];
}

export class Reconciler {
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<ReconcileSummary> | undefined;

  constructor(private readonly options: ReconcilerOptions) {}

  /** Runs one pass now (or joins the one in progress). */
  reconcile(): Promise<ReconcileSummary> {
    this.pass ??= this.runPass().finally(() => {
      this.pass = undefined;
    });
    return this.pass;
  }

  /** Runs a pass every `intervalMs` until {@link stop}. */
  start(intervalMs: number): void {
    const tick = (): void => {
      this.timer = setTimeout(() => {
        this.reconcile()
          .catch((error: unknown) => this.options.log.error({ err: error }, 'reconciliation failed'))
          .finally(() => {
            if (this.timer) tick();
          });
      }, intervalMs);
    };
    tick();
  }

  /** Stops the periodic passes. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async runPass(): Promise<ReconcileSummary> {
    const { jobs, deployments, target, log } = this.options;
    const summary: ReconcileSummary = { removedOrphans: [], recreatedReplicas: [], statusChanges: [] };
    const replicas = await jobs.allReplicas();
    const known = new Set(replicas.map((r) => r.containerId));
    const activeDeployments = new Set(
      [...(await deployments.list({ status: 'running', limit: 1000 })), ...(await deployments.list({ status: 'queued', limit: 1000 }))].map(
        (d) => d.id,
      ),
    );
    for (const container of await target.listManagedContainers()) {
      if (known.has(container.id)) continue;
      const deploymentId = container.labels['pitlane.deployment'];
      if (deploymentId && activeDeployments.has(deploymentId)) continue;
      if (container.labels['pitlane.run']) continue; // one-shot runs are reconciled by the runs module
      await target.removeContainer(container.id, 5);
      summary.removedOrphans.push(container.id);
      log.info({ container: container.id, job: container.labels['pitlane.job'] }, 'removed orphaned container');
    }

    let changed = summary.removedOrphans.length > 0;
    for (const job of await jobs.list()) {
      const spec = job.containerSpec as ContainerSpec;
      const jobReplicas = replicas.filter((r) => r.jobName === job.name && r.jobVersion === job.version);
      let runningCount = 0;
      const problems: string[] = [];
      for (const replica of jobReplicas) {
        let state = await target.inspectReplica(replica.containerId, spec.port);
        if (state.state === 'missing') {
          try {
            const containerId = await target.startReplica(spec, replica.replicaIndex, {});
            await jobs.updateReplica(replica.containerId, { containerId, host: null, port: null });
            summary.recreatedReplicas.push(containerId);
            log.warn({ job: job.name, version: job.version, replica: replica.replicaIndex }, 'recreated a missing container');
            state = await target.inspectReplica(containerId, spec.port);
            replica.containerId = containerId;
            changed = true;
          } catch (error) {
            problems.push(`replica ${replica.replicaIndex}: container missing and could not be recreated: ${(error as Error).message}`);
            continue;
          }
        }
        if (state.host !== replica.host || state.port !== replica.port) {
          if (state.host && state.port) {
            await jobs.updateReplica(replica.containerId, { host: state.host, port: state.port });
            changed = true;
          }
        }
        this.options.onReplicaState(replica.containerId, state.state === 'running');
        if (state.state === 'running') runningCount += 1;
        else problems.push(`replica ${replica.replicaIndex} is ${state.state}${state.exitCode !== null ? ` (exit code ${state.exitCode})` : ''}`);
      }
      const status: JobStatus =
        jobReplicas.length > 0 && runningCount === jobReplicas.length ? 'running' : runningCount > 0 ? 'degraded' : 'failed';
      const reason = problems.length > 0 ? problems.join('; ') : null;
      if (status !== job.status || reason !== job.statusReason) {
        await jobs.setStatus(job.name, job.version, status, reason);
        summary.statusChanges.push({ job: job.name, version: job.version, status });
        changed = true;
      }
    }
    if (changed) await this.options.onJobsChanged();
    return summary;
  }
}
