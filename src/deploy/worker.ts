/**
 * Deployment workers: claim deployments from the database queue with a lease, renew the lease
 * while the pipeline runs, and run up to `concurrency` at once.
 */
import type { DeploymentRecord, DeploymentRepository } from '../store/index.js';

/** Dependencies of {@link DeploymentWorkers}. */
export interface WorkerOptions {
  deployments: DeploymentRepository;
  run: (deployment: DeploymentRecord) => Promise<void>;
  /** Identifies this process's leases. */
  owner: string;
  concurrency: number;
  leaseMs: number;
  /** How often an idle worker looks for work, in milliseconds. */
  pollMs?: number;
  log: { error(obj: object, msg?: string): void };
}

/** A pool of workers that drains the deployment queue. */
export class DeploymentWorkers {
  private running = 0;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: WorkerOptions) {}

  /** Starts polling. */
  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Looks for work now (call after enqueueing). */
  wake(): void {
    if (!this.stopped) this.schedule(0);
  }

  /** Stops claiming new work and waits for the deployments in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled([...this.inFlight]);
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.fill(), delayMs);
  }

  private async fill(): Promise<void> {
    this.timer = undefined;
    try {
      while (!this.stopped && this.running < this.options.concurrency) {
        const deployment = await this.options.deployments.claimNext(this.options.owner, this.options.leaseMs);
        if (!deployment) break;
        this.launch(deployment);
      }
    } catch (error) {
      this.options.log.error({ err: error }, 'claiming a deployment failed');
    }
    if (!this.stopped) this.schedule(this.options.pollMs ?? 1000);
  }

  private launch(deployment: DeploymentRecord): void {
    this.running += 1;
    const renew = setInterval(() => {
      void this.options.deployments
        .renewLease(deployment.id, this.options.owner, this.options.leaseMs)
        .catch((error: unknown) => this.options.log.error({ err: error }, 'lease renewal failed'));
    }, Math.max(500, Math.floor(this.options.leaseMs / 3)));
    const task = this.options
      .run(deployment)
      .catch((error: unknown) => this.options.log.error({ err: error, deployment: deployment.id }, 'deployment crashed'))
      .finally(() => {
        clearInterval(renew);
        this.running -= 1;
        this.inFlight.delete(task);
        this.wake();
      });
    this.inFlight.add(task);
  }
}
