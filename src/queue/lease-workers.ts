/**
 * A pool of workers draining a table-backed queue: claim an item with a lease, renew the lease
 * while the work runs, run up to `concurrency` items at once, poll when idle. The queue itself
 * (which row is next, what a lease is) belongs to the repository passed in.
 */

/** Dependencies of {@link LeaseWorkers}. */
export interface LeaseWorkerOptions<T extends { id: string }> {
  /** Claims the next item for `owner` with a lease of `leaseMs`, or resolves undefined. */
  claim: (owner: string, leaseMs: number) => Promise<T | undefined>;
  /** Extends the lease; resolves false when the owner lost it. */
  renew: (id: string, owner: string, leaseMs: number) => Promise<boolean>;
  /** Does the work. Should not throw; a throw is logged. */
  run: (item: T) => Promise<void>;
  /** Identifies this process's leases. */
  owner: string;
  /** Items worked on at once. */
  concurrency: number;
  /** Lease length, in milliseconds; renewed every third of it. */
  leaseMs: number;
  /** How often an idle pool looks for work, in milliseconds. */
  pollMs?: number;
  log: { error(obj: object, msg?: string): void };
}

export class LeaseWorkers<T extends { id: string }> {
  private running = 0;
  private stopped = true;
  private timer: NodeJS.Timeout | undefined;
  private filling = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: LeaseWorkerOptions<T>) {}

  /** Starts polling for work. */
  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Looks for work now (call after enqueueing). */
  wake(): void {
    if (!this.stopped) this.schedule(0);
  }

  /** Number of items being worked on. */
  get busy(): number {
    return this.running;
  }

  /** Stops claiming new work and waits for the items in flight. */
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
    if (this.filling) return;
    this.filling = true;
    try {
      while (!this.stopped && this.running < this.options.concurrency) {
        const item = await this.options.claim(this.options.owner, this.options.leaseMs);
        if (!item) break;
        this.launch(item);
      }
    } catch (error) {
      this.options.log.error({ err: error }, 'claiming work failed');
    } finally {
      this.filling = false;
    }
    if (!this.stopped && !this.timer) this.schedule(this.options.pollMs ?? 1000);
  }

  private launch(item: T): void {
    this.running += 1;
    const renew = setInterval(() => {
      void this.options
        .renew(item.id, this.options.owner, this.options.leaseMs)
        .catch((error: unknown) => this.options.log.error({ err: error }, 'lease renewal failed'));
    }, Math.max(300, Math.floor(this.options.leaseMs / 3)));
    const task = this.options
      .run(item)
      .catch((error: unknown) => this.options.log.error({ err: error, id: item.id }, 'work item crashed'))
      .finally(() => {
        clearInterval(renew);
        this.running -= 1;
        this.inFlight.delete(task);
        this.wake();
      });
    this.inFlight.add(task);
  }
}
