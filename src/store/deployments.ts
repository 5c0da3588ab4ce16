/**
 * Repository of deployments, their build logs, and the table-backed queue they are claimed from.
 * A claim takes a lease (owner + expiry); a worker renews it while it works, and a deployment
 * whose lease expired (its worker died) is claimed again by any live worker.
 */
import { sql } from 'kysely';
import type { PitlaneDatabase } from './database.js';
import type { DeploymentPhase, DeploymentsTable, DeploymentStatus, SourceKind } from './schema.js';

/** A deployment row, with JSON columns decoded. */
export interface DeploymentRecord {
  id: string;
  jobName: string;
  jobVersion: string;
  status: DeploymentStatus;
  phase: DeploymentPhase;
  manifest: unknown;
  sourceKind: SourceKind;
  contextPath: string | null;
  force: boolean;
  warnings: string[];
  error: string | null;
  attempts: number;
  leaseOwner: string | null;
  imageId: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
  /** Dockerfile lint findings of the build. */
  lint: unknown[];
  /** The image report of the built image, or null before it exists. */
  imageReport: unknown;
  /** Structure-test results, or null when none were declared. */
  structureTests: unknown;
}

/** One stored build-log line. `id` increases monotonically, so readers can resume after it. */
export interface DeploymentLogLine {
  id: number;
  time: string;
  line: string;
}

function toRecord(row: DeploymentsTable): DeploymentRecord {
  return {
    id: row.id,
    jobName: row.job_name,
    jobVersion: row.job_version,
    status: row.status,
    phase: row.phase,
    manifest: JSON.parse(row.manifest_json),
    sourceKind: row.source_kind,
    contextPath: row.context_path,
    force: row.force === 1,
    warnings: JSON.parse(row.warnings_json) as string[],
    error: row.error,
    attempts: Number(row.attempts),
    leaseOwner: row.lease_owner,
    imageId: row.image_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
    lint: JSON.parse(row.lint_json ?? '[]') as unknown[],
    imageReport: row.image_report_json ? JSON.parse(row.image_report_json) : null,
    structureTests: row.structure_tests_json ? JSON.parse(row.structure_tests_json) : null,
  };
}

/** Data access for deployments. All methods are atomic single statements or transactions. */
export class DeploymentRepository {
  /** @param db the open database; @param now clock, injectable for tests (ms since epoch). */
  constructor(
    private readonly db: PitlaneDatabase,
    private readonly now: () => number = Date.now,
  ) {}

  /** Inserts a new queued deployment. The row is durable when the promise resolves. */
  async create(input: {
    id: string;
    jobName: string;
    jobVersion: string;
    manifest: unknown;
    sourceKind: SourceKind;
    contextPath: string | null;
    force: boolean;
    warnings: string[];
  }): Promise<DeploymentRecord> {
    const time = new Date(this.now()).toISOString();
    const row: DeploymentsTable = {
      id: input.id,
      job_name: input.jobName,
      job_version: input.jobVersion,
      status: 'queued',
      phase: 'queued',
      manifest_json: JSON.stringify(input.manifest),
      source_kind: input.sourceKind,
      context_path: input.contextPath,
      force: input.force ? 1 : 0,
      warnings_json: JSON.stringify(input.warnings),
      error: null,
      attempts: 0,
      lease_owner: null,
      lease_expires_ms: null,
      image_id: null,
      created_at: time,
      updated_at: time,
      finished_at: null,
      lint_json: '[]',
      image_report_json: null,
      structure_tests_json: null,
    };
    await this.db.insertInto('deployments').values(row).execute();
    return toRecord(row);
  }

  /** The deployment with this id, or undefined. */
  async get(id: string): Promise<DeploymentRecord | undefined> {
    const row = await this.db.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  /** Deployments, newest first; optionally only those of one job name and/or status. */
  async list(filter: { jobName?: string; status?: DeploymentStatus; limit?: number } = {}): Promise<DeploymentRecord[]> {
    let query = this.db.selectFrom('deployments').selectAll().orderBy('created_at', 'desc').limit(filter.limit ?? 100);
    if (filter.jobName) query = query.where('job_name', '=', filter.jobName);
    if (filter.status) query = query.where('status', '=', filter.status);
    return (await query.execute()).map(toRecord);
  }

  /** A queued or running deployment of this job version, if any. */
  async findActive(jobName: string, jobVersion: string): Promise<DeploymentRecord | undefined> {
    const row = await this.db
      .selectFrom('deployments')
      .selectAll()
      .where('job_name', '=', jobName)
      .where('job_version', '=', jobVersion)
      .where('status', 'in', ['queued', 'running'])
      .executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  /**
   * Claims the oldest claimable deployment for `owner`: a queued one, or a running one whose lease
   * expired (its worker died). Increments `attempts`. Returns undefined when there is nothing to do.
   * @param leaseMs lease length in milliseconds.
   */
  async claimNext(owner: string, leaseMs: number): Promise<DeploymentRecord | undefined> {
    const now = this.now();
    const candidate = this.db
      .selectFrom('deployments')
      .select('id')
      .where((eb) =>
        eb.or([eb('status', '=', 'queued'), eb.and([eb('status', '=', 'running'), eb('lease_expires_ms', '<', now)])]),
      )
      .orderBy('created_at')
      .limit(1);
    const row = await this.db
      .updateTable('deployments')
      .set({
        status: 'running',
        lease_owner: owner,
        lease_expires_ms: now + leaseMs,
        attempts: sql<number>`attempts + 1`,
        updated_at: new Date(now).toISOString(),
      })
      .where('id', '=', candidate)
      .where((eb) =>
        eb.or([eb('status', '=', 'queued'), eb.and([eb('status', '=', 'running'), eb('lease_expires_ms', '<', now)])]),
      )
      .returningAll()
      .executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  /** Extends the lease; returns false when `owner` no longer holds it (another worker took over). */
  async renewLease(id: string, owner: string, leaseMs: number): Promise<boolean> {
    const result = await this.db
      .updateTable('deployments')
      .set({ lease_expires_ms: this.now() + leaseMs })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Records the phase a worker is about to start (written before the work it starts). */
  async setPhase(id: string, phase: DeploymentPhase): Promise<void> {
    await this.db
      .updateTable('deployments')
      .set({ phase, updated_at: new Date(this.now()).toISOString() })
      .where('id', '=', id)
      .execute();
  }

  /** Adds warnings to the deployment (kept in order, duplicates dropped). */
  async addWarnings(id: string, warnings: string[]): Promise<void> {
    if (warnings.length === 0) return;
    const current = await this.get(id);
    if (!current) return;
    const merged = [...current.warnings];
    for (const warning of warnings) if (!merged.includes(warning)) merged.push(warning);
    await this.db.updateTable('deployments').set({ warnings_json: JSON.stringify(merged) }).where('id', '=', id).execute();
  }

  /** Stores the checks of the build: lint findings, image report, structure-test results (each when given). */
  async setChecks(id: string, checks: { lint?: unknown[]; imageReport?: unknown; structureTests?: unknown }): Promise<void> {
    const set: Partial<DeploymentsTable> = {};
    if (checks.lint !== undefined) set.lint_json = JSON.stringify(checks.lint);
    if (checks.imageReport !== undefined) set.image_report_json = JSON.stringify(checks.imageReport);
    if (checks.structureTests !== undefined) set.structure_tests_json = JSON.stringify(checks.structureTests);
    if (Object.keys(set).length > 0) await this.db.updateTable('deployments').set(set).where('id', '=', id).execute();
  }

  /** Stores the image id the build produced. */
  async setImage(id: string, imageId: string): Promise<void> {
    await this.db.updateTable('deployments').set({ image_id: imageId }).where('id', '=', id).execute();
  }

  /** Ends the deployment `done` or `failed` (with `error`) and releases its lease. */
  async finish(id: string, outcome: { status: 'done' } | { status: 'failed'; error: string }): Promise<void> {
    const time = new Date(this.now()).toISOString();
    await this.db
      .updateTable('deployments')
      .set({
        status: outcome.status,
        phase: outcome.status,
        error: outcome.status === 'failed' ? outcome.error : null,
        lease_owner: null,
        lease_expires_ms: null,
        updated_at: time,
        finished_at: time,
      })
      .where('id', '=', id)
      .execute();
  }

  /** Appends build-log lines (one transaction). */
  async appendLogs(id: string, lines: string[]): Promise<void> {
    if (lines.length === 0) return;
    const time = new Date(this.now()).toISOString();
    await this.db
      .insertInto('deployment_logs')
      .values(lines.map((line) => ({ deployment_id: id, time, line })))
      .execute();
  }

  /** Stored build-log lines after line id `afterId` (0 for all), oldest first, at most `limit`. */
  async logs(id: string, afterId = 0, limit = 10_000): Promise<DeploymentLogLine[]> {
    return this.db
      .selectFrom('deployment_logs')
      .select(['id', 'time', 'line'])
      .where('deployment_id', '=', id)
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(limit)
      .execute();
  }
}
