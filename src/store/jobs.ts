/**
 * Repository of job versions and their replicas (the containers that serve them).
 */
import type { PitlaneDatabase } from './database.js';
import type { JobsTable, JobStatus, ReplicasTable } from './schema.js';

/** A job version as stored, JSON columns decoded. */
export interface JobRecord {
  name: string;
  version: string;
  status: JobStatus;
  statusReason: string | null;
  jobtype: string;
  manifest: unknown;
  imageId: string;
  imageTag: string;
  deploymentId: string;
  containerSpec: unknown;
  deployedAt: string;
  updatedAt: string;
}

/** One container serving a job version. `host`/`port` are where the gateway forwards to. */
export interface ReplicaRecord {
  containerId: string;
  jobName: string;
  jobVersion: string;
  replicaIndex: number;
  host: string | null;
  port: number | null;
  createdAt: string;
}

function toJob(row: JobsTable): JobRecord {
  return {
    name: row.name,
    version: row.version,
    status: row.status,
    statusReason: row.status_reason,
    jobtype: row.jobtype,
    manifest: JSON.parse(row.manifest_json),
    imageId: row.image_id,
    imageTag: row.image_tag,
    deploymentId: row.deployment_id,
    containerSpec: JSON.parse(row.container_spec_json),
    deployedAt: row.deployed_at,
    updatedAt: row.updated_at,
  };
}

function toReplica(row: ReplicasTable): ReplicaRecord {
  return {
    containerId: row.container_id,
    jobName: row.job_name,
    jobVersion: row.job_version,
    replicaIndex: Number(row.replica_index),
    host: row.host,
    port: row.port === null ? null : Number(row.port),
    createdAt: row.created_at,
  };
}

/** Data access for jobs and replicas. */
export class JobRepository {
  constructor(
    private readonly db: PitlaneDatabase,
    private readonly now: () => number = Date.now,
  ) {}

  /** The job version, or undefined. */
  async get(name: string, version: string): Promise<JobRecord | undefined> {
    const row = await this.db
      .selectFrom('jobs')
      .selectAll()
      .where('name', '=', name)
      .where('version', '=', version)
      .executeTakeFirst();
    return row ? toJob(row) : undefined;
  }

  /** All job versions, optionally of one name, ordered by name then deployment time. */
  async list(name?: string): Promise<JobRecord[]> {
    let query = this.db.selectFrom('jobs').selectAll().orderBy('name').orderBy('deployed_at');
    if (name) query = query.where('name', '=', name);
    return (await query.execute()).map(toJob);
  }

  /**
   * Makes `job` the serving record of its version and `replicas` its only replicas, in one
   * transaction (the switch from an old set of containers to a new one is atomic).
   * Returns the container ids of the replicas that were replaced.
   */
  async activate(
    job: Omit<JobRecord, 'updatedAt' | 'deployedAt'>,
    replicas: Omit<ReplicaRecord, 'createdAt' | 'jobName' | 'jobVersion'>[],
  ): Promise<string[]> {
    const time = new Date(this.now()).toISOString();
    return this.db.transaction().execute(async (trx) => {
      const previous = await trx
        .selectFrom('replicas')
        .select('container_id')
        .where('job_name', '=', job.name)
        .where('job_version', '=', job.version)
        .execute();
      await trx.deleteFrom('replicas').where('job_name', '=', job.name).where('job_version', '=', job.version).execute();
      await trx.deleteFrom('jobs').where('name', '=', job.name).where('version', '=', job.version).execute();
      await trx
        .insertInto('jobs')
        .values({
          name: job.name,
          version: job.version,
          status: job.status,
          status_reason: job.statusReason,
          jobtype: job.jobtype,
          manifest_json: JSON.stringify(job.manifest),
          image_id: job.imageId,
          image_tag: job.imageTag,
          deployment_id: job.deploymentId,
          container_spec_json: JSON.stringify(job.containerSpec),
          deployed_at: time,
          updated_at: time,
        })
        .execute();
      if (replicas.length > 0) {
        await trx
          .insertInto('replicas')
          .values(
            replicas.map((r) => ({
              container_id: r.containerId,
              job_name: job.name,
              job_version: job.version,
              replica_index: r.replicaIndex,
              host: r.host,
              port: r.port,
              created_at: time,
            })),
          )
          .execute();
      }
      const kept = new Set(replicas.map((r) => r.containerId));
      return previous.map((p) => p.container_id).filter((id) => !kept.has(id));
    });
  }

  /** Sets the status (and reason) of a job version. */
  async setStatus(name: string, version: string, status: JobStatus, reason: string | null): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set({ status, status_reason: reason, updated_at: new Date(this.now()).toISOString() })
      .where('name', '=', name)
      .where('version', '=', version)
      .execute();
  }

  /** Deletes a job version and its replica rows; returns the container ids that were recorded. */
  async delete(name: string, version: string): Promise<string[]> {
    return this.db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('replicas')
        .select('container_id')
        .where('job_name', '=', name)
        .where('job_version', '=', version)
        .execute();
      await trx.deleteFrom('replicas').where('job_name', '=', name).where('job_version', '=', version).execute();
      await trx.deleteFrom('jobs').where('name', '=', name).where('version', '=', version).execute();
      return rows.map((r) => r.container_id);
    });
  }

  /** Replicas of one job version, by replica index. */
  async replicas(name: string, version: string): Promise<ReplicaRecord[]> {
    const rows = await this.db
      .selectFrom('replicas')
      .selectAll()
      .where('job_name', '=', name)
      .where('job_version', '=', version)
      .orderBy('replica_index')
      .execute();
    return rows.map(toReplica);
  }

  /** Every replica of every job. */
  async allReplicas(): Promise<ReplicaRecord[]> {
    return (await this.db.selectFrom('replicas').selectAll().execute()).map(toReplica);
  }

  /** Replaces one replica's container (after it was recreated) or updates its address. */
  async updateReplica(
    containerId: string,
    change: { containerId?: string; host?: string | null; port?: number | null },
  ): Promise<void> {
    const set: Partial<ReplicasTable> = {};
    if (change.containerId !== undefined) set.container_id = change.containerId;
    if (change.host !== undefined) set.host = change.host;
    if (change.port !== undefined) set.port = change.port;
    if (Object.keys(set).length === 0) return;
    await this.db.updateTable('replicas').set(set).where('container_id', '=', containerId).execute();
  }
}
