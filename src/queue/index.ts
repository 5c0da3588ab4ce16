/** Durable work queues: the worker pool shared by deployments and runs. */
export { LeaseWorkers, type LeaseWorkerOptions } from './lease-workers.js';
export { BatchWriter, truncateLine } from './batch-writer.js';
