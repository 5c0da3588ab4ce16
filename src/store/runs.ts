/**
 * Repository of one-shot runs, their logs, and the table-backed queue they are claimed from.
 * Queued runs are claimed in submission order; a run whose worker died (lease expired) while it
 * was building or running is claimed again so its container can be re-attached or its state settled.
 */
import { sql } from 'kysely';
import type { PitlaneDatabase } from './database.js';
import type { RunsTable, RunStatus } from './schema.js';

/** Terminal run statuses. */
export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled', 'timed_out'];

/** A run row with JSON columns decoded. */
export interface RunRecord {
  id: string;
  status: RunStatus;
  spec: unknown;
  contextPath: string | null;
  imageId: string | null;
  containerId: string | null;
  exitCode: number | null;
  error: string | null;
  lint: unknown[];
  results: unknown[];
  cancelRequested: boolean;
  attempts: number;
  createdAt: string;
  /** Who submitted the run (`user:alice`), null for runs recorded before identities existed. */
  createdBy: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  updatedAt: string;
}

/** One stored log line of a run. */
export interface RunLogLine {
  id: number;
  stream: string;
  time: string;
  line: string;
}

function toRecord(row: RunsTable): RunRecord {
  return {
    id: row.id,
    status: row.status,
    spec: JSON.parse(row.spec_json),
    contextPath: row.context_path,
    imageId: row.image_id,
    containerId: row.container_id,
    exitCode: row.exit_code === null ? null : Number(row.exit_code),
    error: row.error,
    lint: JSON.parse(row.lint_json) as unknown[],
    results: JSON.parse(row.results_json) as unknown[],
    cancelRequested: Number(row.cancel_requested) === 1,
    attempts: Number(row.attempts),
    createdAt: row.created_at,
    createdBy: row.created_by,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    updatedAt: row.updated_at,
  };
}

export class RunRepository {
  constructor(
    private readonly db: PitlaneDatabase,
    private readonly now: () => number = Date.now,
  ) {}

  private iso(): string {
    return new Date(this.now()).toISOString();
  }

  /** Inserts a queued run (durable when the promise resolves). */
  async create(input: { id: string; spec: unknown; contextPath: string | null; lint?: unknown[]; createdBy?: string }): Promise<RunRecord> {
    const time = this.iso();
    const row: RunsTable = {
      id: input.id,
      status: 'queued',
      spec_json: JSON.stringify(input.spec),
      created_by: input.createdBy ?? null,
      context_path: input.contextPath,
      image_id: null,
      container_id: null,
      exit_code: null,
      error: null,
      lint_json: JSON.stringify(input.lint ?? []),
      results_json: '[]',
      cancel_requested: 0,
      attempts: 0,
      lease_owner: null,
      lease_expires_ms: null,
      created_at: time,
      started_at: null,
      finished_at: null,
      updated_at: time,
    };
    await this.db.insertInto('runs').values(row).execute();
    return toRecord(row);
  }

  /** The run, or undefined. */
  async get(id: string): Promise<RunRecord | undefined> {
    const row = await this.db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  /** Runs newest first, optionally of one status, with offset pagination; also the total count. */
  async list(filter: { status?: RunStatus; createdBy?: string; limit: number; offset: number }): Promise<{ runs: RunRecord[]; total: number }> {
    let query = this.db.selectFrom('runs');
    if (filter.status) query = query.where('status', '=', filter.status);
    if (filter.createdBy) query = query.where('created_by', '=', filter.createdBy);
    const rows = await query.selectAll().orderBy('created_at', 'desc').orderBy('id').limit(filter.limit).offset(filter.offset).execute();
    const count = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    return { runs: rows.map(toRecord), total: Number(count?.n ?? 0) };
  }

  /**
   * Claims the oldest queued run nobody holds, or a run (queued, building or running) whose lease
   * expired, for `owner`. The status is left as it is: the executor moves it on.
   * @param leaseMs lease length in milliseconds.
   */
  async claimNext(owner: string, leaseMs: number): Promise<RunRecord | undefined> {
    const now = this.now();
    const claimable = (eb: any) =>
      eb.or([
        eb.and([eb('status', '=', 'queued'), eb.or([eb('lease_expires_ms', 'is', null), eb('lease_expires_ms', '<', now)])]),
        eb.and([eb('status', 'in', ['building', 'running']), eb('lease_expires_ms', '<', now)]),
      ]);
    const candidate = this.db.selectFrom('runs').select('id').where(claimable).orderBy('created_at').orderBy('id').limit(1);
    const row = await this.db
      .updateTable('runs')
      .set({ lease_owner: owner, lease_expires_ms: now + leaseMs, attempts: sql<number>`attempts + 1`, updated_at: new Date(now).toISOString() })
      .where('id', '=', candidate)
      .where(claimable)
      .returningAll()
      .executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  /** Extends the lease; false when `owner` no longer holds it. */
  async renewLease(id: string, owner: string, leaseMs: number): Promise<boolean> {
    const result = await this.db
      .updateTable('runs')
      .set({ lease_expires_ms: this.now() + leaseMs })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .where('status', 'not in', TERMINAL_RUN_STATUSES as RunStatus[])
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Moves a run to `building` or `running` (with its start time for `running`). */
  async setStatus(id: string, status: 'building' | 'running'): Promise<void> {
    const time = this.iso();
    await this.db
      .updateTable('runs')
      .set(status === 'running' ? { status, started_at: time, updated_at: time } : { status, updated_at: time })
      .where('id', '=', id)
      .execute();
  }

  /** Records fields learnt while the run proceeds. */
  async update(id: string, change: { imageId?: string; containerId?: string | null; lint?: unknown[] }): Promise<void> {
    const set: Partial<RunsTable> = { updated_at: this.iso() };
    if (change.imageId !== undefined) set.image_id = change.imageId;
    if (change.containerId !== undefined) set.container_id = change.containerId;
    if (change.lint !== undefined) set.lint_json = JSON.stringify(change.lint);
    await this.db.updateTable('runs').set(set).where('id', '=', id).execute();
  }

  /** Ends a run with a terminal status; releases the lease. Ignored if it already ended. */
  async finish(
    id: string,
    outcome: { status: 'succeeded' | 'failed' | 'cancelled' | 'timed_out'; exitCode: number | null; error: string | null; results: unknown[] },
  ): Promise<void> {
    const time = this.iso();
    await this.db
      .updateTable('runs')
      .set({
        status: outcome.status,
        exit_code: outcome.exitCode,
        error: outcome.error,
        results_json: JSON.stringify(outcome.results),
        lease_owner: null,
        lease_expires_ms: null,
        finished_at: time,
        updated_at: time,
      })
      .where('id', '=', id)
      .where('status', 'not in', TERMINAL_RUN_STATUSES as RunStatus[])
      .execute();
  }

  /**
   * Asks for a run to be cancelled. A queued run is cancelled at once (returns `cancelled`);
   * a building or running one is flagged for its worker (returns `requested`); a finished one is left alone.
   */
  async requestCancel(id: string): Promise<'cancelled' | 'requested' | 'finished' | 'missing'> {
    const time = this.iso();
    const queued = await this.db
      .updateTable('runs')
      .set({ status: 'cancelled', cancel_requested: 1, finished_at: time, updated_at: time, error: 'cancelled before it started' })
      .where('id', '=', id)
      .where('status', '=', 'queued')
      .executeTakeFirst();
    if (Number(queued.numUpdatedRows) === 1) return 'cancelled';
    const active = await this.db
      .updateTable('runs')
      .set({ cancel_requested: 1, updated_at: time })
      .where('id', '=', id)
      .where('status', 'in', ['building', 'running'])
      .executeTakeFirst();
    if (Number(active.numUpdatedRows) === 1) return 'requested';
    return (await this.get(id)) ? 'finished' : 'missing';
  }

  /** True when cancellation was asked for. */
  async isCancelRequested(id: string): Promise<boolean> {
    const row = await this.db.selectFrom('runs').select('cancel_requested').where('id', '=', id).executeTakeFirst();
    return Number(row?.cancel_requested ?? 0) === 1;
  }

  /** Appends log lines (one transaction). */
  async appendLogs(id: string, lines: { stream: string; time: string; line: string }[]): Promise<void> {
    if (lines.length === 0) return;
    for (let start = 0; start < lines.length; start += 500) {
      await this.db
        .insertInto('run_logs')
        .values(lines.slice(start, start + 500).map((l) => ({ run_id: id, stream: l.stream, time: l.time, line: l.line })))
        .execute();
    }
  }

  /** Log lines after line id `afterId`, oldest first. */
  async logs(id: string, afterId = 0, limit = 10_000): Promise<RunLogLine[]> {
    return this.db
      .selectFrom('run_logs')
      .select(['id', 'stream', 'time', 'line'])
      .where('run_id', '=', id)
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(limit)
      .execute();
  }

  /** Time of the last stored container output line (stdout/stderr), to resume log capture after it. */
  async lastOutputTime(id: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('run_logs')
      .select('time')
      .where('run_id', '=', id)
      .where('stream', 'in', ['stdout', 'stderr'])
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row?.time;
  }
}
