/** The store: database access for every aggregate. */
export { openDatabase, type PitlaneDatabase } from './database.js';
export { DeploymentRepository, type DeploymentRecord, type DeploymentLogLine } from './deployments.js';
export { JobRepository, type JobRecord, type ReplicaRecord } from './jobs.js';
export { SettingsRepository } from './settings.js';
export * from './schema.js';
export { RunRepository, TERMINAL_RUN_STATUSES, type RunRecord, type RunLogLine } from './runs.js';
