/**
 * Deployment workers: a {@link LeaseWorkers} pool over the deployments table.
 */
import { LeaseWorkers } from '../queue/index.js';
import type { DeploymentRecord, DeploymentRepository } from '../store/index.js';

/** Dependencies of {@link createDeploymentWorkers}. */
export interface WorkerOptions {
  deployments: DeploymentRepository;
  run: (deployment: DeploymentRecord) => Promise<void>;
  owner: string;
  concurrency: number;
  leaseMs: number;
  pollMs?: number;
  log: { error(obj: object, msg?: string): void };
}

/** Creates the pool of workers that drains the deployment queue. */
export function createDeploymentWorkers(options: WorkerOptions): LeaseWorkers<DeploymentRecord> {
  return new LeaseWorkers<DeploymentRecord>({
    claim: (owner, leaseMs) => options.deployments.claimNext(owner, leaseMs),
    renew: (id, owner, leaseMs) => options.deployments.renewLease(id, owner, leaseMs),
    run: options.run,
    owner: options.owner,
    concurrency: options.concurrency,
    leaseMs: options.leaseMs,
    pollMs: options.pollMs,
    log: options.log,
  });
}
