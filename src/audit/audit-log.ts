/**
 * The audit log: who changed what, when. Written for deploys, deletes, grants, token, user,
 * service-account, public-endpoint and secret changes, and logins. Entries never hold secret values
 * or tokens (only token ids and prefixes).
 */
import type { PitlaneDatabase } from '../store/database.js';

/** What is recorded for one action. */
export interface AuditEntryInput {
  /** Who did it: `user:alice`, `service_account:ci`, `job:adder@1.0.0`, or `system`. */
  actor: string;
  /** Dotted action name, e.g. `deploy.create`, `job.delete`, `permission.grant`, `secret.set`. */
  action: string;
  /** What it was done to, e.g. `job:adder@1.0.0`, `user:bob`, `token:tok_ab12`, `secret:adder/DB_PASSWORD`. */
  target: string;
  /** Extra facts (never secret values). */
  details?: Record<string, unknown>;
  /** The request's X-Request-Id, when the action came from an API call. */
  requestId?: string;
  /** The caller's address, when known. */
  ip?: string;
}

/** One stored audit entry. `time` is ISO 8601 UTC. */
export interface AuditEntry extends Required<Omit<AuditEntryInput, 'requestId' | 'ip'>> {
  id: number;
  time: string;
  requestId: string | null;
  ip: string | null;
}

/** Filters for {@link AuditLog.list}. */
export interface AuditQuery {
  actor?: string;
  action?: string;
  /** Prefix match on target, e.g. `job:adder`. */
  target?: string;
  /** Only entries with id below this (pagination cursor). */
  before?: number;
  /** At most this many (1–1000, default 100). */
  limit?: number;
}

/** Records and reads audit entries. */
export interface AuditRecorder {
  /** Stores one entry durably before returning. */
  record(entry: AuditEntryInput): Promise<void>;
}

/** The SQL-backed audit log (table `audit_log`, migration 0004). */
export class AuditLog implements AuditRecorder {
  constructor(private readonly db: PitlaneDatabase) {}

  async record(entry: AuditEntryInput): Promise<void> {
    await this.db
      .insertInto('audit_log')
      .values({
        time: new Date().toISOString(),
        actor: entry.actor,
        action: entry.action,
        target: entry.target,
        details_json: JSON.stringify(entry.details ?? {}),
        request_id: entry.requestId ?? null,
        ip: entry.ip ?? null,
      })
      .execute();
  }

  /** Newest first. */
  async list(query: AuditQuery = {}): Promise<AuditEntry[]> {
    let select = this.db.selectFrom('audit_log').selectAll();
    if (query.actor) select = select.where('actor', '=', query.actor);
    if (query.action) select = select.where('action', '=', query.action);
    if (query.target) select = select.where('target', 'like', `${query.target.replace(/[%_\\]/g, '\\$&')}%`);
    if (query.before !== undefined) select = select.where('id', '<', query.before);
    const limit = Math.min(Math.max(query.limit ?? 100, 1), 1000);
    const rows = await select.orderBy('id', 'desc').limit(limit).execute();
    return rows.map((row) => ({
      id: Number(row.id),
      time: row.time,
      actor: row.actor,
      action: row.action,
      target: row.target,
      details: JSON.parse(row.details_json) as Record<string, unknown>,
      requestId: row.request_id,
      ip: row.ip,
    }));
  }
}
